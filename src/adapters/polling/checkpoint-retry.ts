import { CheckpointError, LeaseLostError } from '../../core/errors';
import { backoffWithJitter } from '../../core/sleep';
import { classifyKinesisError } from './kinesis-error-kind';

/**
 * What a failed checkpoint write means:
 * - `lease-lost`: another worker took the lease (a failed conditional write): never retried;
 * - `retryable`: throttling, a 5xx or a network error: retried with capped, jittered backoff;
 * - `fatal`: anything else (access denied, a full disk): not retried here.
 */
export type CheckpointFailureKind = 'lease-lost' | 'retryable' | 'fatal';

/** Classifies an error of a {@link CheckpointStore} write (the store's `CheckpointError` carries the SDK error as `cause`). */
export function classifyCheckpointError(error: unknown): CheckpointFailureKind {
  if (error instanceof LeaseLostError) return 'lease-lost';
  const cause = error instanceof CheckpointError && error.cause !== undefined ? error.cause : error;
  if (typeof cause === 'object' && cause !== null && (cause as { name?: unknown }).name === 'ConditionalCheckFailedException') return 'lease-lost';
  const kind = classifyKinesisError(cause);
  return kind === 'throttled' || kind === 'network' ? 'retryable' : 'fatal';
}

/** Options of {@link writeWithRetry}. */
export interface CheckpointRetryOptions {
  /** Attempts in all, the first included (at least 1). */
  readonly attempts: number;
  readonly baseMs: number;
  readonly capMs: number;
  readonly random: () => number;
  /** Waits between attempts (the run's cancellable sleep). */
  readonly sleep: (ms: number) => Promise<void>;
  /** Whether to give up now (the source is stopping). */
  readonly stopped: () => boolean;
  /** Called before each retry, for a warn line. */
  readonly onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

/**
 * Runs a checkpoint write, retrying retryable failures ({@link classifyCheckpointError}) up to `attempts` times in
 * all. Throws the last error, as a `CheckpointError` (a `LeaseLostError` when the lease was lost).
 */
export async function writeWithRetry(write: () => Promise<void>, shardId: string, options: CheckpointRetryOptions): Promise<void> {
  const attempts = Math.max(1, options.attempts);
  for (let attempt = 1; ; attempt++) {
    try {
      await write();
      return;
    } catch (error) {
      const kind = classifyCheckpointError(error);
      const failure =
        kind === 'lease-lost' && !(error instanceof LeaseLostError)
          ? new LeaseLostError(`the lease of ${shardId} was taken by another worker: ${(error as Error).message}`, { cause: error, shardId })
          : error instanceof CheckpointError
            ? error
            : new CheckpointError(`checkpoint of ${shardId} failed: ${(error as Error).message}`, { cause: error, shardId });
      if (kind !== 'retryable' || attempt >= attempts || options.stopped()) throw failure;
      const delayMs = backoffWithJitter(attempt - 1, options.baseMs, options.capMs, options.random);
      options.onRetry?.(failure, attempt, delayMs);
      await options.sleep(delayMs);
      if (options.stopped()) throw failure;
    }
  }
}
