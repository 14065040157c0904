import { type CheckpointPosition } from './checkpoint-position';
import { type Checkpointer } from './checkpointer';
import { type KinesisRecord } from './kinesis-record';

/** How the runtime finished with an event: the adapter waits for this before it sends the next event of the shard. */
export type EventOutcome =
  | { readonly status: 'ok' }
  /** The shard stopped (a hook or a handler failed past its error policy): the adapter should stop reading it. */
  | { readonly status: 'failed'; readonly error: Error };

/** Called exactly once per event by the runtime. */
export type Ack = (outcome: EventOutcome) => void;

/** What an adapter knows about a shard it has leased. */
export interface ShardLease {
  readonly streamName: string;
  readonly shardId: string;
  readonly checkpointer: Checkpointer;
  /** Where the shard resumes from, when it has a checkpoint. */
  readonly lastCheckpoint?: CheckpointPosition;
  readonly parentShardIds?: readonly string[];
}

/** A shard was leased: the runtime creates its consumer instance and runs `@OnInit`. Always the shard's first event. */
export interface ShardOpenedEvent {
  readonly type: 'opened';
  readonly shardId: string;
  readonly lease: ShardLease;
  readonly ack: Ack;
}

/** A batch of records, in shard order. */
export interface ShardRecordsEvent {
  readonly type: 'records';
  readonly shardId: string;
  readonly records: readonly KinesisRecord[];
  readonly millisBehindLatest?: number;
  readonly ack: Ack;
}

/**
 * The shard's lease is gone (`leaseLost`), the shard was read to its end (`shardEnded`), or the worker is asked to
 * shut down gracefully (`shutdownRequested`). The shard's last event.
 */
export interface ShardClosingEvent {
  readonly type: 'leaseLost' | 'shardEnded' | 'shutdownRequested';
  readonly shardId: string;
  readonly ack: Ack;
}

/** Every event a record source emits. Events of one shard are in order; shards interleave. */
export type ShardEvent = ShardOpenedEvent | ShardRecordsEvent | ShardClosingEvent;
