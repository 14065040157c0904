/**
 * How the polling adapter treats a failed Kinesis call:
 * - `throttled`: over a limit (ProvisionedThroughputExceeded, LimitExceeded, KMS throttling) or a 5xx: retry with
 *   capped exponential backoff and jitter;
 * - `network`: the call did not complete (reset, timeout, refused): retry the same way;
 * - `expired-iterator`: the shard iterator is older than 5 minutes: get a new one from the last processed record;
 * - `not-found`: the stream or the shard is gone;
 * - `aborted`: the source is stopping;
 * - `fatal`: anything else (access denied, bad arguments): retrying will not help.
 */
export type KinesisErrorKind = 'throttled' | 'network' | 'expired-iterator' | 'not-found' | 'aborted' | 'fatal';

const THROTTLING_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'LimitExceededException',
  'KMSThrottlingException',
  'ThrottlingException',
  'Throttling',
  'ThrottledException',
  'RequestLimitExceeded',
  'TooManyRequestsException',
  'InternalFailure',
  'InternalFailureException',
  'InternalServerError',
  'ServiceUnavailable',
  'ServiceUnavailableException',
]);

const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ECONNABORTED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_HTTP2_ERROR']);

/** Classifies an error thrown by an SDK call (see {@link KinesisErrorKind}). */
export function classifyKinesisError(error: unknown): KinesisErrorKind {
  if (typeof error !== 'object' || error === null) return 'fatal';
  const e = error as { name?: unknown; code?: unknown; message?: unknown; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  if (name === 'AbortError') return 'aborted';
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  if (name === 'ResourceNotFoundException') return 'not-found';
  if (THROTTLING_NAMES.has(name)) return 'throttled';
  const status = e.$metadata?.httpStatusCode;
  if (typeof status === 'number' && status >= 500) return 'throttled';
  if (typeof e.code === 'string' && NETWORK_CODES.has(e.code)) return 'network';
  if (name === 'TimeoutError' || name === 'RequestTimeout' || name === 'RequestTimeoutException') return 'network';
  const message = typeof e.message === 'string' ? e.message : '';
  if (/socket hang up|ECONNRESET|ECONNREFUSED|ETIMEDOUT|network/i.test(message)) return 'network';
  return 'fatal';
}
