/** One period during which a worker believed it could read a shard. */
export interface OwnershipInterval {
  readonly workerId: string;
  readonly fromMs: number;
  readonly toMs: number;
}

/**
 * Records who read which shard when, and measures the longest time two workers both were allowed to read one shard.
 * A period ends at the first of: the loss callback, the holder's own deadline (past it {@link LeaseCoordinator.isHeld}
 * is false, even in a paused process), the graceful-shutdown callback, or the process's death.
 */
export class OwnershipLog {
  private readonly open = new Map<string, Map<string, number>>();
  private readonly closed = new Map<string, OwnershipInterval[]>();

  begin(shardId: string, workerId: string, atMs: number): void {
    let byWorker = this.open.get(shardId);
    if (byWorker === undefined) this.open.set(shardId, (byWorker = new Map<string, number>()));
    byWorker.set(workerId, atMs);
  }

  end(shardId: string, workerId: string, atMs: number): void {
    const fromMs = this.open.get(shardId)?.get(workerId);
    if (fromMs === undefined) return;
    this.open.get(shardId)?.delete(workerId);
    let list = this.closed.get(shardId);
    if (list === undefined) this.closed.set(shardId, (list = []));
    list.push({ workerId, fromMs, toMs: Math.max(fromMs, atMs) });
  }

  /** Ends every open period of `workerId` (its process died). */
  endAll(workerId: string, atMs: number): void {
    for (const [shardId, byWorker] of this.open) if (byWorker.has(workerId)) this.end(shardId, workerId, atMs);
  }

  /** How many times a shard's reader changed. */
  handOffs(): number {
    let n = 0;
    for (const list of this.closed.values()) n += list.length;
    return n;
  }

  /** The longest overlap of two workers' periods on one shard; open periods end at `openEnd(shard, worker)`. */
  maxDoubleOwnershipMs(openEnd: (shardId: string, workerId: string) => number): { readonly ms: number; readonly shardId: string | undefined } {
    let worst = 0;
    let worstShard: string | undefined;
    const shards = new Set([...this.open.keys(), ...this.closed.keys()]);
    for (const shardId of shards) {
      const intervals = [...(this.closed.get(shardId) ?? [])];
      for (const [workerId, fromMs] of this.open.get(shardId) ?? []) intervals.push({ workerId, fromMs, toMs: Math.max(fromMs, openEnd(shardId, workerId)) });
      intervals.sort((a, b) => a.fromMs - b.fromMs);
      let maxEnd = Number.NEGATIVE_INFINITY;
      for (const i of intervals) {
        const overlap = Math.min(i.toMs, maxEnd) - i.fromMs;
        if (overlap > worst) {
          worst = overlap;
          worstShard = shardId;
        }
        maxEnd = Math.max(maxEnd, i.toMs);
      }
    }
    return { ms: worst, shardId: worstShard };
  }
}
