import { type CheckpointPosition } from '../core/checkpoint-position';

/**
 * Sentinel values a stored checkpoint may hold instead of a sequence number, exactly as the KCL writes them in its
 * lease table: a new lease holds its initial position, a finished shard holds `SHARD_END`.
 */
export type CheckpointSentinel = 'TRIM_HORIZON' | 'LATEST' | 'AT_TIMESTAMP' | 'SHARD_END';

/** Every {@link CheckpointSentinel}, for parsing. */
export const CHECKPOINT_SENTINELS: readonly CheckpointSentinel[] = ['TRIM_HORIZON', 'LATEST', 'AT_TIMESTAMP', 'SHARD_END'];

/** The checkpoint stored when a shard was read to its end and every record was handled. */
export const SHARD_END_CHECKPOINT: CheckpointPosition = { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 };

/** Whether a stored sequence number is a sentinel rather than a real sequence number. */
export function isCheckpointSentinel(sequenceNumber: string): sequenceNumber is CheckpointSentinel {
  return (CHECKPOINT_SENTINELS as readonly string[]).includes(sequenceNumber);
}

/** A shard's hash key range, as decimal strings. */
export interface HashKeyRange {
  readonly startingHashKey: string;
  readonly endingHashKey: string;
}

/** What a store knows about one shard of the application (one KCL lease). */
export interface StoredShard {
  readonly shardId: string;
  /** The stored position: a sequence number, or a {@link CheckpointSentinel}. Undefined when nothing was stored yet. */
  readonly checkpoint: CheckpointPosition | undefined;
  readonly parentShardIds: readonly string[];
  readonly childShardIds: readonly string[];
  /** The worker holding the lease, when the store tracks owners. */
  readonly leaseOwner?: string;
  /** The lease's fencing counter, when the store tracks one. */
  readonly leaseCounter?: number;
  /** When the checkpoint was last written (file store only). */
  readonly updatedAt?: Date;
  /**
   * For a shard without checkpoint that started at LATEST: when its first iterator was taken (a little earlier, for
   * clock skew). A restart opens the shard AT_TIMESTAMP of it instead of at the new LATEST, so records put meanwhile
   * are not skipped. The checkpoint itself keeps the KCL's `LATEST` sentinel.
   */
  readonly latestStartedAt?: Date;
}

/** What a reader knows about a shard it is about to take. */
export interface LeaseRequest {
  readonly shardId: string;
  readonly parentShardIds: readonly string[];
  readonly hashKeyRange?: HashKeyRange;
  /** Written as the checkpoint of a lease created now (the KCL writes the initial position's name). */
  readonly initialCheckpoint: CheckpointSentinel;
}

/**
 * Where the polling adapter keeps its checkpoints: one entry per shard of one application and stream.
 * Implementations: {@link FileCheckpointStore} (the embedded default) and {@link DynamoDbCheckpointStore} (the KCL
 * lease table schema, so an application can move between the polling and KCL adapters).
 *
 * Calls for one shard are never concurrent; calls for different shards may be.
 */
export interface CheckpointStore {
  /** Where the checkpoints live, for logs: `file:.shardline/checkpoints/app--stream.json`, `dynamodb:app`. */
  readonly description: string;
  /**
   * Prepares the store (creates the directory or table) and makes sure no other process uses it.
   * @throws ConfigurationError when the store is unusable or held by another live process.
   */
  open(): Promise<void>;
  /** Every shard the store knows about. */
  list(): Promise<readonly StoredShard[]>;
  /**
   * Takes the shard's lease for this process (creating it when missing) and returns what is stored for it.
   * @throws CheckpointError when another worker took the lease in the meantime.
   */
  acquire(request: LeaseRequest): Promise<StoredShard>;
  /**
   * Stores a position for a shard this process holds (`SHARD_END` with the children when the shard was finished).
   * @throws CheckpointError when the position could not be stored or the lease was lost.
   */
  checkpoint(shardId: string, position: CheckpointPosition, childShardIds?: readonly string[]): Promise<void>;
  /**
   * Remembers when a shard without checkpoint started at LATEST (see {@link StoredShard.latestStartedAt}), before its
   * first record is read.
   * @throws CheckpointError as {@link checkpoint} does.
   */
  rememberLatestStart(shardId: string, at: Date): Promise<void>;
  /** Gives a shard's lease back (best effort; the checkpoint stays). */
  release(shardId: string): Promise<void>;
  /** Releases everything and frees resources (file lock, SDK client). Safe to call twice. */
  close(): Promise<void>;
}
