import { backoffWithJitter, sleep as realSleep } from '../core/sleep';
import { isRetryableKmsError } from './kms-error-mapping';

/** How {@link withKmsRetry} retries. */
export interface KmsRetryPolicy {
  /** Attempts, the first included. */
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  /** Waits between attempts (replaced in tests). */
  readonly sleep?: (ms: number) => Promise<void>;
}

/** Calls `fn`, retrying throttling and transient errors with capped exponential backoff and full jitter. */
export async function withKmsRetry<T>(fn: () => Promise<T>, policy: KmsRetryPolicy): Promise<T> {
  const wait = policy.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (attempt + 1 >= policy.maxAttempts || !isRetryableKmsError(error)) throw error;
      await wait(backoffWithJitter(attempt, policy.baseDelayMs, policy.maxDelayMs));
    }
  }
}
