import { ConfigurationError } from '../core/errors';
import { type LeaseClock } from './lease-clock';
import { type LeaseConflictError } from './lease-errors';
import { type Lease } from './lease';
import { type LeaseTable } from './lease-table';

/** Why a worker stopped owning a lease without releasing it. */
export type LeaseLossReason =
  /** A write conditioned on our counter failed: another worker took the lease. */
  | 'taken'
  /** No renewal succeeded before this worker's own deadline (partition, throttling, a long pause). */
  | 'expired'
  /** The coordinator halted (a foreign lease user was found, or {@link LeaseCoordinator.abandon}). */
  | 'halted';

/** Passed to `onLeaseLost`. */
export interface LeaseLoss {
  readonly reason: LeaseLossReason;
  /** The local deadline the lease had: reading after it was never allowed. */
  readonly validUntilMs: number;
}

/** Options of {@link LeaseCoordinator}. Durations are in milliseconds of the injected monotonic clock. */
export interface LeaseCoordinatorOptions {
  readonly table: LeaseTable;
  /** This worker's id in `leaseOwner`; use {@link createShardlineWorkerId} (the prefix lets others recognise shardline). */
  readonly workerId: string;
  /** Default: {@link systemLeaseClock}. The simulation injects a fake clock. */
  readonly clock?: LeaseClock;
  /** Default `Math.random`; the simulation injects a seeded generator. */
  readonly random?: () => number;
  /** A lease not seen to change for longer than this is expired. Default 10,000 (the KCL's). */
  readonly failoverTimeMs?: number;
  /** How often held leases are renewed. Default failover / 3 − 25 (the KCL's: 3,308). */
  readonly leaseRenewalIntervalMs?: number;
  /** How often the table is scanned to take leases. Default failover / 2 (5,000). */
  readonly leaseTakerIntervalMs?: number;
  /**
   * A lease counts as lost locally this long before the earliest moment another worker may take it:
   * local deadline = send time of the last successful renewal + failover − margin. Default failover / 10 (1,000).
   * Must be less than failover − 2 × renewal interval so that one failed renewal is survived.
   */
  readonly leaseSafetyMarginMs?: number;
  /**
   * A stolen lease is only handed to the reader this long after the steal, when its previous owner has surely
   * stopped (its deadline was at most failover − margin after its last renewal). Default failover − margin.
   */
  readonly stolenLeaseReadDelayMs?: number;
  /** The KCL's `maxLeasesToStealAtOneTime`. Default 1. */
  readonly maxLeasesToStealAtOneTime?: number;
  /** A lease is ours: start reading `shardId` from `lease.checkpoint`. */
  readonly onLeaseAcquired: (shardId: string, lease: Lease) => void;
  /** The lease is no longer ours: stop reading `shardId` now and do not checkpoint it. */
  readonly onLeaseLost: (shardId: string, loss: LeaseLoss) => void;
  /**
   * Graceful stop of one shard: stop reading it and checkpoint what was processed (through
   * {@link LeaseCoordinator.checkpoint}); the lease is released when the promise settles. Default: nothing to do.
   */
  readonly onLeaseShutdown?: (shardId: string) => Promise<void>;
  /** A foreign lease user was found on the table: the coordinator has halted; the process should exit with this message. */
  readonly onConflict?: (error: LeaseConflictError) => void;
  /** Leases owned by workers whose id this does not accept and that renew are a conflict. Default: the shardline prefix. */
  readonly isOwnFleetWorker?: (workerId: string) => boolean;
}

/** The options with every default applied. */
export interface ResolvedLeaseTiming {
  readonly failoverTimeMs: number;
  readonly leaseRenewalIntervalMs: number;
  readonly leaseTakerIntervalMs: number;
  readonly leaseSafetyMarginMs: number;
  readonly stolenLeaseReadDelayMs: number;
  readonly maxLeasesToStealAtOneTime: number;
}

/** The KCL's epsilon, subtracted from the renewal interval. */
const EPSILON_MS = 25;

/** Applies the defaults and checks that the timing keeps the safety invariant (docs/leases.md). */
export function resolveLeaseTiming(options: Partial<ResolvedLeaseTiming>): ResolvedLeaseTiming {
  const failoverTimeMs = options.failoverTimeMs ?? 10_000;
  const leaseRenewalIntervalMs = options.leaseRenewalIntervalMs ?? Math.max(1, Math.floor(failoverTimeMs / 3) - EPSILON_MS);
  const leaseTakerIntervalMs = options.leaseTakerIntervalMs ?? Math.floor(failoverTimeMs / 2);
  const leaseSafetyMarginMs = options.leaseSafetyMarginMs ?? Math.floor(failoverTimeMs / 10);
  const stolenLeaseReadDelayMs = options.stolenLeaseReadDelayMs ?? failoverTimeMs - leaseSafetyMarginMs;
  const maxLeasesToStealAtOneTime = options.maxLeasesToStealAtOneTime ?? 1;
  const fail = (what: string): never => {
    throw new ConfigurationError(`lease timing: ${what}; see docs/leases.md for the parameters and their defaults`);
  };
  for (const [name, value] of Object.entries({ failoverTimeMs, leaseRenewalIntervalMs, leaseTakerIntervalMs })) {
    if (!Number.isFinite(value) || value <= 0) fail(`${name} must be a positive number, got ${value}`);
  }
  if (leaseSafetyMarginMs <= 0) fail(`leaseSafetyMarginMs must be positive, got ${leaseSafetyMarginMs}`);
  if (leaseRenewalIntervalMs + leaseSafetyMarginMs >= failoverTimeMs) {
    fail(`leaseRenewalIntervalMs (${leaseRenewalIntervalMs}) + leaseSafetyMarginMs (${leaseSafetyMarginMs}) must be below failoverTimeMs (${failoverTimeMs})`);
  }
  if (stolenLeaseReadDelayMs < 0) fail(`stolenLeaseReadDelayMs must not be negative`);
  if (!Number.isInteger(maxLeasesToStealAtOneTime) || maxLeasesToStealAtOneTime < 0) fail('maxLeasesToStealAtOneTime must be a whole number');
  return { failoverTimeMs, leaseRenewalIntervalMs, leaseTakerIntervalMs, leaseSafetyMarginMs, stolenLeaseReadDelayMs, maxLeasesToStealAtOneTime };
}
