import { classifyKinesisError } from '../polling/kinesis-error-kind';

/**
 * How the fan-out reader treats a failed SubscribeToShard (the call, or its event stream later on):
 * - `in-use`: ResourceInUseException, another subscription of this consumer is open on the shard (a previous owner's,
 *   or one not yet noticed closed), or the consumer is not ACTIVE yet: subscribe again after a backoff (AWS lets a
 *   call 5 s after the other one take over);
 * - `throttled`: LimitExceededException (more than one call per second per shard and consumer), KMS throttling,
 *   internal failures and 5xx: back off and subscribe again;
 * - `network`: the connection broke (reset, GOAWAY, HTTP/2 stream errors, the idle watchdog): subscribe again from
 *   the last acknowledged event;
 * - `not-found`: ResourceNotFoundException, the consumer was deregistered, or the shard is gone;
 * - `aborted`: the reader is stopping;
 * - `fatal`: access denied, invalid arguments, a KMS key disabled or missing: retrying will not help.
 */
export type SubscribeErrorKind = 'in-use' | 'throttled' | 'network' | 'not-found' | 'aborted' | 'fatal';

/** Classifies an error of SubscribeToShard (see {@link SubscribeErrorKind}). */
export function classifySubscribeError(error: unknown): SubscribeErrorKind {
  const e = (typeof error === 'object' && error !== null ? error : {}) as { name?: unknown; code?: unknown; message?: unknown };
  const name = typeof e.name === 'string' ? e.name : '';
  const code = typeof e.code === 'string' ? e.code : '';
  if (name === 'ResourceInUseException') return 'in-use';
  if (name === 'LimitExceededException') return 'throttled';
  if (code.startsWith('ERR_HTTP2_') || code === 'ERR_STREAM_PREMATURE_CLOSE' || name === 'IdleSubscriptionError' || name === 'EarlyEndError') return 'network';
  if (name === 'Error' && typeof e.message === 'string' && /^(aborted|Protocol error|Premature close)/i.test(e.message) && code !== 'ABORT_ERR') return 'network';
  const kind = classifyKinesisError(error);
  switch (kind) {
    case 'aborted':
    case 'throttled':
    case 'network':
    case 'not-found':
    case 'fatal':
      return kind;
    default:
      return 'network'; // an expired iterator cannot happen here; treat anything else that is odd as a broken stream
  }
}
