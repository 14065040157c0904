/** A shard as discovery saw it (ListShards or a `ChildShards` entry). */
export interface DiscoveredShard {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange?: { readonly startingHashKey: string; readonly endingHashKey: string };
  /** The first sequence number the shard ever had (from ListShards), to recognise checkpoints of another shard's life. */
  readonly startingSequenceNumber?: string;
}

/**
 * Whether a shard may start: every parent was read to its end and checkpointed at `SHARD_END` (`finished`), or is no
 * longer listed by the stream (its data expired, so there is nothing left to read before the child).
 */
export function parentsDone(shard: DiscoveredShard, finished: ReadonlySet<string>, listed: ReadonlySet<string>): boolean {
  return shard.parentShardIds.every((parent) => finished.has(parent) || !listed.has(parent));
}

/**
 * Where a shard without a checkpoint starts: a child of a known parent (listed or stored) starts at `TRIM_HORIZON`,
 * whatever the initial position (starting a child at `LATEST` would lose the records written between the reshard and
 * now); so does a shard that appeared while the source runs. Only the shards of the stream as first seen use the
 * configured initial position.
 */
export function startsAtTrimHorizon(shard: DiscoveredShard, known: ReadonlySet<string>, discoveredLater: boolean): boolean {
  return discoveredLater || shard.parentShardIds.some((parent) => known.has(parent));
}
