import { DescribeStreamSummaryCommand, GetRecordsCommand, type GetRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { Observable, type Subscriber } from 'rxjs';
import { comparePositions, formatPosition, type CheckpointPosition } from '../../core/checkpoint-position';
import { type Checkpointer } from '../../core/checkpointer';
import { CheckpointError, LeaseLostError, ShardlineError, SourceError } from '../../core/errors';
import { createLogger, type Logger } from '../../core/logger';
import { type EventOutcome, type ShardEvent } from '../../core/shard-event';
import { backoffWithJitter } from '../../core/sleep';
import {
  isCheckpointSentinel,
  SHARD_END_CHECKPOINT,
  type CheckpointSentinel,
  type StoredShard,
} from '../../checkpoint-stores/checkpoint-store';
import { type RecordSource } from '../record-source';
import { type PollingRecordSourceOptions } from './polling-options';
import { writeWithRetry } from './checkpoint-retry';
import { classifyKinesisError } from './kinesis-error-kind';
import { KinesisCalls, type KinesisCallsOptions, type StartSpec } from './kinesis-calls';
import { type MetricsRecorder } from '../../metrics/metrics-recorder';
import { getRecordsRaw } from './get-records-raw';
import { toKinesisRecords, type WireRecord } from './record-converter';
import { RunTimers } from './run-timers';
import { parentsDone, startsAtTrimHorizon, type DiscoveredShard } from './shard-lineage';

export { type PollingRecordSourceOptions } from './polling-options';

/**
 * A shard's reader, as the run schedules it:
 *
 * ```
 * waiting ──(parents done)──▶ running ──(SHARD_END stored)──▶ finished
 *                              │  ▲
 *     (checkpoint keeps failing)│  │(after reopenDelayMs, from the stored checkpoint)
 *                              ▼  │
 *                            backoff
 *   running ──(lease taken by another worker)──▶ lost
 * ```
 */
type ShardStatus = 'waiting' | 'running' | 'backoff' | 'finished' | 'lost';

interface ShardState {
  readonly shard: DiscoveredShard;
  status: ShardStatus;
  discoveredLater: boolean;
  /** Releases in a row after failed checkpoints (drives the reopen backoff). */
  failuresInARow: number;
}

/** Why a reader gave its shard up: the lease was taken, or checkpoints kept failing. */
interface Trouble {
  kind?: 'lease-lost' | 'failed';
  error?: Error;
}

const KINESIS_MAX_RECORDS = 10_000;
const REOPEN_CAP_MS = 60_000;

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

  /** Waits for the readers to stop after unsubscribing, gives back the leases and closes the checkpoint store. */
  async close(): Promise<void> {
    this.run?.stop();
    await this.run?.finished;
    await this.options.checkpointStore.close();
  }
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

/** One subscription's worth of reading. */
class PollingRun {
  stopped = false;
  readonly finished: Promise<void>;
  private readonly logger: Logger;
  private readonly timers = new RunTimers();
  private readonly runSignal = this.timers.signal();
  private readonly calls: KinesisCalls;
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
    this.calls = new KinesisCalls(callsOptions(options, this.timers, this.logger));
    this.finished = new Promise((resolve) => {
      this.resolveFinished = resolve;
    });
  }

  async start(): Promise<void> {
    try {
      const startupTimeoutMs = this.options.startupTimeoutMs ?? 30_000;
      const deadline = Date.now() + startupTimeoutMs;
      await this.calls.checkStream(startupTimeoutMs, this.runSignal.signal);
      await this.options.checkpointStore.open();
      this.stored = new Map((await this.options.checkpointStore.list()).map((s) => [s.shardId, s]));
      for (const shard of this.stored.values()) {
        if (shard.checkpoint?.sequenceNumber === 'SHARD_END') this.done.add(shard.shardId);
      }
      this.logger.info(`Polling ${this.options.streamName} (checkpoints in ${this.options.checkpointStore.description})`);
      await this.discover(deadline);
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
        const listed = await this.calls.listShards({ signal: this.runSignal.signal, ...(deadline === undefined ? {} : { deadline }) }, () => this.stopped);
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
    this.shards.set(shard.shardId, { shard, status: this.done.has(shard.shardId) ? 'finished' : 'waiting', discoveredLater, failuresInARow: 0 });
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

  /** Reads one shard, then gives its lease back; a shard released after failed checkpoints is reopened later. */
  private async readShard(state: ShardState): Promise<void> {
    const { shardId } = state.shard;
    const log = this.logger.child({ shardId });
    const trouble: Trouble = {};
    const signal = this.timers.signal();
    try {
      await this.readShardFromLease(state, trouble, signal.signal, log);
    } finally {
      signal.dispose();
      await this.options.checkpointStore.release(shardId).catch(() => undefined);
    }
    if (trouble.kind !== undefined && !this.stopped) this.afterTrouble(state, trouble, log);
  }

  /** Reads one shard from its checkpoint to its end (or until stopped, or until its checkpoints keep failing). */
  private async readShardFromLease(state: ShardState, trouble: Trouble, signal: AbortSignal, log: Logger): Promise<void> {
    const { shardId } = state.shard;
    const store = this.options.checkpointStore;
    const known = new Set([...this.shards.keys(), ...this.stored.keys()]);
    const fromTrimHorizon = startsAtTrimHorizon(state.shard, known, state.discoveredLater);
    let lease: StoredShard;
    try {
      lease = await this.withStoreRetry(shardId, state, trouble, () =>
        store.acquire({
          shardId,
          parentShardIds: state.shard.parentShardIds,
          ...(state.shard.hashKeyRange ? { hashKeyRange: state.shard.hashKeyRange } : {}),
          initialCheckpoint: fromTrimHorizon ? 'TRIM_HORIZON' : this.initialSentinel(),
        }),
      );
    } catch (error) {
      if (trouble.kind !== undefined) return; // released and retried later (or lost)
      throw error;
    }
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
      const checkpointer: Checkpointer = {
        checkpoint: async (position) => {
          if (trouble.kind !== undefined) {
            throw new CheckpointError(`not checkpointing ${shardId} at ${formatPosition(position)}: the shard is being released`, { shardId });
          }
          await this.withStoreRetry(shardId, state, trouble, () => store.checkpoint(shardId, position));
        },
      };
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
      if (trouble.kind !== undefined) return this.giveUp(shardId, trouble, log);
      if (opened.status === 'failed' || this.stopped) return;

      let start: StartSpec = resume ? { type: 'AT_SEQUENCE_NUMBER', position: resume } : fromTrimHorizon ? { type: 'TRIM_HORIZON' } : this.initialSpec();
      let reopen: StartSpec = start;
      if (start.type === 'LATEST') {
        // LATEST is remembered: the time it was taken (a second early, for clock skew) is stored before the first read,
        // and a restart, or an iterator expiring before the first record, reopens AT_TIMESTAMP of it (at-least-once).
        const at = lease.latestStartedAt ?? new Date(Date.now() - 1_000);
        if (lease.latestStartedAt === undefined) {
          try {
            await this.withStoreRetry(shardId, state, trouble, () => store.rememberLatestStart(shardId, at));
          } catch {
            return this.giveUp(shardId, trouble, log);
          }
        } else start = { type: 'AT_TIMESTAMP', timestamp: at };
        reopen = { type: 'AT_TIMESTAMP', timestamp: at };
      }
      log.info(`Reading from ${resume ? `checkpoint ${formatPosition(resume)}` : start.type === 'AT_TIMESTAMP' ? `${start.timestamp.toISOString()} (AT_TIMESTAMP)` : start.type}`);
      let lastProcessed: CheckpointPosition | undefined = resume;
      let iterator = await this.calls.getIterator(shardId, lastProcessed ? { type: 'AT_SEQUENCE_NUMBER', position: lastProcessed } : start, signal);
      while (!this.stopped) {
        if (trouble.kind !== undefined) return this.giveUp(shardId, trouble, log);
        const startedAt = Date.now();
        let page: GetRecordsCommandOutput;
        let wire: readonly WireRecord[];
        try {
          const current = iterator;
          if (this.options.rawRecordParsing ?? true) {
            const result = await this.calls.call('GetRecords', shardId, (s) => getRecordsRaw(this.options.client, { ShardIterator: current, Limit: this.maxRecords }, s), { signal });
            page = result.output;
            wire = result.records;
          } else {
            page = await this.calls.call(
              'GetRecords',
              shardId,
              (s) => this.options.client.send(new GetRecordsCommand({ ShardIterator: current, Limit: this.maxRecords }), { abortSignal: s }),
              { signal },
            );
            wire = page.Records ?? [];
          }
        } catch (error) {
          if (classifyKinesisError(error) !== 'expired-iterator') throw error;
          log.warn(`Shard iterator expired: reopening after ${formatPosition(lastProcessed)}`);
          iterator = await this.calls.getIterator(shardId, lastProcessed ? { type: 'AT_SEQUENCE_NUMBER', position: lastProcessed } : reopen, signal);
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
          if (trouble.kind !== undefined) return this.giveUp(shardId, trouble, log);
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
        if (waitMs > 0) await this.timers.sleep(waitMs);
      }
    } catch (error) {
      if (this.stopped || classifyKinesisError(error) === 'aborted') return;
      if (classifyKinesisError(error) === 'not-found') {
        await this.shardVanished(shardId, error, log);
        return;
      }
      throw error;
    }
  }

  /**
   * Runs a store write with retries; when it still fails, marks the shard as troubled (lost lease, or failing
   * checkpoints) so its reader gives it up, and rethrows. A success resets the shard's reopen backoff.
   */
  private async withStoreRetry<T>(shardId: string, state: ShardState, trouble: Trouble, write: () => Promise<T>): Promise<T> {
    let result: T | undefined;
    try {
      await writeWithRetry(
        async () => {
          result = await write();
        },
        shardId,
        {
          attempts: this.options.checkpointAttempts ?? 6,
          baseMs: this.options.retryBaseMs ?? 100,
          capMs: this.options.retryCapMs ?? 5_000,
          random: this.random,
          sleep: (ms) => this.timers.sleep(ms),
          stopped: () => this.stopped,
          onRetry: (error, attempt, delayMs) =>
            this.logger.child({ shardId }).warn(`Checkpoint store write failed (${error.message}); retry ${attempt} in ${delayMs} ms`),
        },
      );
    } catch (error) {
      if (!this.stopped && trouble.kind === undefined) {
        trouble.kind = error instanceof LeaseLostError ? 'lease-lost' : 'failed';
        trouble.error = error as Error;
      }
      // This source closes the shard and reopens it from its stored checkpoint (or lets it go, when the lease was lost).
      if (error instanceof CheckpointError && !error.adapterRecovers) {
        throw new CheckpointError(error.message, { cause: error.cause ?? error, adapterRecovers: true, ...(error.shardId !== undefined ? { shardId: error.shardId } : {}) });
      }
      throw error;
    }
    state.failuresInARow = 0;
    return result as T;
  }

  /** Closes the shard's consumer as a lost lease (so nothing is checkpointed past this point). */
  private async giveUp(shardId: string, trouble: Trouble, log: Logger): Promise<void> {
    log.warn(
      trouble.kind === 'lease-lost'
        ? `Lease lost (${trouble.error?.message ?? 'taken by another worker'}): closing the shard's consumer without checkpointing`
        : `Checkpoints keep failing (${trouble.error?.message ?? 'unknown error'}): closing the shard's consumer and releasing the shard`,
    );
    await this.emit((ack) => ({ type: 'leaseLost', shardId, ack }));
  }

  /** After a release: a lost lease stays with its new owner; a shard whose checkpoints failed is reopened after a backoff. */
  private afterTrouble(state: ShardState, trouble: Trouble, log: Logger): void {
    if (trouble.kind === 'lease-lost') {
      state.status = 'lost';
      log.error(`Another worker holds the lease of ${state.shard.shardId} now: this process no longer reads it (restart to take it back)`);
      return;
    }
    state.status = 'backoff';
    state.failuresInARow++;
    const delayMs = this.reopenDelay(state.failuresInARow - 1);
    log.warn(`Shard released after failed checkpoints; reopening it from its stored checkpoint in ${delayMs} ms`);
    void this.timers.sleep(delayMs).then(() => {
      if (this.stopped || state.status !== 'backoff') return;
      state.status = 'waiting';
      this.schedule();
    });
  }

  /** Capped exponential delay with jitter, never below half the step (so a released shard is not reopened at once). */
  private reopenDelay(round: number): number {
    const base = this.options.reopenDelayMs ?? 1_000;
    const ceiling = Math.min(REOPEN_CAP_MS, base * 2 ** Math.min(round, 16));
    return Math.round(ceiling / 2 + backoffWithJitter(0, ceiling / 2, ceiling / 2, this.random));
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
    // The consumer is done with the shard: storing SHARD_END is retried until it works, or the children never start.
    for (let round = 0; !this.stopped; round++) {
      const trouble: Trouble = {};
      try {
        await this.withStoreRetry(shardId, state, trouble, () =>
          this.options.checkpointStore.checkpoint(
            shardId,
            SHARD_END_CHECKPOINT,
            children.map((c) => c.shardId),
          ),
        );
        break;
      } catch (error) {
        if (this.stopped) return;
        if (trouble.kind === 'lease-lost') {
          log.error(`Storing SHARD_END failed: ${(error as Error).message}; the new owner of the lease finishes the shard`);
          state.status = 'lost';
          return;
        }
        const delayMs = this.reopenDelay(round);
        log.warn(`Storing SHARD_END failed (${(error as Error).message}): trying again in ${delayMs} ms (the children start once it is stored)`);
        await this.timers.sleep(delayMs);
      }
    }
    if (this.stopped) return;
    log.info(`Shard ended${children.length > 0 ? `; children: ${children.map((c) => c.shardId).join(', ')}` : ''}`);
    state.status = 'finished';
    this.done.add(shardId);
    for (const child of children) this.addShard(child, true);
    if (children.length === 0) await this.discover().catch((error: unknown) => log.warn(`ListShards after the shard's end failed: ${(error as Error).message}`));
    this.schedule();
  }

  private async shardVanished(shardId: string, error: unknown, log: Logger): Promise<void> {
    try {
      await this.options.client.send(new DescribeStreamSummaryCommand(this.calls.streamRef()), {
        abortSignal: this.runSignal.signal,
      });
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

  /** Emits an event and waits for the runtime's ack (a stopped source counts as a failed ack). */
  private emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome> {
    const stoppedOutcome = (): EventOutcome => ({ status: 'failed', error: new SourceError('the polling source stopped') });
    if (this.stopped) return Promise.resolve(stoppedOutcome());
    return this.timers.wait<EventOutcome>((settle) => this.subscriber.next(make(settle)), stoppedOutcome);
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
