import { type KinesisRecord } from './kinesis-record';

/** A batch of one shard, as the second argument of an `@OnRecords` handler. */
export interface RecordBatch {
  readonly shardId: string;
  readonly streamName: string;
  readonly records: readonly KinesisRecord[];
  /** How far behind the tip of the stream this batch was, when the source knows (ms). */
  readonly millisBehindLatest: number | undefined;
}

/** A batch whose handler failed after every retry, as given to an `@OnDeadLetter` method. */
export interface FailedBatch extends RecordBatch {
  readonly error: Error;
  readonly attempts: number;
}

/** Why a shard's consumer instance is shutting down. */
export type ShutdownReason = 'leaseLost' | 'shardEnded' | 'requested' | 'stopped';
