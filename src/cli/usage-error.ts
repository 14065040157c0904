import { ConfigurationError } from '../core/errors';

/** A command-line value that cannot work (a port in use, an option the adapter cannot honour): one line, exit 2. */
export class UsageError extends ConfigurationError {}
