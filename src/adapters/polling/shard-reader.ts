import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { comparePositions, formatPosition, type CheckpointPosition } from '../../core/checkpoint-position';
import { type Checkpointer } from '../../core/checkpointer';
import { CheckpointError, LeaseLostError, SourceError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type EventOutcome, type ShardEvent } from '../../core/shard-event';
import { backoffWithJitter } from '../../core/sleep';
import { isCheckpointSentinel, SHARD_END_CHECKPOINT, type CheckpointSentinel, type StoredShard } from '../../checkpoint-stores/checkpoint-store';
import { writeWithRetry } from './checkpoint-retry';
import { getRecordsFetcher } from './get-records-fetcher';
import { classifyKinesisError } from './kinesis-error-kind';
import { type KinesisCalls, type StartSpec } from './kinesis-calls';
import { type BudgetLease, type MemoryBudget } from './memory-budget';
import { type PollingRecordSourceOptions } from './polling-options';
import { toKinesisRecords } from './record-converter';
import { type RunTimers } from './run-timers';
import { type FetchedPage, type ShardFetcher } from './shard-fetcher';
import { startsAtTrimHorizon, type DiscoveredShard } from './shard-lineage';

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
 *
 * While `running`, each GetRecords first waits for room in the memory budget; the room is held until the runtime
 * acknowledges the batch, and given back whenever the reader leaves `running`.
 */
export type ShardStatus = 'waiting' | 'running' | 'backoff' | 'finished' | 'lost';

/** What the run knows about one shard. */
export interface ShardState {
  readonly shard: DiscoveredShard;
  status: ShardStatus;
  discoveredLater: boolean;
  /** Releases in a row after failed checkpoints (drives the reopen backoff). */
  failuresInARow: number;
}

/** What a reader needs from its run. */
export interface ReaderHost {
  readonly options: PollingRecordSourceOptions;
  readonly logger: Logger;
  readonly calls: KinesisCalls;
  readonly timers: RunTimers;
  readonly budget: MemoryBudget;
  /** GetRecords `Limit` bound (at most 10,000). */
  readonly maxRecords: number;
  readonly minPollMs: number;
  readonly idlePollMs: number;
  readonly random: () => number;
  readonly runSignal: AbortSignal;
  readonly stopped: boolean;
  /** Emits an event and waits for the runtime's ack (a stopped source counts as a failed ack). */
  emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome>;
  /** Shard ids listed or stored (to tell a child of a known parent). */
  knownShardIds(): ReadonlySet<string>;
  /** The shard is done (`SHARD_END` stored): its children may start. */
  finished(state: ShardState): void;
  /** The shard was read to its end and `SHARD_END` stored: its children (from `ChildShards`) are added and scheduled. */
  shardEnded(state: ShardState, children: readonly DiscoveredShard[], log: Logger): Promise<void>;
  /** Starts the shards that are ready. */
  schedule(): void;
  /** The shard no longer exists (past the retention period): nothing is left to read, its children may start. */
  shardGone(state: ShardState, log: Logger): Promise<void>;
}

/** Why a reader gave its shard up: the lease was taken, or checkpoints kept failing. */
interface Trouble {
  kind?: 'lease-lost' | 'failed';
  error?: Error;
}

const REOPEN_CAP_MS = 60_000;

/** Capped exponential delay with jitter, never below half the step (so a released shard is not reopened at once). */
function reopenDelay(baseMs: number, round: number, random: () => number): number {
  const ceiling = Math.min(REOPEN_CAP_MS, baseMs * 2 ** Math.min(round, 16));
  return Math.round(ceiling / 2 + backoffWithJitter(0, ceiling / 2, ceiling / 2, random));
}

/**
 * Reads one shard from its lease to its end (or until the run stops, the lease is lost, or its checkpoints keep
 * failing), then gives the lease and its part of the memory budget back. One instance per time a shard is opened.
 */
export class ShardReader {
  private readonly log: Logger;
  private readonly trouble: Trouble = {};
  private readonly budget: BudgetLease;
  /** Ends the reader's calls and waits when its lease is lost. */
  private readonly lossController = new AbortController();
  private fetcher: ShardFetcher | undefined;

  constructor(
    private readonly host: ReaderHost,
    private readonly state: ShardState,
  ) {
    this.log = host.logger.child({ shardId: state.shard.shardId });
    this.budget = host.budget.open();
  }

  /**
   * The lease went to another worker (a fleet's coordinator says so): nothing more is read or checkpointed; the
   * reader gives the shard up (`leaseLost`) as soon as its current call, wait or batch returns.
   */
  loseLease(error: Error): void {
    if (this.trouble.kind !== undefined) return;
    this.trouble.kind = 'lease-lost';
    this.trouble.error = error;
    // Stop reading at once: a call or a wait for budget room ends, and a fan-out subscription is closed now, so the
    // new owner's SubscribeToShard is not refused (ResourceInUse) while this process finishes its batch.
    this.fetcher?.close();
    this.lossController.abort();
  }

  /** Reads the shard, then gives its lease back; a shard released after failed checkpoints is reopened later. */
  async read(): Promise<void> {
    const { shardId } = this.state.shard;
    const signal = this.host.timers.signal();
    try {
      await this.readFromLease(AbortSignal.any([signal.signal, this.lossController.signal]));
    } finally {
      this.budget.close();
      signal.dispose();
      await this.host.options.checkpointStore.release(shardId).catch(() => undefined);
    }
    if (this.trouble.kind !== undefined && !this.host.stopped) this.afterTrouble();
  }

  /** Reads one shard from its checkpoint to its end (or until stopped, or until its checkpoints keep failing). */
  private async readFromLease(signal: AbortSignal): Promise<void> {
    const { host, state, trouble } = this;
    const { shardId } = state.shard;
    const store = host.options.checkpointStore;
    const fromTrimHorizon = startsAtTrimHorizon(state.shard, host.knownShardIds(), state.discoveredLater);
    let lease: StoredShard;
    try {
      lease = await this.withStoreRetry(() =>
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
        host.finished(state);
        return;
      }
      const resume = lease.checkpoint !== undefined && !isCheckpointSentinel(lease.checkpoint.sequenceNumber) ? lease.checkpoint : undefined;
      const firstSequence = state.shard.startingSequenceNumber;
      if (resume !== undefined && firstSequence !== undefined && comparePositions(resume, { sequenceNumber: firstSequence, subSequenceNumber: 0 }) < 0) {
        // Reading on would skip records or fail on an unknown sequence number: stop with what to do instead.
        throw new SourceError(
          `the checkpoint of ${shardId} (${formatPosition(resume)}) is older than the shard itself (it starts at ${firstSequence}): ` +
            `the stream ${host.options.streamName} was probably deleted and created again while the application's checkpoints were kept; ` +
            'remove the checkpoints of this application for this stream, or use another applicationName',
          { shardId },
        );
      }
      const checkpointer: Checkpointer = {
        checkpoint: async (position) => {
          if (trouble.kind !== undefined) {
            // The reader is giving the shard up (lease lost, or checkpoints failing): the adapter recovers (the shard
            // goes to its new owner, or is reopened from its stored checkpoint), so this must not stop the shard.
            throw new CheckpointError(`not checkpointing ${shardId} at ${formatPosition(position)}: the shard is being released`, { shardId, adapterRecovers: true });
          }
          await this.withStoreRetry(() => store.checkpoint(shardId, position));
        },
      };
      const opened = await host.emit((ack) => ({
        type: 'opened',
        shardId,
        ack,
        lease: {
          streamName: host.options.streamName,
          shardId,
          checkpointer,
          parentShardIds: state.shard.parentShardIds,
          ...(resume ? { lastCheckpoint: resume } : {}),
        },
      }));
      if (trouble.kind !== undefined) return this.giveUp();
      if (opened.status === 'failed' || host.stopped) return;

      let start: StartSpec = resume ? { type: 'AT_SEQUENCE_NUMBER', position: resume } : fromTrimHorizon ? { type: 'TRIM_HORIZON' } : this.initialSpec();
      let reopen: StartSpec = start;
      if (start.type === 'LATEST') {
        // LATEST is remembered: the time it was taken (a second early, for clock skew) is stored before the first read,
        // and a restart, or an iterator expiring before the first record, reopens AT_TIMESTAMP of it (at-least-once).
        const at = lease.latestStartedAt ?? new Date(Date.now() - 1_000);
        if (lease.latestStartedAt === undefined) {
          try {
            await this.withStoreRetry(() => store.rememberLatestStart(shardId, at));
          } catch {
            return this.giveUp();
          }
        } else start = { type: 'AT_TIMESTAMP', timestamp: at };
        reopen = { type: 'AT_TIMESTAMP', timestamp: at };
      }
      this.log.info(`Reading from ${resume ? `checkpoint ${formatPosition(resume)}` : start.type === 'AT_TIMESTAMP' ? `${start.timestamp.toISOString()} (AT_TIMESTAMP)` : start.type}`);
      await this.readRecords(start, reopen, resume, signal);
    } catch (error) {
      // The lease was lost during a call: the consumer still gets its leaseLost.
      if (!host.stopped && trouble.kind === 'lease-lost' && classifyKinesisError(error) === 'aborted') return this.giveUp();
      if (host.stopped || classifyKinesisError(error) === 'aborted') return;
      if (classifyKinesisError(error) === 'not-found') {
        await this.shardVanished(error);
        return;
      }
      throw error;
    }
  }

  /** The page loop: each page waits for room in the memory budget, which is held until the batch's ack. */
  private async readRecords(start: StartSpec, reopen: StartSpec, resume: CheckpointPosition | undefined, signal: AbortSignal): Promise<void> {
    const { host, trouble } = this;
    const { shardId } = this.state.shard;
    let lastProcessed: CheckpointPosition | undefined = resume;
    const fetcher = (host.options.shardFetcher ?? getRecordsFetcher)({ host, shardId, log: this.log, start, reopen });
    this.fetcher = fetcher;
    try {
      while (!host.stopped) {
        if (trouble.kind !== undefined) return this.giveUp();
        const limit = await this.budget.reserve(host.maxRecords, signal);
        if (limit === undefined) return trouble.kind !== undefined && !host.stopped ? this.giveUp() : undefined; // stopped, or the lease lost, while waiting for room
        let page: FetchedPage;
        try {
          page = await fetcher.next(limit, lastProcessed, signal);
        } catch (error) {
          this.budget.release();
          throw error;
        }
        this.budget.settle(page.records);
        const records = toKinesisRecords(page.records, shardId, {
          deaggregate: host.options.deaggregate ?? true,
          skipUpTo: lastProcessed,
          logger: this.log,
        });
        page = { ...page, records: [] }; // the wire records are not kept while the handler runs
        const last = records[records.length - 1];
        if (last !== undefined) {
          const outcome = await host.emit((ack) => ({
            type: 'records',
            shardId,
            records,
            ack,
            ...(page.millisBehindLatest === undefined ? {} : { millisBehindLatest: page.millisBehindLatest }),
          }));
          this.budget.release();
          if (trouble.kind !== undefined) return this.giveUp();
          if (outcome.status === 'failed' || host.stopped) return; // the shard stopped: nothing more is read or checkpointed
          lastProcessed = last.position;
        } else {
          this.budget.release();
          // An empty page still says how far behind the shard is: the lag keeps reporting while the stream is idle.
          const metrics = host.options.metrics;
          if (metrics !== undefined && page.millisBehindLatest !== undefined && page.millisBehindLatest !== null) {
            metrics.recorder.lagObserved?.({ application: metrics.application, stream: host.options.streamName, shardId }, page.millisBehindLatest);
          }
        }
        if (page.shardEnded) {
          fetcher.close();
          await this.endShard(page.childShards ?? []);
          return;
        }
        await fetcher.pace(records.length);
      }
    } finally {
      fetcher.close();
    }
  }

  /**
   * Runs a store write with retries; when it still fails, marks the shard as troubled (lost lease, or failing
   * checkpoints) so the reader gives it up, and rethrows. A success resets the shard's reopen backoff.
   */
  private async withStoreRetry<T>(write: () => Promise<T>, trouble: Trouble = this.trouble): Promise<T> {
    const { host, state } = this;
    const { shardId } = state.shard;
    let result: T | undefined;
    try {
      await writeWithRetry(
        async () => {
          result = await write();
        },
        shardId,
        {
          attempts: host.options.checkpointAttempts ?? 6,
          baseMs: host.options.retryBaseMs ?? 100,
          capMs: host.options.retryCapMs ?? 5_000,
          random: host.random,
          sleep: (ms) => host.timers.sleep(ms),
          stopped: () => host.stopped,
          onRetry: (error, attempt, delayMs) => this.log.warn(`Checkpoint store write failed (${error.message}); retry ${attempt} in ${delayMs} ms`),
        },
      );
    } catch (error) {
      if (!host.stopped && trouble.kind === undefined) {
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
  private async giveUp(): Promise<void> {
    const { trouble } = this;
    this.log.warn(
      trouble.kind === 'lease-lost'
        ? `Lease lost (${trouble.error?.message ?? 'taken by another worker'}): closing the shard's consumer without checkpointing`
        : `Checkpoints keep failing (${trouble.error?.message ?? 'unknown error'}): closing the shard's consumer and releasing the shard`,
    );
    const shardId = this.state.shard.shardId;
    await this.host.emit((ack) => ({ type: 'leaseLost', shardId, ack }));
  }

  /** After a release: a lost lease stays with its new owner; a shard whose checkpoints failed is reopened after a backoff. */
  private afterTrouble(): void {
    const { host, state } = this;
    if (this.trouble.kind === 'lease-lost') {
      state.status = 'lost';
      this.log.error(
        `Another worker holds the lease of ${state.shard.shardId} now: this process no longer reads it (in a fleet it reads it again if the lease comes back to it; otherwise restart to take it back)`,
      );
      return;
    }
    state.status = 'backoff';
    state.failuresInARow++;
    const delayMs = reopenDelay(host.options.reopenDelayMs ?? 1_000, state.failuresInARow - 1, host.random);
    this.log.warn(`Shard released after failed checkpoints; reopening it from its stored checkpoint in ${delayMs} ms`);
    void host.timers.sleep(delayMs).then(() => {
      if (host.stopped || state.status !== 'backoff') return;
      state.status = 'waiting';
      host.schedule();
    });
  }

  /** The shard was read to its end: the consumer finishes, `SHARD_END` is stored, then its children may start. */
  private async endShard(children: readonly DiscoveredShard[]): Promise<void> {
    const { host, state, log } = this;
    const { shardId } = state.shard;
    const outcome = await host.emit((ack) => ({ type: 'shardEnded', shardId, ack }));
    if (outcome.status === 'failed') {
      log.error(`The consumer failed at the end of the shard: SHARD_END not stored, its children wait until the next start`);
      return;
    }
    // The consumer is done with the shard: storing SHARD_END is retried until it works, or the children never start.
    for (let round = 0; !host.stopped; round++) {
      const trouble: Trouble = {};
      try {
        await this.withStoreRetry(
          () =>
            host.options.checkpointStore.checkpoint(
              shardId,
              SHARD_END_CHECKPOINT,
              children.map((c) => c.shardId),
            ),
          trouble,
        );
        break;
      } catch (error) {
        if (host.stopped) return;
        if (trouble.kind === 'lease-lost') {
          log.error(`Storing SHARD_END failed: ${(error as Error).message}; the new owner of the lease finishes the shard`);
          state.status = 'lost';
          return;
        }
        const delayMs = reopenDelay(host.options.reopenDelayMs ?? 1_000, round, host.random);
        log.warn(`Storing SHARD_END failed (${(error as Error).message}): trying again in ${delayMs} ms (the children start once it is stored)`);
        await host.timers.sleep(delayMs);
      }
    }
    if (host.stopped) return;
    log.info(`Shard ended${children.length > 0 ? `; children: ${children.map((c) => c.shardId).join(', ')}` : ''}`);
    this.budget.close(); // nothing more to read: the other shards share the budget without this one
    await host.shardEnded(state, children, log);
  }

  private async shardVanished(error: unknown): Promise<void> {
    const { host } = this;
    const { shardId } = this.state.shard;
    try {
      await host.options.client.send(new DescribeStreamSummaryCommand(host.calls.streamRef()), { abortSignal: host.runSignal });
    } catch (describeError) {
      if (classifyKinesisError(describeError) === 'not-found') {
        throw new SourceError(
          `stream ${host.options.streamName} no longer exists (it was deleted while being read); recreate it or point --stream at another one`,
          { cause: error, shardId },
        );
      }
    }
    this.log.error(`Shard ${shardId} is gone from ${host.options.streamName} (${(error as Error).message}): its reader stops without checkpointing`);
    await host.emit((ack) => ({ type: 'leaseLost', shardId, ack }));
    await host.shardGone(this.state, this.log);
  }

  private initialSentinel(): CheckpointSentinel {
    const initial = this.host.options.initialPosition ?? 'TRIM_HORIZON';
    return typeof initial === 'string' ? initial : 'AT_TIMESTAMP';
  }

  private initialSpec(): StartSpec {
    const initial = this.host.options.initialPosition ?? 'TRIM_HORIZON';
    return typeof initial === 'string' ? { type: initial } : { type: 'AT_TIMESTAMP', timestamp: initial.atTimestamp };
  }
}
