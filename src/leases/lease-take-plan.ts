import { isFinished, SHARD_END, type Lease } from './lease';
import { type LeaseExpiryTracker, type ObservedLease } from './lease-expiry-tracker';

/** How a lease is to be taken: nobody owns it, its owner stopped renewing, we own it in the table but not in memory, or it is stolen. */
export type TakeKind = 'unowned' | 'expired' | 'orphan' | 'steal';

/** One lease to take. `lease` is the item as last scanned: the take is conditioned on its counter. */
export interface PlannedTake {
  readonly lease: Lease;
  readonly kind: TakeKind;
}

/** Inputs of {@link planLeaseTakes}. */
export interface TakePlanInput {
  readonly workerId: string;
  readonly nowMs: number;
  readonly tracker: LeaseExpiryTracker;
  /** Leases this worker holds in memory (reading, or waiting to read after a steal). */
  readonly held: ReadonlySet<string>;
  /** Uniform in [0, 1): shuffles candidates so that workers do not all race for the same leases. */
  readonly random: () => number;
  /** At most this many takes in this pass (1 on a worker's first pass: see docs/leases.md, "Cold start"). */
  readonly maxTakes: number;
  /** At most this many steals in this pass (the KCL's `maxLeasesToStealAtOneTime`, 1). */
  readonly maxSteals: number;
}

/** What one taker pass decided. */
export interface TakePlan {
  /** Leases that need a reader: not finished, and either owned by a live worker or with every parent finished. */
  readonly workableLeases: number;
  /** Owners of non-expired leases, plus this worker. */
  readonly liveWorkers: number;
  /** ceil(workable / live workers); 1 when there are at least as many workers as leases. */
  readonly target: number;
  /** Candidates in the order to try them (shuffled): take `wanted` of them, moving on past lost races. */
  readonly takes: readonly PlannedTake[];
  /** How many leases this pass should take (min(target − held, maxTakes), or the steal count). */
  readonly wanted: number;
  /**
   * The earliest moment (local clock) at which a lease owned by another worker expires if it is not renewed
   * meanwhile: the coordinator scans again just after it, so a dead worker's leases move within one taker interval
   * of their expiry.
   */
  readonly nextExpiryMs: number | undefined;
}

/**
 * One pass of the lease taker, as a pure function of the scanned view: fair-share target, then unowned, expired or
 * orphaned leases up to the target, else at most `maxSteals` from the most loaded worker when it holds more than the
 * target (or when this worker needs two or more: the KCL's rule, which avoids ping-pong at the target).
 * Unlike the KCL it never takes more than the target on a cold start (the KCL's "very old leases" rule).
 * A child lease is workable only when every parent lease still in the table is at `SHARD_END`.
 */
export function planLeaseTakes(input: TakePlanInput): TakePlan {
  const { workerId, nowMs, tracker, held } = input;
  const all = [...tracker.all()];
  const byKey = new Map<string, Lease>(all.map((o) => [o.lease.leaseKey, o.lease]));
  const parentsDone = (lease: Lease): boolean => lease.parentShardIds.every((p) => byKey.get(p)?.checkpoint === SHARD_END || !byKey.has(p));

  const counts = new Map<string, ObservedLease[]>();
  const available: PlannedTake[] = [];
  let workable = 0;
  let nextExpiryMs: number | undefined;
  for (const observed of all) {
    const { lease } = observed;
    if (isFinished(lease) || held.has(lease.leaseKey)) {
      if (!isFinished(lease)) workable += 1;
      continue;
    }
    const owner = lease.leaseOwner;
    const expired = owner !== undefined && tracker.isExpired(observed, nowMs);
    if (owner !== undefined && owner !== workerId && !expired) {
      workable += 1;
      const list = counts.get(owner) ?? [];
      list.push(observed);
      counts.set(owner, list);
      const at = tracker.expiresAfter(observed);
      if (nextExpiryMs === undefined || at < nextExpiryMs) nextExpiryMs = at;
      continue;
    }
    if (!parentsDone(lease)) continue;
    workable += 1;
    available.push({ lease, kind: owner === undefined ? 'unowned' : owner === workerId ? 'orphan' : 'expired' });
  }

  const liveWorkers = counts.size + 1;
  const target = workable === 0 ? 0 : liveWorkers >= workable ? 1 : Math.ceil(workable / liveWorkers);
  const needed = target - held.size;
  const plan = (takes: PlannedTake[], wanted: number): TakePlan => ({ workableLeases: workable, liveWorkers, target, takes, wanted, nextExpiryMs });
  if (needed <= 0) return plan([], 0);

  if (available.length > 0) {
    shuffle(available, input.random);
    return plan(available, Math.min(needed, input.maxTakes));
  }

  // Nothing free: steal from the most loaded worker (ties broken at random).
  let victim: ObservedLease[] | undefined;
  let ties = 0;
  for (const list of counts.values()) {
    if (victim === undefined || list.length > victim.length) {
      victim = list;
      ties = 1;
    } else if (list.length === victim.length) {
      ties += 1;
      if (input.random() * ties < 1) victim = list;
    }
  }
  if (victim === undefined || victim.length < target) return plan([], 0);
  let steal = Math.min(needed, victim.length - target);
  if (steal === 0 && needed > 1) steal = 1;
  steal = Math.min(steal, input.maxSteals, input.maxTakes);
  if (steal <= 0) return plan([], 0);
  const candidates = victim.filter((o) => parentsDone(o.lease)).map((o): PlannedTake => ({ lease: o.lease, kind: 'steal' }));
  shuffle(candidates, input.random);
  return plan(candidates.slice(0, steal), steal);
}

function shuffle<T>(items: T[], random: () => number): void {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    const a = items[i] as T;
    items[i] = items[j] as T;
    items[j] = a;
  }
}
