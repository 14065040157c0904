import { Observable, type Subscriber } from 'rxjs';
import { ShardlineError, SourceError, createLogger, type EventOutcome, type Logger, type RecordSource, type ShardEvent, type StoredShard } from 'shardline';
import { ShardReader, type ReaderHost, type ShardState } from './shard-reader';
import { type DynamoDbStreamsRecordSourceOptions } from './source-options';
import { StreamCalls, abortableSleep, toSourceError, type StreamSnapshot } from './stream-calls';

export { type DynamoDbStreamsRecordSourceOptions } from './source-options';

/** DynamoDB Streams return at most 1,000 records per GetRecords. */
const MAX_LIMIT = 1_000;
const REOPEN_CAP_MS = 60_000;

/**
 * Reads a DynamoDB table's stream as a shardline record source: every change of an item becomes one record whose data
 * is the JSON of a {@link StreamChange}.
 *
 * - Start-up: the table's LatestStreamArn (DescribeTable) or the given stream ARN must answer DescribeStream within
 *   `startupTimeoutMs`, or the source fails with one `StartupError` naming the table and the endpoint.
 * - Discovery: DescribeStream (paging with LastEvaluatedShardId) at start and every `shardSyncIntervalMs`, and again
 *   whenever a shard ends. A shard starts only once its parent was read to its end and `SHARD_END` was stored (or the
 *   parent is no longer listed, its records having expired), so an item's changes are handled in order across
 *   shard roll-overs. Shards found later, and children, start at TRIM_HORIZON.
 * - Positions: a shard resumes AFTER_SEQUENCE_NUMBER of its stored checkpoint; one without a checkpoint starts at
 *   `initialPosition`. With LATEST, shards already closed at the first start are skipped.
 * - Checkpoints: written to the given `CheckpointStore` only when the runtime asks (after the batch was handled);
 *   `SHARD_END` only after the shard's consumer finished. A shard whose checkpoints keep failing is closed as a lost
 *   lease and reopened from its stored checkpoint after a backoff.
 * - Failures: throttles, 5xx and network errors are retried with capped exponential backoff and jitter; an iterator
 *   that fails or expires is taken again after the last processed record; a shard that vanished ends with a lost lease
 *   (the others read on); any other error (access denied, validation) fails the source.
 * - End: the Observable completes once every shard was read to its end and the stream is disabled
 *   (`completeWhenDisabled`); unsubscribing stops every reader.
 */
export class DynamoDbStreamsRecordSource implements RecordSource {
  readonly name = 'dynamodb-streams';
  private run: StreamRun | undefined;

  constructor(private readonly options: DynamoDbStreamsRecordSourceOptions) {
    if (options.streamArn === undefined && (options.tableName === undefined || options.dynamoDbClient === undefined)) {
      throw new ShardlineError('DynamoDbStreamsRecordSource needs streamArn, or tableName together with dynamoDbClient');
    }
  }

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      if (this.run !== undefined && !this.run.stopped) {
        subscriber.error(new ShardlineError('a DynamoDbStreamsRecordSource serves one subscriber at a time'));
        return undefined;
      }
      const run = new StreamRun(this.options, subscriber);
      this.run = run;
      void run.start();
      return () => run.stop();
    });
  }

  /**
   * Checks, within `startupTimeoutMs`, that the table has a stream and DescribeStream answers (the CLI adapter calls it
   * before starting any consumer, so that a misconfiguration ends with one line). Reading checks it too.
   * @throws StartupError naming the table or stream and what to check.
   */
  async checkStream(): Promise<void> {
    const abort = new AbortController();
    const calls = new StreamCalls(this.options, this.options.logger ?? createLogger(), abort.signal);
    const deadline = Date.now() + (this.options.startupTimeoutMs ?? 30_000);
    try {
      await calls.describeAtStartup(await calls.resolveStreamArn(deadline), deadline);
    } finally {
      abort.abort();
    }
  }

  /** Waits for the readers to stop after unsubscribing, then closes the checkpoint store. */
  async close(): Promise<void> {
    this.run?.stop();
    await this.run?.finished;
    await this.options.checkpointStore.close();
  }
}

/** One subscription's worth of reading: discovery and scheduling; each shard is read by a {@link ShardReader}. */
class StreamRun implements ReaderHost {
  stopped = false;
  streamArn = '';
  readonly streamName: string;
  readonly logger: Logger;
  readonly calls: StreamCalls;
  readonly maxRecords: number;
  readonly idlePollMs: number;
  readonly checkpointAttempts: number;
  readonly recordData: DynamoDbStreamsRecordSourceOptions['recordData'];
  readonly finished: Promise<void>;
  private readonly abort = new AbortController();
  private readonly shards = new Map<string, ShardState>();
  private readonly readers = new Set<Promise<void>>();
  /** Acks not given yet: a stop settles them as failed, so no reader waits forever. */
  private readonly pendingAcks = new Set<(outcome: EventOutcome) => void>();
  private stored = new Map<string, StoredShard>();
  private streamStatus = 'ENABLED';
  private discovering: Promise<void> | undefined;
  private resolveFinished!: () => void;

  constructor(
    private readonly options: DynamoDbStreamsRecordSourceOptions,
    private readonly subscriber: Subscriber<ShardEvent>,
  ) {
    this.logger = options.logger ?? createLogger();
    this.calls = new StreamCalls(options, this.logger, this.abort.signal);
    this.maxRecords = Math.max(1, Math.min(options.maxRecordsPerCall ?? MAX_LIMIT, MAX_LIMIT));
    this.idlePollMs = options.idlePollIntervalMs ?? 1_000;
    this.checkpointAttempts = Math.max(1, options.checkpointAttempts ?? 5);
    this.recordData = options.recordData;
    this.streamName = options.tableName ?? tableOfStreamArn(options.streamArn ?? '') ?? options.streamArn ?? 'dynamodb-stream';
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  get signal(): AbortSignal {
    return this.abort.signal;
  }

  get store(): DynamoDbStreamsRecordSourceOptions['checkpointStore'] {
    return this.options.checkpointStore;
  }

  async start(): Promise<void> {
    try {
      const deadline = Date.now() + (this.options.startupTimeoutMs ?? 30_000);
      this.streamArn = await this.calls.resolveStreamArn(deadline);
      const snapshot = await this.calls.describeAtStartup(this.streamArn, deadline);
      await this.store.open();
      this.stored = new Map((await this.store.list()).map((s) => [s.shardId, s]));
      this.logger.info(`Reading DynamoDB stream ${this.streamArn} (checkpoints in ${this.store.description})`);
      this.addShards(snapshot, true);
      this.schedule();
      void this.syncLoop();
    } catch (error) {
      this.fail(error);
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.abort.abort();
    const stoppedOutcome: EventOutcome = { status: 'failed', error: new SourceError('the DynamoDB Streams source stopped') };
    for (const settle of [...this.pendingAcks]) settle(stoppedOutcome);
    void Promise.allSettled([...this.readers]).then(() => this.resolveFinished());
  }

  emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome> {
    if (this.stopped) return Promise.resolve({ status: 'failed', error: new SourceError('the DynamoDB Streams source stopped') });
    return new Promise((resolve) => {
      let settled = false;
      const settle = (outcome: EventOutcome): void => {
        if (settled) return;
        settled = true;
        this.pendingAcks.delete(settle);
        resolve(outcome);
      };
      this.pendingAcks.add(settle);
      this.subscriber.next(make(settle));
    });
  }

  shardDone(state: ShardState): void {
    if (state.status === 'running') state.status = 'finished';
    if (this.stopped) return;
    // A finished shard may have children DescribeStream has not shown yet.
    if (state.status === 'finished') void this.discover().catch((error: unknown) => this.fail(error));
    this.schedule();
    this.completeIfDone();
  }

  shardReleased(state: ShardState): void {
    state.status = 'backoff';
    const round = state.failuresInARow++;
    const ceiling = Math.min(REOPEN_CAP_MS, (this.options.retryBaseMs ?? 100) * 10 * 2 ** Math.min(round, 16));
    const delayMs = Math.round(ceiling / 2 + ((this.options.random ?? Math.random)() * ceiling) / 2);
    this.logger.child({ shardId: state.shard.shardId }).warn(`Shard released; reopening it from its stored checkpoint in ${delayMs} ms`);
    void abortableSleep(delayMs, this.signal)
      .then(() => {
        state.status = 'waiting';
        this.schedule();
      })
      .catch(() => undefined);
  }

  /** Starts the shards that are ready: parent finished (or no longer listed), or a checkpoint already stored. */
  private schedule(): void {
    if (this.stopped) return;
    for (const state of this.shards.values()) {
      if (state.status !== 'waiting' || !this.ready(state)) continue;
      state.status = 'running';
      const reader = new ShardReader(this, state).read().catch((error: unknown) => this.fail(error));
      this.readers.add(reader);
      void reader.finally(() => this.readers.delete(reader));
    }
  }

  private ready(state: ShardState): boolean {
    const parentId = state.shard.parentShardId;
    if (parentId === undefined) return true;
    const checkpoint = this.stored.get(state.shard.shardId)?.checkpoint?.sequenceNumber;
    // Already started in an earlier run: its parent was finished then (or skipped at LATEST).
    if (checkpoint !== undefined && /^\d+$/.test(checkpoint)) return true;
    const parent = this.shards.get(parentId);
    return parent === undefined || parent.status === 'finished';
  }

  private addShards(snapshot: StreamSnapshot, firstDiscovery: boolean): void {
    this.streamStatus = snapshot.status;
    const initial = this.options.initialPosition ?? 'TRIM_HORIZON';
    // LATEST at the first start skips history: shards already closed, with nothing stored, are not read at all.
    const skipped = new Set(
      firstDiscovery && initial === 'LATEST'
        ? snapshot.shards.filter((s) => s.endingSequenceNumber !== undefined && !this.stored.has(s.shardId)).map((s) => s.shardId)
        : [],
    );
    for (const shard of snapshot.shards) {
      if (this.shards.has(shard.shardId)) continue;
      const parent = shard.parentShardId;
      // A child whose parent is (or was) read starts at TRIM_HORIZON: any other start would lose what follows the
      // parent's end. So does every shard found after the start. The shards as first seen use the initial position.
      const parentRead = parent !== undefined && !skipped.has(parent) && (this.shards.has(parent) || this.stored.has(parent) || snapshot.shards.some((s) => s.shardId === parent));
      const initialStart = firstDiscovery && !parentRead ? initial : 'TRIM_HORIZON';
      const finished = skipped.has(shard.shardId) || this.stored.get(shard.shardId)?.checkpoint?.sequenceNumber === 'SHARD_END';
      this.shards.set(shard.shardId, { shard, status: finished ? 'finished' : 'waiting', initialStart, failuresInARow: 0 });
    }
  }

  private discover(): Promise<void> {
    this.discovering ??= (async () => {
      try {
        this.addShards(await this.calls.describeStream(this.streamArn), false);
        this.schedule();
        this.completeIfDone();
      } finally {
        this.discovering = undefined;
      }
    })();
    return this.discovering;
  }

  private async syncLoop(): Promise<void> {
    const intervalMs = this.options.shardSyncIntervalMs ?? 10_000;
    while (!this.stopped) {
      try {
        await abortableSleep(intervalMs, this.signal);
        await this.discover();
      } catch (error) {
        if (this.stopped) return;
        this.fail(error);
        return;
      }
    }
  }

  /** Completes once the stream is disabled and every shard was read to its end. */
  private completeIfDone(): void {
    if (this.stopped || this.options.completeWhenDisabled === false || this.streamStatus === 'ENABLED' || this.streamStatus === 'ENABLING') return;
    if ([...this.shards.values()].some((s) => s.status !== 'finished' && s.status !== 'stopped')) return;
    this.logger.info(`DynamoDB stream ${this.streamArn} is ${this.streamStatus} and every shard was read to its end`);
    this.stop();
    this.subscriber.complete();
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    this.stop();
    this.subscriber.error(error instanceof ShardlineError ? error : toSourceError(error, this.streamArn));
  }
}

/** `arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL` → NAME. */
export function tableOfStreamArn(streamArn: string): string | undefined {
  return /:table\/([^/]+)\/stream\//.exec(streamArn)?.[1];
}
