/** Capacity mode of a stream. */
export type StreamMode = 'PROVISIONED' | 'ON_DEMAND';

/** One shard of a stream, open or closed. */
export interface ShardDescription {
  readonly shardId: string;
  /** The shard it was split from, or the first of the two it was merged from. */
  readonly parentShardId?: string;
  /** The second parent of a merged shard. */
  readonly adjacentParentShardId?: string;
  /** Lowest hash key it owns (decimal, inclusive). */
  readonly startingHashKey: string;
  /** Highest hash key it owns (decimal, inclusive). */
  readonly endingHashKey: string;
  readonly startingSequenceNumber: string;
  /** Set once the shard is closed (split or merged). */
  readonly endingSequenceNumber?: string;
  /** Whether it still accepts records (no ending sequence number). */
  readonly open: boolean;
}

/** A stream's summary and its shards, as `StreamAdmin.describeStream` returns it. */
export interface StreamDescription {
  readonly streamName: string;
  readonly streamArn: string;
  /** CREATING, DELETING, ACTIVE or UPDATING. */
  readonly status: string;
  readonly mode: StreamMode;
  readonly retentionHours: number;
  readonly openShardCount: number;
  /** Server-side encryption (NONE or KMS). */
  readonly encryption: string;
  readonly createdAt: string | undefined;
  /** Every shard, open and closed, sorted by shard id. */
  readonly shards: readonly ShardDescription[];
}

/** One line of `StreamAdmin.listStreams`. */
export interface StreamListEntry {
  readonly streamName: string;
  /** The status when the service reports it in the listing (real Kinesis, kinesis-local), else undefined. */
  readonly status: string | undefined;
  readonly mode: StreamMode | undefined;
}
