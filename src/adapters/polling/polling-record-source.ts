import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetRecordsCommandOutput,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type ListShardsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { Observable, type Subscriber } from 'rxjs';
import { comparePositions, formatPosition, type CheckpointPosition } from '../../core/checkpoint-position';
import { type Checkpointer } from '../../core/checkpointer';
import { type InitialPosition } from '../../core/consumer-options';
import { CheckpointError, ShardlineError, SourceError } from '../../core/errors';
import { createLogger, type Logger } from '../../core/logger';
import { type EventOutcome, type ShardEvent } from '../../core/shard-event';
import { backoffWithJitter } from '../../core/sleep';
import {
  isCheckpointSentinel,
  SHARD_END_CHECKPOINT,
  type CheckpointSentinel,
  type CheckpointStore,
  type StoredShard,
} from '../../checkpoint-stores/checkpoint-store';
import { type RecordSource } from '../record-source';
import { classifyKinesisError } from './kinesis-error-kind';
import { getRecordsRaw } from './get-records-raw';
import { toKinesisRecords, type WireRecord } from './record-converter';
import { parentsDone, startsAtTrimHorizon, type DiscoveredShard } from './shard-lineage';

/** Options of {@link PollingRecordSource}. */
export interface PollingRecordSourceOptions {
  /** The stream's name or ARN. */
  readonly streamName: string;
  /** A Kinesis client; make one with `createKinesisClient({ region, endpoint })`. */
  readonly client: KinesisClient;
  /** Where checkpoints are kept (file or DynamoDB). The source opens it on subscribe and closes it in {@link PollingRecordSource.close}. */
  readonly checkpointStore: CheckpointStore;
  /** Where a shard without checkpoint starts (children of a resharding always start at TRIM_HORIZON). Default TRIM_HORIZON. */
  readonly initialPosition?: InitialPosition;
  readonly logger?: Logger;
  /** GetRecords `Limit`, at most 10,000. Default 10,000. */
  readonly maxRecordsPerCall?: number;
  /** Least time between two GetRecords calls of a shard that is behind (Kinesis allows 5 per second). Default 200. */
  readonly minPollIntervalMs?: number;
  /** Time between two GetRecords calls of a shard that is caught up (an empty page, or 0 ms behind). Default 1,000. */
  readonly idlePollIntervalMs?: number;
  /** How often ListShards looks for new shards (children are also found from `ChildShards` at a shard's end). Default 30,000. */
  readonly shardSyncIntervalMs?: number;
  /** First backoff delay after a throttled or failed call; doubles each time, with full jitter. Default 100. */
  readonly retryBaseMs?: number;
  /** Upper bound of a backoff delay. Default 5,000. */
  readonly retryCapMs?: number;
  /** Split KPL aggregated records into user records. Default true. */
  readonly deaggregate?: boolean;
  /**
   * Parse GetRecords records from the response body directly, leaving payloads as base64 text until a handler reads
   * them (skips the SDK's per-record base64 validation and decoding). Default true; false uses the SDK's records.
   */
  readonly rawRecordParsing?: boolean;
  /** Random numbers for the jitter (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}

interface ShardState {
  readonly shard: DiscoveredShard;
  status: 'waiting' | 'running' | 'finished';
  discoveredLater: boolean;
}

type StartSpec =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AT_SEQUENCE_NUMBER'; readonly position: CheckpointPosition };

const KINESIS_MAX_RECORDS = 10_000;

/**
 * Reads every shard of a stream directly with GetRecords, from one process: the polling adapter.
 *
 * - Discovery: ListShards (with paging) at start and every `shardSyncIntervalMs`, plus the `ChildShards` a finished
 *   shard returns. One reader per shard, each pacing itself: `minPollIntervalMs` between calls while behind,
 *   `idlePollIntervalMs` when caught up.
 * - Resharding: a child starts only once every parent was read to its end and `SHARD_END` was stored; a child
 *   without a checkpoint starts at TRIM_HORIZON. Parents that are no longer listed (expired) do not hold children back.
 * - Positions: resumes at the stored checkpoint (AT_SEQUENCE_NUMBER, skipping what was processed, so a checkpoint
 *   inside a KPL aggregate resumes at the next user record); otherwise at the initial position.
 * - Failures: throttling, KMS throttling, 5xx and network errors are retried with capped exponential backoff and
 *   jitter; an expired iterator is reopened after the last processed record; a vanished shard ends its reader with an
 *   error in the log (its consumer sees a lost lease); a deleted stream fails the source.
 *
 * Backpressure: a shard's next GetRecords is made only after the runtime acknowledged the previous batch.
 */
export class PollingRecordSource implements RecordSource {
  readonly name = 'polling';
  private run: PollingRun | undefined;

  constructor(private readonly options: PollingRecordSourceOptions) {}

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      if (this.run !== undefined && !this.run.stopped) {
        subscriber.error(new ShardlineError('a PollingRecordSource serves one subscriber at a time'));
        return undefined;
      }
      const run = new PollingRun(this.options, subscriber);
      this.run = run;
      void run.start();
      return () => run.stop();
    });
  }

  /** Waits for the readers to stop after unsubscribing, gives back the leases and closes the checkpoint store. */
  async close(): Promise<void> {
    this.run?.stop();
    await this.run?.finished;
    await this.options.checkpointStore.close();
  }
}

/** One subscription's worth of reading. */
class PollingRun {
  stopped = false;
  readonly finished: Promise<void>;
  private readonly logger: Logger;
  private readonly abort = new AbortController();
  private readonly shards = new Map<string, ShardState>();
  private readonly done = new Set<string>();
  private readonly readers = new Set<Promise<void>>();
  private stored = new Map<string, StoredShard>();
  private syncTimer: NodeJS.Timeout | undefined;
  private firstDiscoveryDone = false;
  private discovering: Promise<void> | undefined;
  private resolveFinished!: () => void;
  private readonly maxRecords: number;
  private readonly minPollMs: number;
  private readonly idlePollMs: number;
  private readonly random: () => number;

  constructor(
    private readonly options: PollingRecordSourceOptions,
    private readonly subscriber: Subscriber<ShardEvent>,
  ) {
    this.logger = options.logger ?? createLogger();
    this.maxRecords = Math.min(options.maxRecordsPerCall ?? KINESIS_MAX_RECORDS, KINESIS_MAX_RECORDS);
    this.minPollMs = options.minPollIntervalMs ?? 200;
    this.idlePollMs = options.idlePollIntervalMs ?? 1_000;
    this.random = options.random ?? Math.random;
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  async start(): Promise<void> {
    try {
      await this.options.checkpointStore.open();
      this.stored = new Map((await this.options.checkpointStore.list()).map((s) => [s.shardId, s]));
      for (const shard of this.stored.values()) {
        if (shard.checkpoint?.sequenceNumber === 'SHARD_END') this.done.add(shard.shardId);
      }
      this.logger.info(`Polling ${this.options.streamName} (checkpoints in ${this.options.checkpointStore.description})`);
      await this.discover();
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
    this.abort.abort();
    void Promise.allSettled([...this.readers]).then(() => this.resolveFinished());
  }

  private fail(error: unknown): void {
    if (this.stopped) return;
    const failure =
      error instanceof ShardlineError ? error : new SourceError(`polling ${this.options.streamName} failed: ${(error as Error).message}`, { cause: error });
    this.stop();
    this.subscriber.error(failure);
  }

  /** Lists the stream's shards (retrying throttles) and starts the ones that are ready. */
  private discover(): Promise<void> {
    this.discovering ??= (async () => {
      try {
        const listed = await this.listShards();
        const later = this.firstDiscoveryDone;
        for (const shard of listed) this.addShard(shard, later);
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
    this.shards.set(shard.shardId, { shard, status: this.done.has(shard.shardId) ? 'finished' : 'waiting', discoveredLater });
  }

  private schedule(listed: ReadonlySet<string> = new Set(this.shards.keys())): void {
    if (this.stopped) return;
    for (const state of this.shards.values()) {
      if (state.status !== 'waiting' || !parentsDone(state.shard, this.done, listed)) continue;
      state.status = 'running';
      const reader = this.readShard(state).catch((error: unknown) => this.fail(error));
      this.readers.add(reader);
      void reader.finally(() => this.readers.delete(reader));
    }
  }

  private async listShards(): Promise<DiscoveredShard[]> {
    const shards: DiscoveredShard[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page: ListShardsCommandOutput = await this.call('ListShards', undefined, () =>
        this.options.client.send(new ListShardsCommand(token !== undefined ? { NextToken: token } : this.streamRef()), { abortSignal: this.abort.signal }),
      );
      for (const shard of page.Shards ?? []) {
        if (shard.ShardId === undefined) continue;
        shards.push({
          shardId: shard.ShardId,
          parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined),
          ...(shard.HashKeyRange?.StartingHashKey !== undefined && shard.HashKeyRange.EndingHashKey !== undefined
            ? { hashKeyRange: { startingHashKey: shard.HashKeyRange.StartingHashKey, endingHashKey: shard.HashKeyRange.EndingHashKey } }
            : {}),
          ...(shard.SequenceNumberRange?.StartingSequenceNumber !== undefined ? { startingSequenceNumber: shard.SequenceNumberRange.StartingSequenceNumber } : {}),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined && !this.stopped);
    return shards;
  }

  private streamRef(): { StreamName: string } | { StreamARN: string } {
    const name = this.options.streamName;
    return name.startsWith('arn:') ? { StreamARN: name } : { StreamName: name };
  }

  /** Reads one shard from its checkpoint to its end (or until stopped). */
  private async readShard(state: ShardState): Promise<void> {
    const { shardId } = state.shard;
    const log = this.logger.child({ shardId });
    const store = this.options.checkpointStore;
    const known = new Set([...this.shards.keys(), ...this.stored.keys()]);
    const fromTrimHorizon = startsAtTrimHorizon(state.shard, known, state.discoveredLater);
    const lease = await store.acquire({
      shardId,
      parentShardIds: state.shard.parentShardIds,
      ...(state.shard.hashKeyRange ? { hashKeyRange: state.shard.hashKeyRange } : {}),
      initialCheckpoint: fromTrimHorizon ? 'TRIM_HORIZON' : this.initialSentinel(),
    });
    try {
      if (lease.checkpoint?.sequenceNumber === 'SHARD_END') {
        state.status = 'finished';
        this.done.add(shardId);
        this.schedule();
        return;
      }
      const resume = lease.checkpoint !== undefined && !isCheckpointSentinel(lease.checkpoint.sequenceNumber) ? lease.checkpoint : undefined;
      const firstSequence = state.shard.startingSequenceNumber;
      if (resume !== undefined && firstSequence !== undefined && comparePositions(resume, { sequenceNumber: firstSequence, subSequenceNumber: 0 }) < 0) {
        // Reading on would skip records or fail on an unknown sequence number: stop with what to do instead.
        throw new SourceError(
          `the checkpoint of ${shardId} (${formatPosition(resume)}) is older than the shard itself (it starts at ${firstSequence}): ` +
            `the stream ${this.options.streamName} was probably deleted and created again while the application's checkpoints were kept; ` +
            'remove the checkpoints of this application for this stream, or use another applicationName',
          { shardId },
        );
      }
      const checkpointer: Checkpointer = { checkpoint: (position) => store.checkpoint(shardId, position) };
      const opened = await this.emit((ack) => ({
        type: 'opened',
        shardId,
        ack,
        lease: {
          streamName: this.options.streamName,
          shardId,
          checkpointer,
          parentShardIds: state.shard.parentShardIds,
          ...(resume ? { lastCheckpoint: resume } : {}),
        },
      }));
      if (opened.status === 'failed' || this.stopped) return;

      const start: StartSpec = resume ? { type: 'AT_SEQUENCE_NUMBER', position: resume } : fromTrimHorizon ? { type: 'TRIM_HORIZON' } : this.initialSpec();
      log.info(`Reading from ${resume ? `checkpoint ${formatPosition(resume)}` : start.type}`);
      let lastProcessed: CheckpointPosition | undefined = resume;
      // An iterator that expires before the first record must not reopen at LATEST (records written meanwhile would
      // be skipped): reopen at the time LATEST was taken, a second early for clock skew (at-least-once).
      const reopen: StartSpec = start.type === 'LATEST' ? { type: 'AT_TIMESTAMP', timestamp: new Date(Date.now() - 1_000) } : start;
      let iterator = await this.getIterator(shardId, lastProcessed ? { type: 'AT_SEQUENCE_NUMBER', position: lastProcessed } : start);
      while (!this.stopped) {
        const startedAt = Date.now();
        let page: GetRecordsCommandOutput;
        let wire: readonly WireRecord[];
        try {
          const current = iterator;
          if (this.options.rawRecordParsing ?? true) {
            const result = await this.call('GetRecords', shardId, () => getRecordsRaw(this.options.client, { ShardIterator: current, Limit: this.maxRecords }, this.abort.signal));
            page = result.output;
            wire = result.records;
          } else {
            page = await this.call('GetRecords', shardId, () =>
              this.options.client.send(new GetRecordsCommand({ ShardIterator: current, Limit: this.maxRecords }), { abortSignal: this.abort.signal }),
            );
            wire = page.Records ?? [];
          }
        } catch (error) {
          if (classifyKinesisError(error) !== 'expired-iterator') throw error;
          log.warn(`Shard iterator expired: reopening after ${formatPosition(lastProcessed)}`);
          iterator = await this.getIterator(shardId, lastProcessed ? { type: 'AT_SEQUENCE_NUMBER', position: lastProcessed } : reopen);
          continue;
        }
        const records = toKinesisRecords(wire, shardId, {
          deaggregate: this.options.deaggregate ?? true,
          skipUpTo: lastProcessed,
          logger: log,
        });
        const last = records[records.length - 1];
        if (last !== undefined) {
          const outcome = await this.emit((ack) => ({
            type: 'records',
            shardId,
            records,
            ack,
            ...(page.MillisBehindLatest === undefined ? {} : { millisBehindLatest: page.MillisBehindLatest }),
          }));
          if (outcome.status === 'failed' || this.stopped) return; // the shard stopped: nothing more is read or checkpointed
          lastProcessed = last.position;
        }
        if (page.NextShardIterator === undefined || page.NextShardIterator === null) {
          await this.endShard(state, page, log);
          return;
        }
        iterator = page.NextShardIterator;
        const caughtUp = records.length === 0 || page.MillisBehindLatest === 0;
        const waitMs = caughtUp ? this.idlePollMs : this.minPollMs - (Date.now() - startedAt);
        if (waitMs > 0) await this.sleep(waitMs);
      }
    } catch (error) {
      if (this.stopped || classifyKinesisError(error) === 'aborted') return;
      if (classifyKinesisError(error) === 'not-found') {
        await this.shardVanished(shardId, error, log);
        return;
      }
      throw error;
    } finally {
      await store.release(shardId).catch(() => undefined);
    }
  }

  /** The shard was read to its end: the consumer finishes, `SHARD_END` is stored, then its children may start. */
  private async endShard(state: ShardState, page: GetRecordsCommandOutput, log: Logger): Promise<void> {
    const { shardId } = state.shard;
    const children = (page.ChildShards ?? [])
      .filter((child) => child.ShardId !== undefined)
      .map((child) => ({
        shardId: child.ShardId as string,
        parentShardIds: child.ParentShards ?? [shardId],
        ...(child.HashKeyRange?.StartingHashKey !== undefined && child.HashKeyRange.EndingHashKey !== undefined
          ? { hashKeyRange: { startingHashKey: child.HashKeyRange.StartingHashKey, endingHashKey: child.HashKeyRange.EndingHashKey } }
          : {}),
      }));
    const outcome = await this.emit((ack) => ({ type: 'shardEnded', shardId, ack }));
    if (outcome.status === 'failed') {
      log.error(`The consumer failed at the end of the shard: SHARD_END not stored, its children wait until the next start`);
      return;
    }
    try {
      await this.options.checkpointStore.checkpoint(shardId, SHARD_END_CHECKPOINT, children.map((c) => c.shardId));
    } catch (error) {
      const failure = error instanceof CheckpointError ? error : new CheckpointError((error as Error).message, { cause: error, shardId });
      log.error(`Storing SHARD_END failed (${failure.message}): the children wait until the next start`);
      return;
    }
    log.info(`Shard ended${children.length > 0 ? `; children: ${children.map((c) => c.shardId).join(', ')}` : ''}`);
    state.status = 'finished';
    this.done.add(shardId);
    for (const child of children) this.addShard(child, true);
    if (children.length === 0) await this.discover().catch((error: unknown) => log.warn(`ListShards after the shard's end failed: ${(error as Error).message}`));
    this.schedule();
  }

  private async shardVanished(shardId: string, error: unknown, log: Logger): Promise<void> {
    try {
      await this.options.client.send(new DescribeStreamSummaryCommand(this.streamRef()), { abortSignal: this.abort.signal });
    } catch (describeError) {
      if (classifyKinesisError(describeError) === 'not-found') {
        throw new SourceError(
          `stream ${this.options.streamName} no longer exists (it was deleted while being read); recreate it or point --stream at another one`,
          { cause: error, shardId },
        );
      }
    }
    log.error(`Shard ${shardId} is gone from ${this.options.streamName} (${(error as Error).message}): its reader stops without checkpointing`);
    await this.emit((ack) => ({ type: 'leaseLost', shardId, ack }));
  }

  private async getIterator(shardId: string, spec: StartSpec): Promise<string> {
    const input: GetShardIteratorCommandInput = { ...this.streamRef(), ShardId: shardId, ShardIteratorType: spec.type };
    if (spec.type === 'AT_TIMESTAMP') input.Timestamp = spec.timestamp;
    if (spec.type === 'AT_SEQUENCE_NUMBER') input.StartingSequenceNumber = spec.position.sequenceNumber;
    const out = await this.call('GetShardIterator', shardId, () => this.options.client.send(new GetShardIteratorCommand(input), { abortSignal: this.abort.signal }));
    if (out.ShardIterator === undefined) throw new SourceError(`GetShardIterator gave no iterator for ${shardId}`, { shardId });
    return out.ShardIterator;
  }

  /** Runs a Kinesis call, retrying throttles and network errors with capped exponential backoff and full jitter. */
  private async call<T>(operation: string, shardId: string | undefined, send: () => Promise<T>): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await send();
      } catch (error) {
        const kind = classifyKinesisError(error);
        if (this.stopped) throw error;
        if (kind === 'fatal') {
          throw new SourceError(`${operation} on ${this.options.streamName}${shardId ? `/${shardId}` : ''} failed: ${(error as Error).message}; check the stream name, region, endpoint and permissions`, {
            cause: error,
            ...(shardId ? { shardId } : {}),
          });
        }
        if (kind !== 'throttled' && kind !== 'network') throw error;
        const delayMs = backoffWithJitter(attempt, this.options.retryBaseMs ?? 100, this.options.retryCapMs ?? 5_000, this.random);
        (shardId ? this.logger.child({ shardId }) : this.logger).warn(
          `${operation} ${kind === 'throttled' ? 'throttled' : 'failed'} (${(error as Error).name}: ${(error as Error).message}); retry ${attempt + 1} in ${delayMs} ms`,
        );
        await this.sleep(delayMs);
        if (this.stopped) throw error;
      }
    }
  }

  /** Emits an event and waits for the runtime's ack (a stopped source counts as a failed ack). */
  private emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome> {
    if (this.stopped) return Promise.resolve({ status: 'failed', error: new SourceError('the polling source stopped') });
    return new Promise<EventOutcome>((resolve) => {
      const onAbort = (): void => resolve({ status: 'failed', error: new SourceError('the polling source stopped') });
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
      this.subscriber.next(
        make((outcome) => {
          this.abort.signal.removeEventListener('abort', onAbort);
          resolve(outcome);
        }),
      );
    });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.stopped) return resolve();
      const onAbort = (): void => {
        clearTimeout(timer);
        resolve();
      };
      const timer = setTimeout(() => {
        this.abort.signal.removeEventListener('abort', onAbort);
        resolve();
      }, ms);
      this.abort.signal.addEventListener('abort', onAbort, { once: true });
    });
  }

  private initialSentinel(): CheckpointSentinel {
    const initial = this.options.initialPosition ?? 'TRIM_HORIZON';
    return typeof initial === 'string' ? initial : 'AT_TIMESTAMP';
  }

  private initialSpec(): StartSpec {
    const initial = this.options.initialPosition ?? 'TRIM_HORIZON';
    return typeof initial === 'string' ? { type: initial } : { type: 'AT_TIMESTAMP', timestamp: initial.atTimestamp };
  }
}
