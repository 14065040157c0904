import { type Lease, type LeaseScan, type NonLeaseItem } from './lease';
import { isShardlineWorkerId } from './worker-id';

/** Keys KCL 3.5+ gives its own non-lease items in the lease table (kcl-leases.md §8). */
export const KCL3_ITEM_KEYS: readonly string[] = ['Leader', 'Migration3.0', 'TableMigration3.5'];

/** Companion tables of KCL 3.0–3.4, named after the application: `<app>-CoordinatorState`, `<app>-WorkerMetricStats`. */
export function kclCompanionTableNames(applicationName: string): readonly string[] {
  return [`${applicationName}-CoordinatorState`, `${applicationName}-WorkerMetricStats`];
}

/** Inputs of {@link detectForeignLeaseUsers}. */
export interface ForeignLeaseUsersInput {
  readonly scan: LeaseScan;
  /** The previous scan of the same table, when there was one: changes between the two show live writers. */
  readonly previous?: LeaseScan;
  /** The application's name and the tables that exist (for the KCL 3.0–3.4 companion tables). */
  readonly applicationName?: string;
  readonly existingTables?: readonly string[];
  /** Wall-clock now, epoch ms (compared with KCL 3 worker-metrics `lut`). Default `Date.now()`. */
  readonly wallClockMs?: number;
  /** A KCL 3 worker reporting metrics within this window is alive. Default 120,000 (KCL 3 reports every 30 s). */
  readonly workerMetricsLivenessMs?: number;
  /** Default: the shardline worker-id prefix. */
  readonly isOwnFleetWorker?: (workerId: string) => boolean;
}

/** What {@link detectForeignLeaseUsers} found. */
export interface ForeignLeaseUse {
  /** True when another consumer is using the table now: refuse to run. False: traces of a past KCL 3 run only. */
  readonly live: boolean;
  /** One line: what was found and what to do. */
  readonly message: string;
}

/**
 * Recognises another lease consumer on the table (kcl-leases.md §11). Live use refuses: KCL 3 non-lease items that
 * change between two scans or worker metrics reported recently (a running KCL 3 application), or leases owned by
 * non-shardline workers whose counter moves (a running KCL 2.x/3.x worker renewing or taking). Traces alone (a
 * `Leader` item, `entityType`, companion tables, owners that do not renew) are reported with `live: false`: they are
 * what a stopped `--adapter kcl` run leaves behind, and moving an application between the adapters must keep working.
 */
export function detectForeignLeaseUsers(input: ForeignLeaseUsersInput): ForeignLeaseUse | undefined {
  const own = input.isOwnFleetWorker ?? isShardlineWorkerId;
  const wallNow = input.wallClockMs ?? Date.now();
  const livenessMs = input.workerMetricsLivenessMs ?? 120_000;
  const stop = 'stop the other consumer (or give this application its own lease table) before starting shardline';

  const previousItems = new Map<string, NonLeaseItem>((input.previous?.nonLeaseItems ?? []).map((i) => [i.leaseKey, i]));
  for (const item of input.scan.nonLeaseItems) {
    const lut = item.lastUpdateEpochSeconds;
    if (lut !== undefined && wallNow - lut * 1000 <= livenessMs) {
      return { live: true, message: `a KCL 3 worker (${item.leaseKey}) reported metrics to this lease table ${Math.round((wallNow - lut * 1000) / 1000)} s ago: ${stop}` };
    }
    const before = previousItems.get(item.leaseKey);
    if (before !== undefined && before.fingerprint !== item.fingerprint) {
      return { live: true, message: `the KCL 3 item ${item.leaseKey} (${item.entityType ?? 'no entityType'}) of this lease table is being updated: a KCL 3 application is running on it: ${stop}` };
    }
  }

  const previousLeases = new Map<string, Lease>((input.previous?.leases ?? []).map((l) => [l.leaseKey, l]));
  for (const lease of input.scan.leases) {
    const owner = lease.leaseOwner;
    const before = previousLeases.get(lease.leaseKey);
    if (owner === undefined || own(owner) || before === undefined) continue;
    if (before.leaseCounter !== lease.leaseCounter) {
      return { live: true, message: `lease ${lease.leaseKey} is held and renewed by ${owner}, which is not a shardline worker (a KCL daemon?): ${stop}` };
    }
  }

  const traces: string[] = [];
  const kclItems = input.scan.nonLeaseItems.filter((i) => KCL3_ITEM_KEYS.includes(i.leaseKey) || (i.entityType !== undefined && i.entityType !== 'LEASE'));
  if (kclItems.length > 0) traces.push(`KCL 3 items (${kclItems.slice(0, 3).map((i) => i.leaseKey).join(', ')})`);
  if (input.scan.leases.some((l) => l.checkpointOwner !== undefined || l.throughputKBps !== undefined || l.entityType === 'LEASE')) traces.push('leases written by KCL 3');
  if (input.applicationName !== undefined && input.existingTables !== undefined) {
    const companions = kclCompanionTableNames(input.applicationName).filter((t) => input.existingTables?.includes(t));
    if (companions.length > 0) traces.push(`KCL 3.0–3.4 tables ${companions.join(', ')}`);
  }
  if (traces.length === 0) return undefined;
  return {
    live: false,
    message: `this lease table was used by the Java KCL (${traces.join('; ')}); no KCL worker is active now, so shardline takes the leases as they expire: never run both at once`,
  };
}
