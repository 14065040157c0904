import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';

/** Every shardline worker id starts with this, so that foreign owners (KCL workers) can be recognised in the table. */
export const SHARDLINE_WORKER_PREFIX = 'shardline:';

/** A new worker id: `shardline:<host>:<pid>:<8 hex>`. */
export function createShardlineWorkerId(host: string = hostname(), pid: number = process.pid): string {
  return `${SHARDLINE_WORKER_PREFIX}${host}:${pid}:${randomUUID().slice(0, 8)}`;
}

/** True for an id made by {@link createShardlineWorkerId} (or any id with the shardline prefix). */
export function isShardlineWorkerId(workerId: string): boolean {
  return workerId.startsWith(SHARDLINE_WORKER_PREFIX);
}
