import { type CheckpointPosition } from './checkpoint-position';
import { type Logger } from './logger';

/**
 * Injectable in a consumer's constructor: what the consumer's shard is, a logger bound to it, and its progress.
 * The same whether the process holds one shard (KCL) or many (polling).
 */
export class ShardContext {
  /** How far behind the tip of the stream the last batch was, when the source knows (ms). */
  millisBehindLatest: number | undefined;
  /** The last position stored for this shard. */
  lastCheckpoint: CheckpointPosition | undefined;

  constructor(
    readonly applicationName: string,
    readonly streamName: string,
    readonly shardId: string,
    /** Logs lines prefixed with the shard id: `INFO [2017-03-05 03:35:23 UTC] shardId-000000000000 …`. */
    readonly logger: Logger,
    lastCheckpoint?: CheckpointPosition,
  ) {
    this.lastCheckpoint = lastCheckpoint;
  }
}
