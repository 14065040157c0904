import {
  CheckpointError,
  SHARD_END_CHECKPOINT,
  formatPosition,
  isCheckpointSentinel,
  type CheckpointPosition,
  type CheckpointStore,
  type Checkpointer,
  type EventOutcome,
  type KinesisRecord,
  type Logger,
  type ShardEvent,
  type StoredShard,
} from 'shardline';
import { toKinesisRecord, type RecordDataMapper } from './stream-change';
import { abortableSleep, classifyStreamError, describeError, type IteratorStart, type StreamCalls, type StreamShard } from './stream-calls';

/**
 * What the run knows about one shard, and where its reader is:
 *
 * ```
 * waiting ──(parent finished, or a checkpoint already stored)──▶ running ──(read to its end, SHARD_END stored)──▶ finished
 *                                                                │  ▲
 *                                    (checkpoints keep failing)  │  │ (after a backoff, from the stored checkpoint)
 *                                                                ▼  │
 *                                                              backoff
 * running ──(the runtime stopped the shard, or the shard is gone)──▶ stopped
 * ```
 */
export type ShardStatus = 'waiting' | 'running' | 'backoff' | 'finished' | 'stopped';

/** One shard of the run. */
export interface ShardState {
  readonly shard: StreamShard;
  status: ShardStatus;
  /** Where it starts when nothing is stored for it. */
  initialStart: 'TRIM_HORIZON' | 'LATEST';
  /** Releases in a row after failed checkpoints (drives the reopen backoff). */
  failuresInARow: number;
}

/** What a reader needs from its run. */
export interface ReaderHost {
  readonly streamArn: string;
  /** Named in each lease (the table's name). */
  readonly streamName: string;
  readonly store: CheckpointStore;
  readonly calls: StreamCalls;
  readonly logger: Logger;
  readonly signal: AbortSignal;
  readonly stopped: boolean;
  readonly maxRecords: number;
  readonly idlePollMs: number;
  readonly checkpointAttempts: number;
  readonly recordData: RecordDataMapper | undefined;
  /** Emits an event and resolves with the runtime's ack (a stopped run counts as a failed ack). */
  emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome>;
  /** The shard reached `finished` or `stopped`: children may start, the run may complete. */
  shardDone(state: ShardState): void;
  /** The shard was released after failing checkpoints: schedule it again after a backoff. */
  shardReleased(state: ShardState): void;
}

/** Reads one shard from its lease to its end, or until the run stops, the runtime stops the shard, or checkpoints keep failing. */
export class ShardReader {
  private readonly log: Logger;
  /** Set when checkpoint writes keep failing: the reader closes the shard as a lost lease and it is reopened later. */
  private checkpointTrouble: Error | undefined;
  /** Whether the runtime accepted the shard's `opened` event (a closing event may follow only then). */
  private opened = false;

  constructor(
    private readonly host: ReaderHost,
    private readonly state: ShardState,
  ) {
    this.log = host.logger.child({ shardId: state.shard.shardId });
  }

  async read(): Promise<void> {
    const { host, state } = this;
    const { shardId } = state.shard;
    try {
      let lease: StoredShard;
      try {
        lease = await this.storeWrite('acquire', () =>
          host.store.acquire({
            shardId,
            parentShardIds: state.shard.parentShardId === undefined ? [] : [state.shard.parentShardId],
            initialCheckpoint: state.initialStart,
          }),
        );
      } catch (error) {
        this.checkpointTrouble = error as Error; // tried again after a backoff
        throw error;
      }
      await this.readLease(lease);
    } catch (error) {
      if (host.stopped || classifyStreamError(error) === 'aborted') return;
      // The shard vanished (expired, or its stream was replaced) while being read: only its consumer stops.
      if (this.opened && this.checkpointTrouble === undefined && classifyStreamError(error) === 'not-found') await this.shardGone(error);
      else if (this.checkpointTrouble === undefined) throw error;
    } finally {
      await host.store.release(shardId).catch(() => undefined);
    }
    if (host.stopped) return;
    if (this.checkpointTrouble !== undefined) host.shardReleased(state);
    else host.shardDone(state);
  }

  private async readLease(lease: StoredShard): Promise<void> {
    const { host, state } = this;
    const { shardId } = state.shard;
    if (lease.checkpoint?.sequenceNumber === SHARD_END_CHECKPOINT.sequenceNumber) {
      state.status = 'finished';
      return;
    }
    const resume = lease.checkpoint !== undefined && !isCheckpointSentinel(lease.checkpoint.sequenceNumber) ? lease.checkpoint : undefined;
    const checkpointer: Checkpointer = {
      checkpoint: async (position) => {
        if (this.checkpointTrouble !== undefined) {
          throw new CheckpointError(`not checkpointing ${shardId} at ${formatPosition(position)}: the shard is being released`, { shardId, adapterRecovers: true });
        }
        try {
          await this.storeWrite('checkpoint', () => host.store.checkpoint(shardId, position));
        } catch (error) {
          this.checkpointTrouble = error as Error;
          // The reader closes the shard and reopens it from what is stored: the runtime keeps the records unconfirmed.
          throw new CheckpointError(`checkpoint of ${shardId} at ${formatPosition(position)} failed: ${describeError(error)}`, { cause: error, shardId, adapterRecovers: true });
        }
      },
    };
    const opened = await host.emit((ack) => ({
      type: 'opened',
      shardId,
      ack,
      lease: {
        streamName: host.streamName,
        shardId,
        checkpointer,
        parentShardIds: state.shard.parentShardId === undefined ? [] : [state.shard.parentShardId],
        ...(resume === undefined ? {} : { lastCheckpoint: resume }),
      },
    }));
    if (opened.status === 'failed' || host.stopped) {
      state.status = 'stopped';
      return;
    }
    this.opened = true;
    const start: IteratorStart = resume === undefined ? { type: state.initialStart } : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: resume.sequenceNumber };
    this.log.info(`Reading from ${resume === undefined ? state.initialStart : `checkpoint ${formatPosition(resume)}`}`);
    await this.readRecords(start, resume);
  }

  /** The GetRecords loop: one batch at a time, the next call only after the runtime acknowledged the previous batch. */
  private async readRecords(start: IteratorStart, resume: CheckpointPosition | undefined): Promise<void> {
    const { host, state } = this;
    const { shardId } = state.shard;
    let lastProcessed = resume?.sequenceNumber;
    // LATEST is fixed by the first iterator: reopening after a failure must not jump over records put meanwhile.
    let reopenFrom: IteratorStart = start;
    let iterator = await this.takeIterator(start);
    let failures = 0;
    while (!host.stopped && iterator !== undefined) {
      if (this.checkpointTrouble !== undefined) return this.giveUp();
      let page: Awaited<ReturnType<StreamCalls['getRecords']>>;
      try {
        page = await host.calls.getRecords(iterator, host.maxRecords);
        failures = 0;
      } catch (error) {
        const kind = classifyStreamError(error);
        if (kind === 'aborted' || host.stopped) return;
        if (kind === 'not-found') return this.shardGone(error);
        if (kind === 'fatal') throw error; // access denied, validation: the source fails with one line
        if (kind === 'trimmed') {
          this.log.warn(`Records after ${lastProcessed ?? 'the start'} were trimmed from the stream (older than 24 h): reading on from TRIM_HORIZON`);
          lastProcessed = undefined;
          reopenFrom = { type: 'TRIM_HORIZON' };
        } else if (kind === 'retryable') {
          await host.calls.backoff('GetRecords', failures++, error, this.log);
        } else this.log.info('Shard iterator expired: taking a new one after the last processed record');
        // A new iterator after the last processed record (a failed iterator may never work again).
        iterator = await this.takeIterator(lastProcessed === undefined ? reopenFrom : { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: lastProcessed });
        continue;
      }
      const records = page.records.map((r) => toKinesisRecord(r, shardId, host.streamName, host.recordData)).filter((r): r is KinesisRecord => r !== undefined);
      const last = records[records.length - 1];
      if (last !== undefined) {
        const outcome = await host.emit((ack) => ({ type: 'records', shardId, records, ack }));
        if (this.checkpointTrouble !== undefined) return this.giveUp();
        if (outcome.status === 'failed' || host.stopped) {
          state.status = 'stopped';
          return;
        }
        lastProcessed = last.sequenceNumber;
        if (reopenFrom.type === 'LATEST') reopenFrom = { type: 'AFTER_SEQUENCE_NUMBER', sequenceNumber: last.sequenceNumber };
      }
      iterator = page.nextIterator;
      if (iterator === undefined) return this.endShard();
      if (records.length === 0) await abortableSleep(host.idlePollMs, host.signal);
    }
  }

  private async takeIterator(start: IteratorStart): Promise<string | undefined> {
    try {
      return await this.host.calls.getIterator(this.host.streamArn, this.state.shard.shardId, start);
    } catch (error) {
      if (classifyStreamError(error) !== 'trimmed') throw error;
      this.log.warn(`The checkpoint's records were trimmed from the stream (older than 24 h): reading on from TRIM_HORIZON`);
      return this.host.calls.getIterator(this.host.streamArn, this.state.shard.shardId, { type: 'TRIM_HORIZON' });
    }
  }

  /** The shard was read to its end: the consumer finishes, then `SHARD_END` is stored (retried until it is). */
  private async endShard(): Promise<void> {
    const { host, state } = this;
    const { shardId } = state.shard;
    const outcome = await host.emit((ack) => ({ type: 'shardEnded', shardId, ack }));
    if (outcome.status === 'failed' || host.stopped) {
      if (!host.stopped) this.log.error('The consumer failed at the end of the shard: SHARD_END not stored, its children wait until the next start');
      state.status = 'stopped';
      return;
    }
    for (let attempt = 0; !host.stopped; attempt++) {
      try {
        await host.store.checkpoint(shardId, SHARD_END_CHECKPOINT);
        break;
      } catch (error) {
        await host.calls.backoff('Storing SHARD_END', attempt, error, this.log);
      }
    }
    this.log.info('Shard ended');
    state.status = 'finished';
  }

  /** The shard cannot be read any more (trimmed away, or its stream deleted): its consumer sees a lost lease. */
  private async shardGone(error: unknown): Promise<void> {
    this.log.error(`Shard ${this.state.shard.shardId} cannot be read (${describeError(error)}): its reader stops without checkpointing`);
    this.state.status = 'stopped';
    await this.host.emit((ack) => ({ type: 'leaseLost', shardId: this.state.shard.shardId, ack }));
  }

  /** Closes the shard's consumer as a lost lease (so nothing more is checkpointed); the run reopens it later. */
  private async giveUp(): Promise<void> {
    this.log.warn(`Checkpoints keep failing (${this.checkpointTrouble?.message ?? '?'}): closing the shard's consumer and releasing the shard`);
    await this.host.emit((ack) => ({ type: 'leaseLost', shardId: this.state.shard.shardId, ack }));
  }

  /** A store write, tried `checkpointAttempts` times with backoff. */
  private async storeWrite<T>(what: string, write: () => Promise<T>): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await write();
      } catch (error) {
        if (attempt >= this.host.checkpointAttempts || this.host.stopped) throw error;
        await this.host.calls.backoff(`Checkpoint store ${what}`, attempt - 1, error, this.log);
      }
    }
  }
}
