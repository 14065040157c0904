import { type Lease } from './lease';

/** A lease as last scanned, with the local monotonic time at which its counter was last seen to change. */
export interface ObservedLease {
  readonly lease: Lease;
  /** `-Infinity` for a lease first seen without an owner (the KCL's "never"): it is available at once. */
  readonly lastChangeMs: number;
  /** The counter and owner of the previous scan (`undefined` on first sighting). */
  readonly previousCounter: number | undefined;
  readonly previousOwner: string | undefined;
}

/**
 * Decides expiry as the KCL does (kcl-leases.md §3): no timestamp is stored in the table; each worker remembers when,
 * on its own monotonic clock, it last saw a lease's counter change between two scans. A lease is expired when that
 * was more than `failoverTimeMs` ago. A first-seen owned lease counts as freshly changed, so a new worker waits a full
 * failover time before it takes a dead worker's lease; a first-seen unowned lease is "never" changed.
 */
export class LeaseExpiryTracker {
  private readonly seen = new Map<string, ObservedLease>();

  constructor(private readonly failoverTimeMs: number) {}

  /** Folds a scan made at `nowMs` into the view; leases no longer in the table are forgotten. */
  update(leases: readonly Lease[], nowMs: number): void {
    const present = new Set<string>();
    for (const lease of leases) {
      present.add(lease.leaseKey);
      const prev = this.seen.get(lease.leaseKey);
      let lastChangeMs: number;
      if (prev !== undefined) lastChangeMs = prev.lease.leaseCounter === lease.leaseCounter ? prev.lastChangeMs : nowMs;
      else lastChangeMs = lease.leaseOwner === undefined ? -Infinity : nowMs;
      this.seen.set(lease.leaseKey, {
        lease,
        lastChangeMs,
        previousCounter: prev?.lease.leaseCounter,
        previousOwner: prev?.lease.leaseOwner,
      });
    }
    for (const key of this.seen.keys()) if (!present.has(key)) this.seen.delete(key);
  }

  /** Records a write of ours that changed the counter (a take), as the KCL does after a successful take. */
  noteWrite(lease: Lease, nowMs: number): void {
    const prev = this.seen.get(lease.leaseKey);
    this.seen.set(lease.leaseKey, { lease, lastChangeMs: nowMs, previousCounter: prev?.lease.leaseCounter, previousOwner: prev?.lease.leaseOwner });
  }

  /** True when the lease has not been seen to change for more than the failover time (or never). */
  isExpired(observed: ObservedLease, nowMs: number): boolean {
    return nowMs - observed.lastChangeMs > this.failoverTimeMs;
  }

  /** The moment (local clock) after which the lease counts as expired if its counter stays still. */
  expiresAfter(observed: ObservedLease): number {
    return observed.lastChangeMs + this.failoverTimeMs;
  }

  get(leaseKey: string): ObservedLease | undefined {
    return this.seen.get(leaseKey);
  }

  all(): IterableIterator<ObservedLease> {
    return this.seen.values();
  }
}
