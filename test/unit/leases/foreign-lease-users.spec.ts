import { detectForeignLeaseUsers } from '../../../src/leases/foreign-lease-users';
import { type Lease, type LeaseScan } from '../../../src/leases/lease';
import { createShardlineWorkerId, isShardlineWorkerId } from '../../../src/leases/worker-id';

const lease = (leaseKey: string, leaseOwner: string | undefined, leaseCounter: number, extra: Partial<Lease> = {}): Lease => ({
  leaseKey, leaseOwner, leaseCounter, checkpoint: 'TRIM_HORIZON', checkpointSubSequenceNumber: 0, ownerSwitchesSinceCheckpoint: 0, parentShardIds: [], childShardIds: [], ...extra,
});
const scan = (leases: Lease[], nonLeaseItems: LeaseScan['nonLeaseItems'] = []): LeaseScan => ({ leases, nonLeaseItems });
const NOW = 1_800_000_000_000;

describe('detectForeignLeaseUsers', () => {
  it('says nothing for a table of shardline workers', () => {
    const me = createShardlineWorkerId('host', 1);
    expect(isShardlineWorkerId(me)).toBe(true);
    expect(detectForeignLeaseUsers({ scan: scan([lease('s0', me, 5)]), previous: scan([lease('s0', me, 3)]), wallClockMs: NOW })).toBeUndefined();
  });

  it('refuses, in one line, when a foreign owner renews between two scans', () => {
    const found = detectForeignLeaseUsers({ scan: scan([lease('s0', 'kcl-worker-1', 8)]), previous: scan([lease('s0', 'kcl-worker-1', 7)]), wallClockMs: NOW });
    expect(found?.live).toBe(true);
    expect(found?.message).toMatch(/^lease s0 is held and renewed by kcl-worker-1, which is not a shardline worker/);
    expect(found?.message).not.toContain('\n');
  });

  it('does not refuse a foreign owner that stopped (moving from --adapter kcl keeps its place)', () => {
    const found = detectForeignLeaseUsers({ scan: scan([lease('s0', 'kcl-worker-1', 7)]), previous: scan([lease('s0', 'kcl-worker-1', 7)]), wallClockMs: NOW });
    expect(found).toBeUndefined();
  });

  it('refuses when KCL 3 worker metrics are fresh or a KCL 3 item changes between scans', () => {
    const metrics = { leaseKey: 'w1', entityType: 'WORKER_METRIC_STATS', fingerprint: 'a', lastUpdateEpochSeconds: NOW / 1000 - 20 };
    expect(detectForeignLeaseUsers({ scan: scan([], [metrics]), wallClockMs: NOW })?.live).toBe(true);
    const leader = (fingerprint: string) => ({ leaseKey: 'Leader', entityType: 'LEADER', fingerprint });
    const changed = detectForeignLeaseUsers({ scan: scan([], [leader('v2')]), previous: scan([], [leader('v1')]), wallClockMs: NOW });
    expect(changed?.live).toBe(true);
    expect(changed?.message).toContain('Leader');
  });

  it('reports traces of a stopped KCL 3 run (items, KCL 3 lease attributes, 3.0–3.4 companion tables) without refusing', () => {
    const stale = { leaseKey: 'w1', entityType: 'WORKER_METRIC_STATS', fingerprint: 'a', lastUpdateEpochSeconds: NOW / 1000 - 3600 };
    const found = detectForeignLeaseUsers({
      scan: scan([lease('s0', undefined, 3, { entityType: 'LEASE' })], [stale]),
      previous: scan([lease('s0', undefined, 3)], [stale]),
      applicationName: 'orders',
      existingTables: ['orders', 'orders-WorkerMetricStats'],
      wallClockMs: NOW,
    });
    expect(found?.live).toBe(false);
    expect(found?.message).toMatch(/KCL 3 items \(w1\); leases written by KCL 3; KCL 3.0–3.4 tables orders-WorkerMetricStats/);
  });
});
