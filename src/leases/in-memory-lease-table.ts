import { sleepOn, type LeaseClock } from './lease-clock';
import { LeaseTableError, type LeaseTableFailure } from './lease-errors';
import { type Lease, type LeaseCheckpoint, type NewLease } from './lease';
import {
  type LeaseCreateResult,
  type LeaseGetResult,
  type LeaseScanResult,
  type LeaseTable,
  type LeaseWriteResult,
} from './lease-table';

/** The lease-table operations, for latency and failure rules. */
export type LeaseOperation = 'scan' | 'get' | 'create' | 'renew' | 'take' | 'checkpoint' | 'release';

/** An injected failure: with `probability`, a matching call fails instead of reaching the table. */
export interface LeaseFailureRule {
  readonly probability: number;
  /** `throttled`: refused, nothing written. `network`: no answer, nothing written. `lost-response`: written, answer lost. */
  readonly failure: 'throttled' | 'network' | 'lost-response';
  readonly operations?: readonly LeaseOperation[];
  readonly workerId?: string;
}

/** Options of {@link InMemoryLeaseTable}. */
export interface InMemoryLeaseTableOptions {
  /** Needed for latency; without it calls complete at once (in a microtask). */
  readonly clock?: LeaseClock;
  /** Round-trip time of one call; the write is applied halfway. Default 0. */
  readonly latencyMs?: (operation: LeaseOperation, workerId: string) => number;
  /** Decides injected failures. Default `Math.random`. */
  readonly random?: () => number;
}

/** Call and write counts, for the write-rate figures. */
export interface LeaseTableCounters {
  /** Write requests that reached the table (applied or refused by their condition), per operation. */
  readonly writes: Record<Exclude<LeaseOperation, 'scan' | 'get'>, number>;
  readonly conditionalFailures: number;
  readonly scans: number;
  readonly itemsScanned: number;
  readonly gets: number;
}

type WriteOperation = Exclude<LeaseOperation, 'scan' | 'get'>;

/**
 * A lease table in memory with the KCL's conditional-write semantics, for the simulation and unit tests. Each worker
 * talks to it through {@link connect}, which applies latency (on the worker's own clock for the answer, so a paused
 * worker gets it late), injected failures, and partitions (a partitioned worker's calls fail as network errors).
 */
export class InMemoryLeaseTable {
  private readonly items = new Map<string, Lease>();
  private readonly partitioned = new Set<string>();
  private failures: LeaseFailureRule[] = [];
  private readonly random: () => number;
  private readonly counters = {
    writes: { create: 0, renew: 0, take: 0, checkpoint: 0, release: 0 },
    conditionalFailures: 0,
    scans: 0,
    itemsScanned: 0,
    gets: 0,
  };

  constructor(private readonly options: InMemoryLeaseTableOptions = {}) {
    this.random = options.random ?? Math.random;
  }

  /** A {@link LeaseTable} for one worker. `clock` is that worker's clock (answers are delivered on it). */
  connect(workerId: string, clock?: LeaseClock): LeaseTable {
    const call = <T>(operation: LeaseOperation, apply: () => T, failed: (error: LeaseTableError) => T): Promise<T> =>
      this.call(workerId, clock, operation, apply, failed);
    const fail = (error: LeaseTableError): { outcome: 'error'; error: LeaseTableError } => ({ outcome: 'error', error });
    return {
      scan: (): Promise<LeaseScanResult> => call('scan', () => this.applyScan(), fail),
      get: (leaseKey): Promise<LeaseGetResult> =>
        call<LeaseGetResult>(
          'get',
          () => {
            this.counters.gets += 1;
            return { outcome: 'ok' as const, lease: this.items.get(leaseKey) };
          },
          fail,
        ),
      create: (lease): Promise<LeaseCreateResult> => call('create', () => this.applyCreate(lease), fail),
      renew: (leaseKey, owner, held): Promise<LeaseWriteResult> =>
        call('renew', () => this.update(leaseKey, 'renew', (l) => l.leaseCounter === held, (l) => ({ ...l, leaseCounter: held + 1 })), fail),
      take: (observed, newOwner): Promise<LeaseWriteResult> =>
        call(
          'take',
          () =>
            this.update(
              observed.leaseKey,
              'take',
              (l) => l.leaseCounter === observed.leaseCounter,
              (l) => ({
                ...l,
                leaseOwner: newOwner,
                leaseCounter: l.leaseCounter + 1,
                ownerSwitchesSinceCheckpoint: l.ownerSwitchesSinceCheckpoint + (l.leaseOwner !== undefined && l.leaseOwner !== newOwner ? 1 : 0),
              }),
            ),
          fail,
        ),
      checkpoint: (leaseKey, owner, held, checkpoint: LeaseCheckpoint): Promise<LeaseWriteResult> =>
        call(
          'checkpoint',
          () =>
            this.update(
              leaseKey,
              'checkpoint',
              (l) => l.leaseOwner === owner && l.leaseCounter === held,
              (l) => ({
                ...l,
                leaseCounter: held + 1,
                checkpoint: checkpoint.checkpoint,
                checkpointSubSequenceNumber: checkpoint.checkpointSubSequenceNumber,
                ownerSwitchesSinceCheckpoint: 0,
                ...(checkpoint.childShardIds !== undefined && checkpoint.childShardIds.length > 0 ? { childShardIds: [...checkpoint.childShardIds] } : {}),
                ...(checkpoint.latestStartedAtMs === undefined ? {} : { latestStartedAtMs: checkpoint.latestStartedAtMs }),
              }),
            ),
          fail,
        ),
      release: (leaseKey, owner, held): Promise<LeaseWriteResult> =>
        call(
          'release',
          () => this.update(leaseKey, 'release', (l) => l.leaseOwner === owner && l.leaseCounter === held, (l) => ({ ...l, leaseOwner: undefined, leaseCounter: held + 1 })),
          fail,
        ),
    };
  }

  /** Puts an item as is (seeding a scenario). */
  put(lease: Lease): void {
    this.items.set(lease.leaseKey, lease);
  }

  /** The current items (the objects are never mutated: each write stores a new one). */
  leases(): Lease[] {
    return [...this.items.values()];
  }

  lease(leaseKey: string): Lease | undefined {
    return this.items.get(leaseKey);
  }

  /** Cuts `workerId` off the table (its calls fail as network errors after their latency) until {@link heal}. */
  partition(workerId: string): void {
    this.partitioned.add(workerId);
  }

  heal(workerId: string): void {
    this.partitioned.delete(workerId);
  }

  /** Replaces the failure rules. */
  injectFailures(rules: readonly LeaseFailureRule[]): void {
    this.failures = [...rules];
  }

  get stats(): LeaseTableCounters {
    return { ...this.counters, writes: { ...this.counters.writes } };
  }

  private async call<T>(
    workerId: string,
    workerClock: LeaseClock | undefined,
    operation: LeaseOperation,
    apply: () => T,
    failed: (error: LeaseTableError) => T,
  ): Promise<T> {
    const latencyMs = this.options.latencyMs?.(operation, workerId) ?? 0;
    const clock = this.options.clock;
    // The request travels on the network (which does not pause), the answer is handled by the worker (which may).
    if (clock !== undefined && latencyMs > 0) await sleepOn(clock, latencyMs / 2);
    let outcome: T;
    if (this.partitioned.has(workerId)) {
      outcome = failed(this.error(operation, 'network', false));
    } else {
      const rule = this.failures.find(
        (r) => (r.workerId === undefined || r.workerId === workerId) && (r.operations === undefined || r.operations.includes(operation)) && this.random() < r.probability,
      );
      if (rule === undefined) outcome = apply();
      else if (rule.failure === 'lost-response') {
        apply();
        outcome = failed(this.error(operation, 'network', true));
      } else outcome = failed(this.error(operation, rule.failure, false));
    }
    if (workerClock !== undefined && latencyMs > 0) await sleepOn(workerClock, latencyMs / 2);
    return outcome;
  }

  private error(operation: LeaseOperation, failure: LeaseTableFailure, mayHaveApplied: boolean): LeaseTableError {
    return new LeaseTableError(`injected ${failure} failure of ${operation}`, { failure, mayHaveApplied });
  }

  private applyScan(): LeaseScanResult {
    this.counters.scans += 1;
    this.counters.itemsScanned += this.items.size;
    return { outcome: 'ok', scan: { leases: [...this.items.values()], nonLeaseItems: [] } };
  }

  private applyCreate(lease: NewLease): LeaseCreateResult {
    this.counters.writes.create += 1;
    if (this.items.has(lease.leaseKey)) {
      this.counters.conditionalFailures += 1;
      return { outcome: 'exists' };
    }
    this.items.set(lease.leaseKey, {
      leaseKey: lease.leaseKey,
      leaseOwner: undefined,
      leaseCounter: 0,
      checkpoint: lease.checkpoint,
      checkpointSubSequenceNumber: 0,
      ownerSwitchesSinceCheckpoint: 0,
      parentShardIds: [...(lease.parentShardIds ?? [])],
      childShardIds: [],
    });
    return { outcome: 'ok' };
  }

  private update(leaseKey: string, op: WriteOperation, condition: (lease: Lease) => boolean, change: (lease: Lease) => Lease): LeaseWriteResult {
    this.counters.writes[op] += 1;
    const current = this.items.get(leaseKey);
    if (current === undefined || !condition(current)) {
      this.counters.conditionalFailures += 1;
      return { outcome: 'lost' };
    }
    const next = change(current);
    this.items.set(leaseKey, next);
    return { outcome: 'ok', leaseCounter: next.leaseCounter };
  }
}
