import { lifecycleHook } from './lifecycle-hook';

/** Receives batches that failed after every retry when `errors.onFailure` is `'dead-letter'`: `(failure: FailedBatch) => void | Promise<void>`. When it returns, the batch counts as handled. */
export function OnDeadLetter(): MethodDecorator {
  return lifecycleHook('OnDeadLetter', 'deadLetter');
}
