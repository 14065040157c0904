import { ShardlineError } from '../core/errors';

/**
 * Thrown when a buffer that claims to be (or is expected to be) a KPL aggregated record
 * cannot be decoded, or when a user record cannot be encoded into one.
 *
 * The message always names what is wrong (bad magic, digest mismatch, truncated varint,
 * index out of range, ...) and, where it applies, the byte offset or record position.
 */
export class KplFormatError extends ShardlineError {}
