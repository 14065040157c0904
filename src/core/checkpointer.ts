import { type CheckpointPosition } from './checkpoint-position';

/**
 * Stores a shard's position. Each adapter gives one per shard lease (the KCL adapter asks the daemon, the polling
 * adapter writes its checkpoint store). Calls are never concurrent for one shard: the runtime awaits each one.
 */
export interface Checkpointer {
  /**
   * Persists `position`: the shard is read again from the record after it.
   * @throws CheckpointError when the position could not be stored.
   */
  checkpoint(position: CheckpointPosition): Promise<void>;
}
