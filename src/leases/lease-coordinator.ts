import { CheckpointError, LeaseLostError } from '../core/errors';
import { systemLeaseClock, type LeaseClock, type LeaseTimer } from './lease-clock';
import {
  resolveLeaseTiming,
  type LeaseCoordinatorOptions,
  type LeaseLossReason,
  type ResolvedLeaseTiming,
} from './lease-coordinator-options';
import { LeaseConflictError } from './lease-errors';
import { LeaseExpiryTracker } from './lease-expiry-tracker';
import { SHARD_END, type Lease, type LeaseCheckpoint, type LeaseScan, type NewLease } from './lease';
import { type LeaseWriteResult } from './lease-table';
import { planLeaseTakes, type PlannedTake, type TakePlan } from './lease-take-plan';
import { detectForeignLeaseUsers } from './foreign-lease-users';
import { isShardlineWorkerId } from './worker-id';

/** A lease this worker holds. See the state diagram on {@link LeaseCoordinator}. */
interface HeldLease {
  readonly shardId: string;
  lease: Lease;
  /** The counter our last successful write left on the item: the condition of our next write. */
  counter: number;
  /** Local deadline: send time of the last successful renewal (or take, or checkpoint) + failover − margin. */
  validUntilMs: number;
  state: 'waiting' | 'reading' | 'releasing';
  readTimer: LeaseTimer | undefined;
  /** Serialises this lease's writes: a renewal must not race our own checkpoint (both raise the counter). */
  chain: Promise<unknown>;
}

/** What {@link LeaseCoordinator.status} reports. */
export interface LeaseCoordinatorStatus {
  readonly workerId: string;
  /** Leases held (reading or waiting to read after a steal). */
  readonly held: number;
  /** Of which being read. */
  readonly reading: number;
  /** From the last taker pass. */
  readonly target: number;
  readonly liveWorkers: number;
  readonly workableLeases: number;
}

/**
 * The lease protocol of one worker of a polling fleet, on a KCL lease table (docs/leases.md). It renews the leases it
 * holds every `leaseRenewalIntervalMs`, scans the table every `leaseTakerIntervalMs` (and again just after the
 * earliest moment another worker's lease would expire) to take its fair share, and tells the record source when it
 * gains or loses a shard. All time comes from the injected {@link LeaseClock}, so the simulation is deterministic.
 *
 * Per lease:
 * ```
 *                take (unowned, expired, orphan)
 *   (not held) ─────────────────────────────────────────► READING ──┐ renew ok: deadline moves on
 *      │   ▲                                                │  ▲    │
 *      │   │ lost / deadline, silently      readableAt      │  └────┘
 *      │   └──────────────── WAITING ───────────────────────┤
 *      │ take (steal)          ▲                            │ renew or checkpoint lost, deadline passed, halt
 *      └───────────────────────┘                            ├─────────► onLeaseLost ──► (not held)
 *                                                           │ stop(): onLeaseShutdown (final checkpoint)
 *                                                           └─────────► RELEASING ── release write ──► (not held)
 * ```
 * Safety invariant: a worker stops reading a lease (its deadline, checked by {@link isHeld}) at
 * `send time of its last successful write + failover − margin`; another worker may take it only after it saw the
 * counter unchanged for more than `failover` from a scan that returned after that write was applied, hence later
 * than the send time. So the two ownership periods never overlap, whatever the pauses, latency or lost responses.
 * A stolen lease is read only `stolenLeaseReadDelayMs` after the steal, when the victim's deadline has passed.
 */
export class LeaseCoordinator {
  readonly workerId: string;
  readonly timing: ResolvedLeaseTiming;
  private readonly clock: LeaseClock;
  private readonly random: () => number;
  private readonly tracker: LeaseExpiryTracker;
  private readonly held = new Map<string, HeldLease>();
  private renewTimer: LeaseTimer | undefined;
  private takerTimer: LeaseTimer | undefined;
  private deadlineTimer: { timer: LeaseTimer; atMs: number } | undefined;
  private nextRenewAtMs = 0;
  private passes = 0;
  private lastPlan: TakePlan | undefined;
  private previousScan: LeaseScan | undefined;
  private running = false;
  private stopping = false;

  constructor(private readonly options: LeaseCoordinatorOptions) {
    this.workerId = options.workerId;
    this.timing = resolveLeaseTiming(options);
    this.clock = options.clock ?? systemLeaseClock;
    this.random = options.random ?? Math.random;
    this.tracker = new LeaseExpiryTracker(this.timing.failoverTimeMs);
  }

  /** Starts the renewer and the taker (whose first pass runs at once). */
  start(): void {
    if (this.running) return;
    this.running = true;
    this.nextRenewAtMs = this.clock.now() + this.timing.leaseRenewalIntervalMs;
    this.renewTimer = this.clock.setTimer(() => this.renewPass(), this.timing.leaseRenewalIntervalMs);
    this.takerTimer = this.clock.setTimer(() => void this.takerPass(), 0);
  }

  /**
   * Graceful stop: no more takes; each lease being read gets `onLeaseShutdown` (stop reading, final checkpoint),
   * then is released (owner removed, counter raised) so that other workers take it at their next scan.
   */
  async stop(): Promise<void> {
    if (!this.running || this.stopping) return;
    this.stopping = true;
    this.takerTimer?.cancel();
    await Promise.all(
      [...this.held.values()].map(async (h) => {
        if (h.state === 'reading' && this.options.onLeaseShutdown !== undefined) {
          try {
            await this.options.onLeaseShutdown(h.shardId);
          } catch {
            // The release goes ahead: the checkpoint the callback did not write is re-read by the next owner.
          }
        }
        await this.releaseHeld(h);
      }),
    );
    this.shutdownTimers();
  }

  /** Stops every timer without writing anything, as if the process died: the leases expire for the others. */
  abandon(): void {
    this.shutdownTimers();
    for (const h of this.held.values()) h.readTimer?.cancel();
    this.held.clear();
  }

  /** True while this worker may read `shardId`: it holds the lease, is past any steal delay, and before its deadline. */
  isHeld(shardId: string): boolean {
    const h = this.held.get(shardId);
    return h !== undefined && h.state === 'reading' && this.clock.now() < h.validUntilMs;
  }

  /** Shards being read now. */
  heldShardIds(): string[] {
    return [...this.held.keys()].filter((id) => this.isHeld(id));
  }

  /** The local deadline of a held lease (for tests and status pages). */
  validUntilMs(shardId: string): number | undefined {
    return this.held.get(shardId)?.validUntilMs;
  }

  status(): LeaseCoordinatorStatus {
    return {
      workerId: this.workerId,
      held: this.held.size,
      reading: [...this.held.values()].filter((h) => h.state === 'reading').length,
      target: this.lastPlan?.target ?? 0,
      liveWorkers: this.lastPlan?.liveWorkers ?? 0,
      workableLeases: this.lastPlan?.workableLeases ?? 0,
    };
  }

  /** Creates the leases of newly discovered shards that have none (no owner, counter 0). Returns how many were created. */
  async ensureLeases(leases: readonly NewLease[]): Promise<number> {
    let created = 0;
    for (const lease of leases) {
      const result = await this.options.table.create(lease);
      if (result.outcome === 'ok') created += 1;
      else if (result.outcome === 'error') throw new CheckpointError(`cannot create the lease of ${lease.leaseKey}: ${result.error.message}`, { cause: result.error, shardId: lease.leaseKey });
    }
    return created;
  }

  /**
   * Stores a checkpoint, fenced on owner and counter, after any write in flight for this lease. Rejects with
   * {@link LeaseLostError} when the lease is no longer ours (nothing is written), with {@link CheckpointError} when the
   * table failed (the lease is kept; try again).
   */
  checkpoint(shardId: string, checkpoint: LeaseCheckpoint): Promise<void> {
    const h = this.held.get(shardId);
    if (h === undefined || !this.isHeld(shardId)) return Promise.reject(this.lostError(shardId));
    return this.enqueue(h, async () => {
      if (this.held.get(shardId) !== h || this.clock.now() >= h.validUntilMs) throw this.lostError(shardId);
      const result = await this.fencedWrite(h, (counter) => this.options.table.checkpoint(shardId, this.workerId, counter, checkpoint));
      if (result.outcome === 'ok') return;
      if (result.outcome === 'lost') {
        this.lose(h, 'taken');
        throw this.lostError(shardId);
      }
      throw new CheckpointError(`checkpoint of ${shardId} failed (${result.error.failure}): ${result.error.message}; it is retried with the next batch`, { cause: result.error, shardId });
    });
  }

  /** Checkpoints `SHARD_END` (with the children) and releases the lease: the shard is done, its children may start. */
  async finishShard(shardId: string, childShardIds: readonly string[] = []): Promise<void> {
    await this.checkpoint(shardId, { checkpoint: SHARD_END, checkpointSubSequenceNumber: 0, childShardIds });
    const h = this.held.get(shardId);
    if (h !== undefined) await this.releaseHeld(h);
  }

  // ---- renewer ---------------------------------------------------------------------------------------------------

  private renewPass(): void {
    if (!this.running) return;
    const now = this.clock.now();
    for (const h of [...this.held.values()]) {
      if (h.state === 'releasing') continue;
      if (now >= h.validUntilMs) this.lose(h, 'expired');
      else void this.enqueue(h, () => this.renewOne(h)).catch(() => undefined);
    }
    // Fixed rate, like the KCL's renewer; passes missed during a pause are skipped, not replayed.
    do this.nextRenewAtMs += this.timing.leaseRenewalIntervalMs;
    while (this.nextRenewAtMs <= now);
    this.renewTimer = this.clock.setTimer(() => this.renewPass(), this.nextRenewAtMs - now);
  }

  private async renewOne(h: HeldLease): Promise<void> {
    if (this.held.get(h.shardId) !== h || h.state === 'releasing') return;
    if (this.clock.now() >= h.validUntilMs) return this.lose(h, 'expired'); // never renew a lease expired in our own view
    const result = await this.fencedWrite(h, (counter) => this.options.table.renew(h.shardId, this.workerId, counter));
    if (result.outcome === 'lost' && this.held.get(h.shardId) === h) this.lose(h, 'taken');
    // Throttled or failed: keep the lease and try at the next pass; the deadline timer drops it if none succeeds.
  }

  /**
   * A write fenced on our counter. On a conditional failure, checks whether our own earlier write landed with its
   * answer lost (owner me, counter held + 1: the KCL's spurious-failure check); if so, adopts that counter and
   * writes once more. A success moves the local deadline to this write's send time + failover − margin.
   */
  private async fencedWrite(h: HeldLease, write: (counter: number) => Promise<LeaseWriteResult>): Promise<LeaseWriteResult> {
    for (let attempt = 0; ; attempt++) {
      const sentAtMs = this.clock.now();
      const result = await write(h.counter);
      if (result.outcome === 'ok') {
        this.renewed(h, result.leaseCounter, sentAtMs);
        return result;
      }
      if (result.outcome === 'error' || attempt > 0 || this.held.get(h.shardId) !== h) return result;
      const current = await this.recheck(h);
      if (current === undefined) return result;
      h.counter = current.leaseCounter;
      if (this.clock.now() >= h.validUntilMs) return result;
    }
  }

  /** After a conditional failure: was it our own earlier write whose response was lost (owner me, counter held + 1)? */
  private async recheck(h: HeldLease): Promise<Lease | undefined> {
    const got = await this.options.table.get(h.shardId);
    if (got.outcome !== 'ok' || got.lease === undefined) return undefined;
    return got.lease.leaseOwner === this.workerId && got.lease.leaseCounter === h.counter + 1 ? got.lease : undefined;
  }

  private renewed(h: HeldLease, leaseCounter: number, sentAtMs: number): void {
    h.counter = leaseCounter;
    h.validUntilMs = Math.max(h.validUntilMs, sentAtMs + this.timing.failoverTimeMs - this.timing.leaseSafetyMarginMs);
    this.armDeadline();
  }

  // ---- taker -----------------------------------------------------------------------------------------------------

  private async takerPass(): Promise<void> {
    if (!this.running || this.stopping) return;
    const result = await this.options.table.scan();
    if (!this.running || this.stopping) return;
    const now = this.clock.now(); // after the response: every change the scan saw was applied before this moment
    let nextDelayMs = this.timing.leaseTakerIntervalMs;
    if (result.outcome === 'ok') {
      const conflict = detectForeignLeaseUsers({
        scan: result.scan,
        ...(this.previousScan === undefined ? {} : { previous: this.previousScan }),
        isOwnFleetWorker: this.options.isOwnFleetWorker ?? ((id) => id === this.workerId || isShardlineWorkerId(id)),
      });
      this.previousScan = result.scan;
      if (conflict?.live === true) return this.halt(new LeaseConflictError(conflict.message));
      this.tracker.update(result.scan.leases, now);
      const plan = planLeaseTakes({
        workerId: this.workerId,
        nowMs: now,
        tracker: this.tracker,
        held: new Set(this.held.keys()),
        random: this.random,
        // A worker's first pass takes one lease only: it makes this worker visible as an owner, so that workers
        // starting together compute the same fair share at their next pass instead of each taking everything.
        maxTakes: this.passes === 0 ? 1 : Number.POSITIVE_INFINITY,
        maxSteals: this.timing.maxLeasesToStealAtOneTime,
      });
      this.lastPlan = plan;
      await this.takeSome(plan);
      this.passes += 1;
      if (plan.nextExpiryMs !== undefined) {
        const untilExpiry = plan.nextExpiryMs + 1 - this.clock.now();
        nextDelayMs = Math.min(nextDelayMs, Math.max(untilExpiry, this.timing.leaseRenewalIntervalMs / 10));
      }
    }
    if (!this.running || this.stopping) return;
    this.takerTimer = this.clock.setTimer(() => void this.takerPass(), nextDelayMs);
  }

  /**
   * Takes `plan.wanted` leases, `wanted` at a time, moving on to the next candidate after a lost race (two workers
   * that picked the same lease): otherwise the loser would wait a whole taker interval. Attempts are bounded.
   */
  private async takeSome(plan: TakePlan): Promise<void> {
    const queue = [...plan.takes];
    let attempts = 2 * plan.wanted + 2;
    let taken = 0;
    let inFlight = 0;
    const lane = async (): Promise<void> => {
      while (taken + inFlight < plan.wanted && attempts > 0) {
        const next = queue.shift();
        if (next === undefined) return;
        attempts -= 1;
        inFlight += 1;
        const ok = await this.takeOne(next);
        inFlight -= 1;
        if (ok) taken += 1;
      }
    };
    await Promise.all(Array.from({ length: plan.wanted }, lane));
  }

  private async takeOne(take: PlannedTake): Promise<boolean> {
    let observed = take.lease;
    if (take.kind === 'steal') {
      // The victim renews (and checkpoints) all the time: take on its current counter, not the scan's (the KCL
      // refetches when its scan was slow). Skip if it changed hands or finished meanwhile.
      const fresh = await this.options.table.get(observed.leaseKey);
      if (fresh.outcome !== 'ok' || fresh.lease === undefined || fresh.lease.leaseOwner !== observed.leaseOwner || fresh.lease.checkpoint === SHARD_END) return false;
      observed = fresh.lease;
    }
    const sentAtMs = this.clock.now();
    const result = await this.options.table.take(observed, this.workerId);
    if (result.outcome !== 'ok') return false; // lost the race, or the table failed: the next pass sees the new state
    const lease: Lease = { ...observed, leaseOwner: this.workerId, leaseCounter: result.leaseCounter };
    const h: HeldLease = {
      shardId: lease.leaseKey,
      lease,
      counter: result.leaseCounter,
      validUntilMs: sentAtMs + this.timing.failoverTimeMs - this.timing.leaseSafetyMarginMs,
      state: 'waiting',
      readTimer: undefined,
      chain: Promise.resolve(),
    };
    if (!this.running || this.stopping) {
      await this.releaseHeld(h);
      return false;
    }
    this.held.set(h.shardId, h);
    this.tracker.noteWrite(lease, this.clock.now());
    this.armDeadline();
    const delayMs = take.kind === 'steal' ? this.timing.stolenLeaseReadDelayMs : 0;
    if (delayMs <= 0) this.startReading(h);
    else h.readTimer = this.clock.setTimer(() => this.startReading(h), delayMs);
    return true;
  }

  private startReading(h: HeldLease): void {
    if (this.held.get(h.shardId) !== h || h.state !== 'waiting') return;
    if (this.clock.now() >= h.validUntilMs) return this.lose(h, 'expired');
    h.state = 'reading';
    this.options.onLeaseAcquired(h.shardId, { ...h.lease, leaseCounter: h.counter });
  }

  // ---- losing and releasing --------------------------------------------------------------------------------------

  private lose(h: HeldLease, reason: LeaseLossReason): void {
    if (this.held.get(h.shardId) !== h) return;
    this.held.delete(h.shardId);
    h.readTimer?.cancel();
    if (h.state === 'reading') this.options.onLeaseLost(h.shardId, { reason, validUntilMs: h.validUntilMs });
    this.armDeadline();
  }

  private releaseHeld(h: HeldLease): Promise<void> {
    h.state = 'releasing';
    h.readTimer?.cancel();
    return this.enqueue(h, async () => {
      // Best effort: a lease we no longer hold needs no release, and a failed release simply expires.
      if (this.clock.now() < h.validUntilMs) await this.options.table.release(h.shardId, this.workerId, h.counter);
      if (this.held.get(h.shardId) === h) this.held.delete(h.shardId);
      this.armDeadline();
    });
  }

  private halt(error: LeaseConflictError): void {
    this.shutdownTimers();
    for (const h of [...this.held.values()]) this.lose(h, 'halted');
    this.options.onConflict?.(error);
  }

  /** One timer at the earliest local deadline, so that a lease whose renewals keep failing is dropped on time. */
  private armDeadline(): void {
    if (!this.running) return;
    let earliest = Number.POSITIVE_INFINITY;
    for (const h of this.held.values()) if (h.state !== 'releasing' && h.validUntilMs < earliest) earliest = h.validUntilMs;
    if (this.deadlineTimer?.atMs === earliest) return;
    this.deadlineTimer?.timer.cancel();
    this.deadlineTimer = undefined;
    if (earliest === Number.POSITIVE_INFINITY) return;
    const timer = this.clock.setTimer(() => {
      this.deadlineTimer = undefined;
      const now = this.clock.now();
      for (const h of [...this.held.values()]) if (h.state !== 'releasing' && now >= h.validUntilMs) this.lose(h, 'expired');
      this.armDeadline();
    }, earliest - this.clock.now());
    this.deadlineTimer = { timer, atMs: earliest };
  }

  private shutdownTimers(): void {
    this.running = false;
    this.renewTimer?.cancel();
    this.takerTimer?.cancel();
    this.deadlineTimer?.timer.cancel();
    this.deadlineTimer = undefined;
  }

  private enqueue<T>(h: HeldLease, work: () => Promise<T>): Promise<T> {
    const next = h.chain.then(work, work);
    h.chain = next.catch(() => undefined);
    return next;
  }

  private lostError(shardId: string): LeaseLostError {
    return new LeaseLostError(`the lease of ${shardId} is no longer held by ${this.workerId}: not checkpointing (the new owner re-reads from the last checkpoint)`, { shardId });
  }
}
