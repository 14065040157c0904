/** Which consumer and stream a measurement belongs to. */
export interface AppRef {
  /** The `@Consumer` applicationName. */
  readonly application: string;
  readonly stream: string;
}

/** Which shard of which consumer a measurement belongs to. */
export interface ShardRef extends AppRef {
  readonly shardId: string;
}

/** Why a shard closed in this process. */
export type ShardCloseReason = 'shardEnded' | 'leaseLost' | 'shutdownRequested';

/** The outcome of one `GetRecords` call of the polling adapter. */
export type GetRecordsResult = 'ok' | 'throttled' | 'expired_iterator' | 'error';

/** The outcome of one SubscribeToShard of enhanced fan-out (or of its event stream, when that fails later). */
export type SubscribeResult = 'ok' | 'in_use' | 'throttled' | 'network' | 'not_found' | 'error';

/**
 * Receives what shardline measures. Every method is optional, so a recorder implements only what it needs; the
 * built-in ones are {@link PrometheusMetrics} (a `/metrics` endpoint), {@link EmfMetrics} (CloudWatch Embedded
 * Metric Format lines) and {@link ShardStatusBoard} (the status page and `/readyz`). Methods are called on the hot
 * path once per batch or call, never per record, and must not throw or block.
 */
export interface MetricsRecorder {
  /** A consumer started reading (`source`: the adapter's name). */
  applicationStarted?(app: AppRef, source: string): void;
  /** A consumer is stopping gracefully: it no longer takes work. */
  applicationStopping?(app: AppRef): void;
  /** A shard was leased and its consumer instance initialized. */
  shardOpened?(shard: ShardRef): void;
  /** A shard closed normally. */
  shardClosed?(shard: ShardRef, reason: ShardCloseReason): void;
  /** A shard stopped: its handler or a hook failed past the error policy; it is not read again in this process. */
  shardStopped?(shard: ShardRef, error: Error): void;
  /** A batch arrived from the adapter. */
  batchReceived?(shard: ShardRef, batch: { readonly records: number; readonly bytes: number; readonly millisBehindLatest?: number }): void;
  /** The adapter learned how far behind a shard is without delivering records (an empty GetRecords page). */
  lagObserved?(shard: ShardRef, millisBehindLatest: number): void;
  /** The runtime finished a batch (handler, retries, error policy and checkpoint), `ok` false when the shard stopped on it. */
  batchHandled?(shard: ShardRef, result: { readonly durationMs: number; readonly ok: boolean }): void;
  /** A handler attempt failed and the batch (or its failed records) will be tried again. */
  handlerRetried?(shard: ShardRef): void;
  /** Records the error policy skipped (`onFailure: 'skip'`, or undecodable records). */
  recordsSkipped?(shard: ShardRef, count: number): void;
  /** Records handed to `@OnDeadLetter`. */
  recordsDeadLettered?(shard: ShardRef, count: number): void;
  /** A checkpoint write finished. `position` is the formatted position written. */
  checkpointWritten?(shard: ShardRef, result: { readonly durationMs: number; readonly ok: boolean; readonly position: string }): void;
  /** An error was reported (its class name is its kind; the message is already masked). */
  errorReported?(app: AppRef, shardId: string | undefined, error: Error): void;
  /** The polling adapter made a `GetRecords` call. */
  getRecordsCalled?(shard: ShardRef, result: { readonly durationMs: number; readonly result: GetRecordsResult }): void;
  /** Enhanced fan-out subscribed to a shard (`ok`), or a subscription failed, at the call or later in its stream. */
  subscribeToShardCalled?(shard: ShardRef, result: { readonly result: SubscribeResult }): void;
}

/** Calls every recorder in turn; one failing recorder does not stop the others (its error is swallowed). */
export function combineRecorders(recorders: readonly MetricsRecorder[]): MetricsRecorder {
  const call = <K extends keyof MetricsRecorder>(method: K, args: Parameters<NonNullable<MetricsRecorder[K]>>): void => {
    for (const recorder of recorders) {
      const fn = recorder[method] as ((...a: unknown[]) => void) | undefined;
      if (fn === undefined) continue;
      try {
        fn.apply(recorder, args);
      } catch {
        // A metrics sink must never break record processing.
      }
    }
  };
  return {
    applicationStarted: (...args) => call('applicationStarted', args),
    applicationStopping: (...args) => call('applicationStopping', args),
    shardOpened: (...args) => call('shardOpened', args),
    shardClosed: (...args) => call('shardClosed', args),
    shardStopped: (...args) => call('shardStopped', args),
    batchReceived: (...args) => call('batchReceived', args),
    lagObserved: (...args) => call('lagObserved', args),
    batchHandled: (...args) => call('batchHandled', args),
    handlerRetried: (...args) => call('handlerRetried', args),
    recordsSkipped: (...args) => call('recordsSkipped', args),
    recordsDeadLettered: (...args) => call('recordsDeadLettered', args),
    checkpointWritten: (...args) => call('checkpointWritten', args),
    errorReported: (...args) => call('errorReported', args),
    getRecordsCalled: (...args) => call('getRecordsCalled', args),
    subscribeToShardCalled: (...args) => call('subscribeToShardCalled', args),
  };
}
