import { type CheckpointPosition } from '../core/checkpoint-position';
import { type CheckpointStore, type LeaseRequest, type StoredShard } from './checkpoint-store';

/**
 * Checkpoints kept in memory only: nothing survives the process. Used by `shardline tail` (which never checkpoints a
 * stream it only watches) and handy in tests.
 */
export class MemoryCheckpointStore implements CheckpointStore {
  readonly description = 'memory (not persisted)';
  private readonly shards = new Map<string, StoredShard>();

  open(): Promise<void> {
    return Promise.resolve();
  }

  list(): Promise<readonly StoredShard[]> {
    return Promise.resolve([...this.shards.values()]);
  }

  acquire(request: LeaseRequest): Promise<StoredShard> {
    const existing = this.shards.get(request.shardId);
    if (existing !== undefined) return Promise.resolve(existing);
    const created: StoredShard = { shardId: request.shardId, checkpoint: undefined, parentShardIds: request.parentShardIds, childShardIds: [] };
    this.shards.set(request.shardId, created);
    return Promise.resolve(created);
  }

  checkpoint(shardId: string, position: CheckpointPosition, childShardIds?: readonly string[]): Promise<void> {
    const previous = this.shards.get(shardId);
    this.shards.set(shardId, {
      shardId,
      checkpoint: position,
      parentShardIds: previous?.parentShardIds ?? [],
      childShardIds: childShardIds ?? previous?.childShardIds ?? [],
      ...(previous?.latestStartedAt === undefined ? {} : { latestStartedAt: previous.latestStartedAt }),
    });
    return Promise.resolve();
  }

  rememberLatestStart(shardId: string, at: Date): Promise<void> {
    const previous = this.shards.get(shardId) ?? { shardId, checkpoint: undefined, parentShardIds: [], childShardIds: [] };
    this.shards.set(shardId, { ...previous, latestStartedAt: at });
    return Promise.resolve();
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
