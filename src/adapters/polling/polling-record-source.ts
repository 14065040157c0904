import { Observable, type Subscriber } from 'rxjs';
import { LeaseLostError, ShardlineError, SourceError, StartupError } from '../../core/errors';
import { createLogger, type Logger } from '../../core/logger';
import { type EventOutcome, type ShardEvent } from '../../core/shard-event';
import { type CheckpointSentinel, type StoredShard } from '../../checkpoint-stores/checkpoint-store';
import { DynamoDbCheckpointStore } from '../../checkpoint-stores/dynamodb-checkpoint-store';
import { type Lease } from '../../leases/lease';
import { type LeaseLoss } from '../../leases/lease-coordinator-options';
import { type MetricsRecorder } from '../../metrics/metrics-recorder';
import { type RecordSource } from '../record-source';
import { KinesisCalls, type KinesisCallsOptions } from './kinesis-calls';
import { LeasedShardAssignment } from './leased-shard-assignment';
import { DEFAULT_MAX_BUFFERED_BYTES, MemoryBudget } from './memory-budget';
import { type PollingRecordSourceOptions } from './polling-options';
import { RunTimers } from './run-timers';
import { parentsDone, startsAtTrimHorizon, type DiscoveredShard } from './shard-lineage';
import { ShardReader, type ReaderHost, type ShardState } from './shard-reader';

export { type PollingLeaseOptions, type PollingRecordSourceOptions } from './polling-options';

const KINESIS_MAX_RECORDS = 10_000;

/**
 * Reads every shard of a stream directly with GetRecords, from one process: the polling adapter.
 *
 * - Start-up: the stream must exist and Kinesis must answer within `startupTimeoutMs`, or the source fails with one
 *   `StartupError` naming the stream and the endpoint.
 * - Discovery: ListShards (with paging) at start and every `shardSyncIntervalMs`, plus the `ChildShards` a finished
 *   shard returns. One reader per shard, each pacing itself: `minPollIntervalMs` between calls while behind,
 *   `idlePollIntervalMs` when caught up.
 * - Resharding: a child starts only once every parent was read to its end and `SHARD_END` was stored; a child
 *   without a checkpoint starts at TRIM_HORIZON. Parents that are no longer listed (expired) do not hold children back.
 * - Positions: resumes at the stored checkpoint (AT_SEQUENCE_NUMBER, skipping what was processed, so a checkpoint
 *   inside a KPL aggregate resumes at the next user record); otherwise at the initial position.
 * - Failures: throttling, KMS throttling, 5xx and network errors are retried with capped exponential backoff and
 *   jitter (and logged, at most once per shard and operation every `retryWarnIntervalMs`); an expired iterator is
 *   reopened after the last processed record; a vanished shard ends its reader with an error in the log (its consumer
 *   sees a lost lease); a deleted stream fails the source.
 * - Checkpoint failures: a write is retried `checkpointAttempts` times; a shard that still cannot checkpoint gets a
 *   `leaseLost` event (so nothing more is checkpointed past it), is released, and is reopened from its stored
 *   checkpoint after a backoff. A lease taken by another worker is not retried: the shard is given up.
 * - Fleet: with a `DynamoDbCheckpointStore`, many processes share the stream. A {@link LeaseCoordinator} on the same
 *   table (a {@link LeasedShardAssignment}) renews this process's leases, takes its fair share of the others (expired
 *   ones at once, live ones by one steal per scan) and decides which shards it reads; a lease it loses stops its reader
 *   at once (`@OnLeaseLost`, nothing more checkpointed), and {@link close} releases every lease after the final
 *   checkpoints so that the others take them at their next scan. A running Java KCL on the table fails the source
 *   with one line (`LeaseConflictError`). The file and memory stores keep to one process.
 *
 * Backpressure: a shard's next GetRecords is made only after the runtime acknowledged the previous batch, and only
 * when the process-wide memory budget (`maxBufferedBytes`, or a {@link MemoryBudget} shared by several sources) has
 * room; its `Limit` is shaped so that the records read and not yet acknowledged, across shards, stay within it.
 */
export class PollingRecordSource implements RecordSource {
  readonly name: string;
  private run: PollingRun | undefined;
  private readonly budget: MemoryBudget;

  constructor(private readonly options: PollingRecordSourceOptions) {
    this.name = options.sourceName ?? 'polling';
    this.budget = options.memoryBudget ?? new MemoryBudget(options.maxBufferedBytes ?? DEFAULT_MAX_BUFFERED_BYTES);
  }

  /** The memory budget the source's shards share (with other sources, when it was given as `memoryBudget`). */
  get memoryBudget(): MemoryBudget {
    return this.budget;
  }

  /** Bytes of records read and not yet acknowledged (or reserved for calls in flight), across the budget's shards. @internal */
  get bufferedBytes(): number {
    return this.budget.bufferedBytes;
  }

  /** The largest {@link bufferedBytes} seen. @internal for tests and benchmarks */
  get highWaterBytes(): number {
    return this.budget.highWaterBytes;
  }

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      if (this.run !== undefined && !this.run.stopped) {
        subscriber.error(new ShardlineError('a PollingRecordSource serves one subscriber at a time'));
        return undefined;
      }
      const run = new PollingRun(this.options, this.budget, subscriber);
      this.run = run;
      void run.start();
      return () => {
        run.stop();
        // A fleet member gives its leases back once its readers stopped (as close() does), so an app that only
        // unsubscribes leaves no coordinator renewing leases nobody reads.
        void run.finishedReading.then(() => run.assignment?.close()).catch((error: unknown) => run.logger.warn(`Releasing the leases failed: ${(error as Error).message}`));
      };
    });
  }

  /**
   * Checks, within `startupTimeoutMs`, that Kinesis answers and the stream exists (the CLI calls it before starting
   * the app, so that a misconfiguration ends with one line). Reading checks it too.
   * @throws StartupError naming the stream and the endpoint or region, and what to check.
   */
  async checkStream(): Promise<void> {
    const timers = new RunTimers();
    const calls = new KinesisCalls(callsOptions(this.options, timers, this.options.logger ?? createLogger()));
    const signal = timers.signal();
    try {
      await calls.checkStream(this.options.startupTimeoutMs ?? 30_000, signal.signal);
    } finally {
      signal.dispose();
      timers.cancelAll();
    }
  }

  /**
   * Waits for the readers to stop after unsubscribing, gives back the leases (in a fleet: releases them, so that the
   * other processes take them at their next scan) and closes the checkpoint store.
   */
  async close(): Promise<void> {
    this.run?.stop();
    await this.run?.finishedReading;
    await (this.run?.options.checkpointStore ?? this.options.checkpointStore).close();
  }
}

/** Added to the start-up timeout for opening a checkpoint store, which may create its table and wait until it is ACTIVE. */
const TABLE_CREATION_MS = 60_000;

/** The start-up failure of a checkpoint store that did not answer in time. */
function storeTimeout(description: string, waitedMs: number, what: string): StartupError {
  return new StartupError(
    `the checkpoint store ${description} ${what} within ${waitedMs} ms; check its endpoint (AWS_ENDPOINT_URL_DYNAMODB, --region) or the checkpoint folder, or raise --startup-timeout-ms`,
  );
}

function callsOptions(options: PollingRecordSourceOptions, timers: RunTimers, logger: Logger): KinesisCallsOptions {
  return {
    client: options.client,
    streamName: options.streamName,
    logger,
    timers,
    retryBaseMs: options.retryBaseMs ?? 100,
    retryCapMs: options.retryCapMs ?? 5_000,
    retryWarnIntervalMs: options.retryWarnIntervalMs ?? 10_000,
    random: options.random ?? Math.random,
    ...(options.endpointDescription === undefined ? {} : { endpointDescription: options.endpointDescription }),
    ...(options.metrics === undefined ? {} : { observe: getRecordsObserver(options.metrics.recorder, options.metrics.application, options.streamName) }),
  };
}

/** Reports GetRecords attempts (the other operations are not measured). */
function getRecordsObserver(recorder: MetricsRecorder, application: string, stream: string): NonNullable<KinesisCallsOptions['observe']> {
  return (operation, shardId, durationMs, result) => {
    if (operation === 'GetRecords' && shardId !== undefined) recorder.getRecordsCalled?.({ application, stream, shardId }, { durationMs, result });
  };
}

/** One subscription's worth of reading: discovery and scheduling; each shard is read by a {@link ShardReader}. */
class PollingRun implements ReaderHost {
  stopped = false;
  readonly finishedReading: Promise<void>;
  readonly logger: Logger;
  readonly timers = new RunTimers();
  readonly calls: KinesisCalls;
  readonly maxRecords: number;
  readonly minPollMs: number;
  readonly idlePollMs: number;
  readonly random: () => number;
  /** The options, with the lease-backed store in place of a `DynamoDbCheckpointStore`. */
  readonly options: PollingRecordSourceOptions;
  /** Set when the process is a fleet member (DynamoDB checkpoints): which shards it may read. */
  readonly assignment: LeasedShardAssignment | undefined;
  private readonly active = new Map<string, { readonly reader: ShardReader; readonly done: Promise<void> }>();
  private readonly runSignalHandle = this.timers.signal();
  private readonly shards = new Map<string, ShardState>();
  private readonly done = new Set<string>();
  private readonly readers = new Set<Promise<void>>();
  private stored = new Map<string, StoredShard>();
  private syncTimer: NodeJS.Timeout | undefined;
  private firstDiscoveryDone = false;
  private discovering: Promise<void> | undefined;
  private resolveFinished!: () => void;

  constructor(
    options: PollingRecordSourceOptions,
    readonly budget: MemoryBudget,
    private readonly subscriber: Subscriber<ShardEvent>,
  ) {
    this.logger = options.logger ?? createLogger();
    const store = options.checkpointStore;
    this.assignment = store instanceof DynamoDbCheckpointStore ? new LeasedShardAssignment(store, options.leases ?? {}, this.logger) : undefined;
    this.options = this.assignment === undefined ? options : { ...options, checkpointStore: this.assignment };
    this.maxRecords = Math.min(options.maxRecordsPerCall ?? KINESIS_MAX_RECORDS, KINESIS_MAX_RECORDS);
    this.minPollMs = options.minPollIntervalMs ?? 200;
    this.idlePollMs = options.idlePollIntervalMs ?? 1_000;
    this.random = options.random ?? Math.random;
    this.calls = new KinesisCalls(callsOptions(options, this.timers, this.logger));
    this.finishedReading = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  get runSignal(): AbortSignal {
    return this.runSignalHandle.signal;
  }

  async start(): Promise<void> {
    try {
      const startupTimeoutMs = this.options.startupTimeoutMs ?? 30_000;
      const deadline = Date.now() + startupTimeoutMs;
      await this.calls.checkStream(startupTimeoutMs, this.runSignal);
      // Each step gets the start-up timeout of its own (opening may create a lease table and wait for it to be ACTIVE:
      // a minute more), so that a store that never answers ends the start instead of holding it for ever.
      const store = this.options.checkpointStore;
      const openMs = startupTimeoutMs + TABLE_CREATION_MS;
      await this.timers.beforeDeadline(store.open(), Date.now() + openMs, () => storeTimeout(store.description, openMs, 'did not open'));
      const listed = await this.timers.beforeDeadline(store.list(), Date.now() + startupTimeoutMs, () => storeTimeout(store.description, startupTimeoutMs, 'did not list its checkpoints'));
      this.stored = new Map(listed.map((s) => [s.shardId, s]));
      for (const shard of this.stored.values()) {
        if (shard.checkpoint?.sequenceNumber === 'SHARD_END') this.done.add(shard.shardId);
      }
      this.logger.info(`Polling ${this.options.streamName} (checkpoints in ${this.options.checkpointStore.description})`);
      await this.discover(deadline);
      this.assignment?.start({
        acquired: (shardId, lease) => this.leaseAcquired(shardId, lease),
        lost: (shardId, loss) => this.leaseLost(shardId, loss),
        shutdown: (shardId) => this.active.get(shardId)?.done ?? Promise.resolve(),
        conflict: (error) => this.fail(error),
      });
      const interval = this.options.shardSyncIntervalMs ?? 30_000;
      this.syncTimer = setInterval(() => void this.discover().catch((error: unknown) => this.fail(error)), interval);
      this.syncTimer.unref();
    } catch (error) {
      this.fail(error);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    if (this.syncTimer !== undefined) clearInterval(this.syncTimer);
    this.timers.cancelAll();
    void Promise.allSettled([...this.readers]).then(() => this.resolveFinished());
  }

  emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome> {
    const stoppedOutcome = (): EventOutcome => ({ status: 'failed', error: new SourceError('the polling source stopped') });
    if (this.stopped) return Promise.resolve(stoppedOutcome());
    return this.timers.wait<EventOutcome>((settle) => {
      const event = make(settle);
      if (this.assignment !== undefined && (event.type === 'records' || event.type === 'opened') && !this.assignment.owns(event.shardId)) {
        // Past the lease's local deadline (the loss may not be reported yet): nothing read is handed over.
        const lost = new LeaseLostError(`the lease of ${event.shardId} is no longer held: not handing records over`, { shardId: event.shardId });
        this.active.get(event.shardId)?.reader.loseLease(lost);
        settle({ status: 'failed', error: lost });
        return;
      }
      this.subscriber.next(event);
    }, stoppedOutcome);
  }

  knownShardIds(): ReadonlySet<string> {
    return new Set([...this.shards.keys(), ...this.stored.keys()]);
  }

  finished(state: ShardState): void {
    state.status = 'finished';
    this.done.add(state.shard.shardId);
    this.schedule();
  }

  async shardEnded(state: ShardState, children: readonly DiscoveredShard[], log: Logger): Promise<void> {
    state.status = 'finished';
    this.done.add(state.shard.shardId);
    for (const child of children) this.addShard(child, true);
    await this.assignment
      ?.discovered(children.map((shard) => ({ shard, initialCheckpoint: 'TRIM_HORIZON' as const })))
      .catch((error: unknown) => log.warn(`Creating the leases of the children failed (${(error as Error).message}); the next shard sync creates them`));
    if (children.length === 0) await this.discover().catch((error: unknown) => log.warn(`ListShards after the shard's end failed: ${(error as Error).message}`));
    this.schedule();
  }

  async shardGone(state: ShardState, log: Logger): Promise<void> {
    state.status = 'finished';
    this.done.add(state.shard.shardId);
    // In a fleet the other workers learn it from the table: the lease is marked SHARD_END and released, so the
    // children's leases become workable everywhere (alone, a parent no longer listed does not hold its children back).
    await this.assignment
      ?.vanished(state.shard.shardId)
      .catch((error: unknown) => log.warn(`Marking the lease of the vanished shard as ended failed (${(error as Error).message}): its children wait for its lease to expire and be retried`));
    this.schedule();
  }

  schedule(listed: ReadonlySet<string> = new Set(this.shards.keys())): void {
    if (this.stopped) return;
    for (const state of this.shards.values()) {
      if (state.status !== 'waiting') continue;
      const { shardId } = state.shard;
      // In a fleet the coordinator hands out a child's lease only once its parents are at SHARD_END.
      if (this.assignment !== undefined ? !this.assignment.owns(shardId) : !parentsDone(state.shard, this.done, listed)) continue;
      state.status = 'running';
      const reader = new ShardReader(this, state);
      const done = reader.read().catch((error: unknown) => this.fail(error));
      this.active.set(shardId, { reader, done });
      this.readers.add(done);
      void done.finally(() => {
        this.readers.delete(done);
        if (this.active.get(shardId)?.reader === reader) this.active.delete(shardId);
        // The lease came back while this reader was still giving the shard up.
        if (state.status === 'lost' && this.assignment?.owns(shardId) === true) {
          state.status = 'waiting';
          this.schedule();
        }
      });
    }
  }

  /** Fleet: a lease became ours; its shard is read from the stored checkpoint. */
  private leaseAcquired(shardId: string, lease: Lease): void {
    if (this.stopped) return;
    // A shard this process has not listed yet (found by another worker): a lease created at TRIM_HORIZON is a child
    // or a shard that appeared later, which starts there whatever the initial position.
    this.addShard({ shardId, parentShardIds: lease.parentShardIds }, lease.checkpoint === 'TRIM_HORIZON');
    const state = this.shards.get(shardId);
    if (state?.status === 'lost') state.status = 'waiting';
    this.schedule();
  }

  /** Fleet: the lease is gone (taken, or not renewed before its deadline): the reader stops and the consumer gets `leaseLost`. */
  private leaseLost(shardId: string, loss: LeaseLoss): void {
    const reader = this.active.get(shardId)?.reader;
    this.logger.warn(`Lease of ${shardId} lost (${loss.reason}): ${reader === undefined ? 'it was not being read' : 'stopping its reader'}`);
    reader?.loseLease(new LeaseLostError(`the lease of ${shardId} was lost (${loss.reason})`, { shardId }));
  }

  /** The sentinel a new lease gets: `TRIM_HORIZON` for a child or a later shard, otherwise the initial position's name. */
  private initialCheckpoint(shard: DiscoveredShard, discoveredLater: boolean): CheckpointSentinel {
    if (startsAtTrimHorizon(shard, this.knownShardIds(), discoveredLater)) return 'TRIM_HORIZON';
    const initial = this.options.initialPosition ?? 'TRIM_HORIZON';
    return typeof initial === 'string' ? initial : 'AT_TIMESTAMP';
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    const failure =
      error instanceof ShardlineError ? error : new SourceError(`polling ${this.options.streamName} failed: ${(error as Error).message}`, { cause: error });
    this.stop();
    this.subscriber.error(failure);
  }

  /** Lists the stream's shards (retrying throttles; until `deadline` at start-up) and starts the ones that are ready. */
  private discover(deadline?: number): Promise<void> {
    this.discovering ??= (async () => {
      try {
        const listed = await this.calls.listShards({ signal: this.runSignal, ...(deadline === undefined ? {} : { deadline }) }, () => this.stopped);
        const later = this.firstDiscoveryDone;
        for (const shard of listed) this.addShard(shard, later);
        if (this.assignment !== undefined) {
          const leases = this.assignment.discovered(listed.map((shard) => ({ shard, initialCheckpoint: this.initialCheckpoint(shard, later) })));
          // At start a failure ends the run with one line; later, the next sync tries again.
          if (deadline !== undefined) await leases;
          else await leases.catch((error: unknown) => this.logger.warn(`Creating leases of new shards failed (${(error as Error).message}); trying at the next shard sync`));
        }
        this.firstDiscoveryDone = true;
        this.schedule(new Set(listed.map((s) => s.shardId)));
      } finally {
        this.discovering = undefined;
      }
    })();
    return this.discovering;
  }

  private addShard(shard: DiscoveredShard, discoveredLater: boolean): void {
    if (this.shards.has(shard.shardId)) return;
    this.shards.set(shard.shardId, { shard, status: this.done.has(shard.shardId) ? 'finished' : 'waiting', discoveredLater, failuresInARow: 0 });
  }
}
