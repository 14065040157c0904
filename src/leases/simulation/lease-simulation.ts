import { type ResolvedLeaseTiming } from '../lease-coordinator-options';
import { LeaseCoordinator } from '../lease-coordinator';
import { InMemoryLeaseTable, type LeaseFailureRule, type LeaseTableCounters } from '../in-memory-lease-table';
import { isFinished, type Lease } from '../lease';
import { FakeClock } from './fake-clock';
import { OwnershipLog } from './ownership-log';
import { seededRandom } from './seeded-random';
import { WorkerClock } from './worker-clock';

/** Options of {@link LeaseSimulation}. Durations in virtual milliseconds. */
export interface LeaseSimulationOptions {
  readonly shards: number;
  readonly seed?: number;
  readonly timing?: Partial<ResolvedLeaseTiming>;
  /** Round trip of each table call, uniform in [min, max]. Default 5–30 ms. */
  readonly latencyMs?: { readonly min: number; readonly max: number };
  readonly failures?: readonly LeaseFailureRule[];
  /** Items to start from instead of `shards` unowned `TRIM_HORIZON` leases. */
  readonly leases?: readonly Lease[];
  /** Each worker checkpoints each shard it reads this often (a checkpoint is a fenced write too). Default: never. */
  readonly checkpointEveryMs?: number;
}

/** One simulated process. */
export interface SimulatedWorker {
  readonly id: string;
  readonly clock: WorkerClock;
  readonly coordinator: LeaseCoordinator;
  state: 'running' | 'killed' | 'stopping' | 'stopped';
}

/**
 * A deterministic run of the lease protocol: N coordinators on one {@link FakeClock} and one
 * {@link InMemoryLeaseTable}, with injected latency and failures, pauses, partitions, kills, graceful stops and
 * joins. Measures convergence to fair share, double ownership (from the coordinators' own callbacks and deadlines)
 * and the table's write rate. Used by test/unit/leases and bench/leases.
 */
export class LeaseSimulation {
  readonly clock = new FakeClock();
  readonly table: InMemoryLeaseTable;
  readonly ownership = new OwnershipLog();
  readonly workers = new Map<string, SimulatedWorker>();
  private readonly random: () => number;
  private nextId = 0;
  private sequence = 0;

  constructor(private readonly options: LeaseSimulationOptions) {
    this.random = seededRandom(options.seed ?? 1);
    const latency = options.latencyMs ?? { min: 5, max: 30 };
    this.table = new InMemoryLeaseTable({
      clock: this.clock,
      random: this.random,
      latencyMs: () => latency.min + Math.floor(this.random() * (latency.max - latency.min + 1)),
    });
    if (options.failures !== undefined) this.table.injectFailures(options.failures);
    const seed = options.leases ?? Array.from({ length: options.shards }, (_, i) => unownedLease(`shardId-${String(i).padStart(12, '0')}`));
    for (const lease of seed) this.table.put(lease);
  }

  get now(): number {
    return this.clock.now();
  }

  /** Starts a worker now (or after `delayMs`). */
  addWorker(delayMs = 0, id = `shardline:sim:${this.nextId++}`): SimulatedWorker {
    const clock = new WorkerClock(this.clock);
    const coordinator = new LeaseCoordinator({
      table: this.table.connect(id, clock),
      workerId: id,
      clock,
      random: seededRandom(Math.floor(this.random() * 2 ** 32)),
      ...this.options.timing,
      onLeaseAcquired: (shardId) => this.ownership.begin(shardId, id, this.clock.now()),
      onLeaseLost: (shardId, loss) => this.ownership.end(shardId, id, Math.min(this.clock.now(), loss.validUntilMs)),
      onLeaseShutdown: (shardId) => {
        this.ownership.end(shardId, id, this.clock.now());
        return Promise.resolve();
      },
    });
    const worker: SimulatedWorker = { id, clock, coordinator, state: 'running' };
    this.workers.set(id, worker);
    this.clock.setTimer(() => {
      coordinator.start();
      if (this.options.checkpointEveryMs !== undefined) this.checkpointLoop(worker, this.options.checkpointEveryMs);
    }, delayMs);
    return worker;
  }

  /** kill -9: the process stops at once, writes nothing, and its leases expire for the others. */
  kill(id: string): void {
    const w = this.worker(id);
    w.state = 'killed';
    w.clock.kill();
    w.coordinator.abandon();
    this.ownership.endAll(id, this.clock.now());
  }

  /** Freezes the process for `durationMs` (a GC pause): its timers and answers run late, at resume. */
  pause(id: string, durationMs: number): void {
    const w = this.worker(id);
    w.clock.pause();
    this.clock.setTimer(() => w.clock.resume(), durationMs);
  }

  /** Cuts the worker off the table for `durationMs`. */
  partition(id: string, durationMs: number): void {
    this.table.partition(id);
    this.clock.setTimer(() => this.table.heal(id), durationMs);
  }

  /** Graceful stop (SIGTERM): shutdown callbacks, then releases. */
  stop(id: string): void {
    const w = this.worker(id);
    w.state = 'stopping';
    void w.coordinator.stop().then(() => {
      w.state = 'stopped';
    });
  }

  /** The current owner of a shard checkpoints `SHARD_END` and releases it. */
  async finishShard(shardId: string): Promise<void> {
    const owner = this.table.lease(shardId)?.leaseOwner;
    if (owner === undefined) throw new Error(`${shardId} has no owner`);
    const w = this.worker(owner);
    const done = w.coordinator.finishShard(shardId).then(() => this.ownership.end(shardId, owner, this.clock.now()));
    let settled = false;
    void done.finally(() => (settled = true));
    for (let i = 0; i < 100 && !settled; i++) await this.runFor(10);
    await done;
  }

  async runFor(durationMs: number): Promise<void> {
    await this.clock.runUntil(this.clock.now() + durationMs);
  }

  /** Runs until `predicate` holds (checked every `stepMs`); returns the time it first held, or undefined after `maxMs`. */
  async runUntil(predicate: () => boolean, maxMs: number, stepMs = 100): Promise<number | undefined> {
    const end = this.clock.now() + maxMs;
    while (this.clock.now() < end) {
      if (predicate()) return this.clock.now();
      await this.runFor(stepMs);
    }
    return predicate() ? this.clock.now() : undefined;
  }

  /** Workers that are running (not killed, not stopped or stopping). */
  liveWorkerIds(): string[] {
    return [...this.workers.values()].filter((w) => w.state === 'running').map((w) => w.id);
  }

  /** Leases owned per live worker, in the table. */
  ownedCounts(): Map<string, number> {
    const counts = new Map<string, number>(this.liveWorkerIds().map((id) => [id, 0]));
    for (const lease of this.table.leases()) {
      if (lease.leaseOwner !== undefined && counts.has(lease.leaseOwner)) counts.set(lease.leaseOwner, (counts.get(lease.leaseOwner) ?? 0) + 1);
    }
    return counts;
  }

  /**
   * Fair share ± 1: every unfinished lease is owned by a live worker, and each live worker owns within 1 of
   * unfinished leases ÷ live workers.
   */
  isBalanced(): boolean {
    const live = new Set(this.liveWorkerIds());
    if (live.size === 0) return false;
    const workable = this.table.leases().filter((l) => !isFinished(l));
    if (workable.some((l) => l.leaseOwner === undefined || !live.has(l.leaseOwner))) return false;
    const fair = workable.length / live.size;
    return [...this.ownedCounts().values()].every((n) => Math.abs(n - fair) <= 1);
  }

  /** True when no lease is owned by `id` any more. */
  ownsNothing(id: string): boolean {
    return this.table.leases().every((l) => l.leaseOwner !== id);
  }

  /** The longest time two workers both were allowed to read one shard, so far. */
  maxDoubleOwnershipMs(): number {
    return this.ownership.maxDoubleOwnershipMs((shardId, workerId) => {
      const w = this.workers.get(workerId);
      const until = w?.coordinator.validUntilMs(shardId);
      return until === undefined ? this.clock.now() : Math.min(this.clock.now(), until);
    }).ms;
  }

  stats(): LeaseTableCounters {
    return this.table.stats;
  }

  private worker(id: string): SimulatedWorker {
    const w = this.workers.get(id);
    if (w === undefined) throw new Error(`no simulated worker ${id}`);
    return w;
  }

  private checkpointLoop(w: SimulatedWorker, everyMs: number): void {
    w.clock.setTimer(() => {
      if (w.state !== 'running') return;
      for (const shardId of w.coordinator.heldShardIds()) {
        const sequenceNumber = String(++this.sequence);
        void w.coordinator.checkpoint(shardId, { checkpoint: sequenceNumber, checkpointSubSequenceNumber: 0 }).catch(() => undefined);
      }
      this.checkpointLoop(w, everyMs);
    }, everyMs);
  }
}

/** A lease nobody owns yet, as shard sync creates it. */
export function unownedLease(leaseKey: string, parentShardIds: readonly string[] = [], checkpoint = 'TRIM_HORIZON'): Lease {
  return {
    leaseKey,
    leaseOwner: undefined,
    leaseCounter: 0,
    checkpoint,
    checkpointSubSequenceNumber: 0,
    ownerSwitchesSinceCheckpoint: 0,
    parentShardIds,
    childShardIds: [],
  };
}

/** Write requests per second per 1,000 shards between two counter snapshots. */
export function writeRatePer1000Shards(before: LeaseTableCounters, after: LeaseTableCounters, durationMs: number, shards: number): number {
  const sum = (c: LeaseTableCounters): number => Object.values(c.writes).reduce((a, b) => a + b, 0);
  return ((sum(after) - sum(before)) / (durationMs / 1000)) * (1000 / shards);
}
