import { comparePositions, formatPosition, type CheckpointPosition } from './checkpoint-position';
import { CheckpointError } from './errors';

/** The runtime side of a {@link ShardCheckpointer}: what has been delivered, what is done, and how to store. */
export interface CheckpointTarget {
  readonly shardId: string;
  /** The last position whose handler succeeded (a checkpoint may go up to here). */
  lastProcessed(): CheckpointPosition | undefined;
  /** The last position handed to the consumer (manual checkpoints may go up to here, inside the running handler). */
  lastDelivered(): CheckpointPosition | undefined;
  store(position: CheckpointPosition): Promise<void>;
}

/**
 * Injectable in a consumer: checkpoints its shard by hand (with `checkpoint: 'manual'`, or in addition to a policy).
 * It refuses positions the consumer has not received yet, so it cannot skip records.
 */
export class ShardCheckpointer {
  constructor(private readonly target: CheckpointTarget) {}

  /**
   * Stores a position: the given record (or position), or by default the last record whose handler succeeded.
   * Inside a handler, pass the last record you finished to checkpoint mid-batch.
   * @throws CheckpointError when the position is ahead of what this shard received, or the store refused it.
   */
  async checkpoint(position?: CheckpointPosition): Promise<void> {
    const target = position ?? this.target.lastProcessed();
    if (target === undefined) return;
    const delivered = this.target.lastDelivered();
    if (delivered === undefined || comparePositions(target, delivered) > 0) {
      throw new CheckpointError(
        `cannot checkpoint ${this.target.shardId} at ${formatPosition(target)}: it is ahead of the last record received (${formatPosition(delivered)})`,
        { shardId: this.target.shardId },
      );
    }
    await this.target.store({ sequenceNumber: target.sequenceNumber, subSequenceNumber: target.subSequenceNumber });
  }
}
