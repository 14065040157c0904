import { ShardlineError } from '../core/errors';

/**
 * A KMS call or an envelope (Encryption SDK) operation failed. The message says what to check; it never contains
 * plaintext. `code` is the AWS error name when KMS answered (`NotFoundException`, `InvalidCiphertextException`, …).
 */
export class KmsError extends ShardlineError {
  /** The AWS error name (`AccessDeniedException`), or a shardline code such as `PlaintextTooLarge`. */
  readonly code: string;
  /** Whether trying again may help (throttling, a network error, a KMS internal error). */
  readonly retryable: boolean;
  constructor(message: string, options: ErrorOptions & { code?: string; retryable?: boolean } = {}) {
    super(message, options);
    this.code = options.code ?? 'KmsError';
    this.retryable = options.retryable ?? false;
  }
}
