import { Observable, type Subscriber } from 'rxjs';
import { comparePositions, type CheckpointPosition } from '../../core/checkpoint-position';
import { type Checkpointer } from '../../core/checkpointer';
import { CheckpointError, ShardlineError } from '../../core/errors';
import { KinesisRecord } from '../../core/kinesis-record';
import { type EventOutcome, type ShardEvent } from '../../core/shard-event';
import { type RecordSource } from '../record-source';

/** A record to push into an in-memory shard. Objects are sent as JSON, strings as UTF-8. */
export interface RecordInput {
  readonly data: Buffer | string | object;
  readonly partitionKey?: string;
  readonly sequenceNumber?: string;
  readonly subSequenceNumber?: number;
  readonly approximateArrivalTimestamp?: Date;
}

/** Position stored when a shard was read to its end (as the KCL stores `SHARD_END`). */
export const SHARD_END: CheckpointPosition = { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 };

interface ShardState {
  nextSequence: bigint;
  checkpoints: CheckpointPosition[];
  chain: Promise<unknown>;
  open: boolean;
  failCheckpoints: Error | undefined;
  /** Incremented by each {@link InMemoryRecordSource.openShard}: the shard's lease, as a restart would take it again. */
  generation: number;
  /** The failed acknowledgement that stopped the shard in generation {@link stoppedGeneration}: nothing more of that generation is emitted. */
  stoppedBy: EventOutcome | undefined;
  stoppedGeneration: number;
}

const FIRST_SEQUENCE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

/**
 * A record source held in memory: push records into named shards, end or lose a shard, read back checkpoints.
 * Every call resolves when the runtime has finished with the event, so tests need no sleeps. Used by the testing
 * kit and by `shardline run --adapter memory`.
 */
export class InMemoryRecordSource implements RecordSource {
  readonly name = 'memory';
  private subscriber: Subscriber<ShardEvent> | undefined;
  private readonly shards = new Map<string, ShardState>();
  private readonly waiting: Array<() => void> = [];

  constructor(readonly streamName: string = 'memory-stream') {}

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      if (this.subscriber !== undefined) {
        subscriber.error(new ShardlineError('an InMemoryRecordSource serves one subscriber at a time'));
        return undefined;
      }
      this.subscriber = subscriber;
      for (const wake of this.waiting.splice(0)) wake();
      return () => {
        this.subscriber = undefined;
        // The app let go of every shard (as an adapter releases its leases): the next reader opens them again.
        for (const state of this.shards.values()) state.open = false;
      };
    });
  }

  /**
   * Leases a shard to the runtime (its consumer instance is created and `@OnInit` runs), after `lastCheckpoint` or
   * else after the last position stored for it.
   */
  openShard(shardId: string, lastCheckpoint?: CheckpointPosition): Promise<EventOutcome> {
    const state = this.state(shardId);
    if (lastCheckpoint !== undefined) state.checkpoints.push(lastCheckpoint);
    // Opened again (another app on this source): resume after what was stored, as an adapter does.
    const stored = lastCheckpoint ?? state.checkpoints[state.checkpoints.length - 1];
    const resumeFrom = stored === SHARD_END ? undefined : stored;
    const checkpointer: Checkpointer = {
      checkpoint: (position) => {
        if (state.failCheckpoints !== undefined) return Promise.reject(new CheckpointError(state.failCheckpoints.message, { cause: state.failCheckpoints, shardId }));
        const last = state.checkpoints[state.checkpoints.length - 1];
        if (last !== undefined && last !== SHARD_END && comparePositions(position, last) < 0) {
          return Promise.reject(new CheckpointError(`checkpoint ${position.sequenceNumber} of ${shardId} goes backwards`, { shardId }));
        }
        state.checkpoints.push(position);
        return Promise.resolve();
      },
    };
    state.open = true;
    state.generation += 1;
    return this.emit(
      shardId,
      (ack) => ({
        type: 'opened',
        shardId,
        ack,
        lease: { streamName: this.streamName, shardId, checkpointer, ...(resumeFrom ? { lastCheckpoint: resumeFrom } : {}) },
      }),
    );
  }

  /** Sends one batch to a shard (opening the shard first if needed); resolves when its handler finished. */
  push(shardId: string, records: readonly RecordInput[], millisBehindLatest?: number): Promise<EventOutcome> {
    const state = this.state(shardId);
    // A shard stopped by a failed acknowledgement stays stopped until openShard() leases it again (as a restart would).
    if (isStopped(state, state.generation)) return Promise.resolve(state.stoppedBy as EventOutcome);
    // Open and send in the same tick: awaiting the open first would let a concurrent push overtake this batch.
    const opened = state.open ? undefined : this.openShard(shardId);
    const batch = records.map((input) => this.toRecord(shardId, state, input));
    const sent = this.emit(shardId, (ack) => ({ type: 'records', shardId, records: batch, ack, ...(millisBehindLatest === undefined ? {} : { millisBehindLatest }) }));
    if (opened === undefined) return sent;
    return opened.then((outcome) => (outcome.status === 'failed' ? sent.then(() => outcome) : sent));
  }

  /** The shard was read to its end: the runtime runs `@OnShardEnded` and `@OnShutdown`, then `SHARD_END` is stored. */
  async endShard(shardId: string): Promise<EventOutcome> {
    const outcome = await this.close(shardId, 'shardEnded');
    // Like the real adapters: the end is stored only once the consumer finished the shard.
    if (outcome.status === 'ok') this.state(shardId).checkpoints.push(SHARD_END);
    return outcome;
  }

  /** Another worker took the shard's lease. */
  loseLease(shardId: string): Promise<EventOutcome> {
    return this.close(shardId, 'leaseLost');
  }

  /** Asks the shard's consumer to shut down gracefully (it checkpoints what it processed). */
  requestShutdown(shardId: string): Promise<EventOutcome> {
    return this.close(shardId, 'shutdownRequested');
  }

  /** Every position stored for a shard, oldest first. */
  checkpoints(shardId: string): readonly CheckpointPosition[] {
    return [...(this.shards.get(shardId)?.checkpoints ?? [])];
  }

  /** The last position stored for a shard. */
  lastCheckpoint(shardId: string): CheckpointPosition | undefined {
    const list = this.shards.get(shardId)?.checkpoints;
    return list?.[list.length - 1];
  }

  /** Makes the shard's checkpoints fail with `error` (or succeed again with `undefined`). */
  failCheckpoints(shardId: string, error: Error | undefined): void {
    this.state(shardId).failCheckpoints = error;
  }

  /** Ends the source: the app sees the end of its records. */
  complete(): void {
    this.subscriber?.complete();
  }

  private close(shardId: string, type: 'shardEnded' | 'leaseLost' | 'shutdownRequested'): Promise<EventOutcome> {
    const state = this.state(shardId);
    if (isStopped(state, state.generation)) return Promise.resolve(state.stoppedBy as EventOutcome);
    state.open = false;
    return this.emit(shardId, (ack) => ({ type, shardId, ack }));
  }

  private state(shardId: string): ShardState {
    let state = this.shards.get(shardId);
    if (state === undefined) {
      state = { nextSequence: FIRST_SEQUENCE, checkpoints: [], chain: Promise.resolve(), open: false, failCheckpoints: undefined, generation: 0, stoppedBy: undefined, stoppedGeneration: -1 };
      this.shards.set(shardId, state);
    }
    return state;
  }

  private toRecord(shardId: string, state: ShardState, input: RecordInput): KinesisRecord {
    const data =
      Buffer.isBuffer(input.data) ? input.data : Buffer.from(typeof input.data === 'string' ? input.data : JSON.stringify(input.data));
    let sequenceNumber = input.sequenceNumber;
    if (sequenceNumber === undefined) {
      sequenceNumber = state.nextSequence.toString();
      state.nextSequence += 1_000_000n;
    }
    return new KinesisRecord({
      data,
      partitionKey: input.partitionKey ?? 'partition-key',
      sequenceNumber,
      subSequenceNumber: input.subSequenceNumber ?? 0,
      approximateArrivalTimestamp: input.approximateArrivalTimestamp ?? new Date(),
      shardId,
    });
  }

  /** Emits an event after the shard's previous one was acknowledged, and resolves with its outcome. */
  private emit(shardId: string, make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome> {
    const state = this.state(shardId);
    const generation = state.generation;
    const result = state.chain.then(
      () =>
        new Promise<EventOutcome>((resolve) => {
          // Queued behind the event whose failed acknowledgement stopped the shard: not emitted.
          if (isStopped(state, generation)) {
            resolve(state.stoppedBy as EventOutcome);
            return;
          }
          const send = (): void => {
            const subscriber = this.subscriber;
            if (subscriber === undefined) {
              this.waiting.push(send);
              return;
            }
            const event = make((outcome) => {
              if (outcome.status === 'failed' && (event.type === 'opened' || event.type === 'records')) {
                state.stoppedBy = outcome;
                state.stoppedGeneration = generation;
                if (state.generation === generation) state.open = false;
              }
              resolve(outcome);
            });
            subscriber.next(event);
          };
          send();
        }),
    );
    state.chain = result.catch(() => undefined);
    return result;
  }
}

/** Whether events of `generation` are no longer emitted: a failed acknowledgement stopped the shard in that generation. */
function isStopped(state: ShardState, generation: number): boolean {
  return state.stoppedBy !== undefined && state.stoppedGeneration === generation;
}
