import { LeaseExpiryTracker } from '../../../src/leases/lease-expiry-tracker';
import { planLeaseTakes } from '../../../src/leases/lease-take-plan';
import { unownedLease } from '../../../src/leases/simulation/lease-simulation';
import { type Lease } from '../../../src/leases/lease';

const owned = (key: string, owner: string, counter = 1): Lease => ({ ...unownedLease(key), leaseOwner: owner, leaseCounter: counter });
const plan = (leases: Lease[], held: string[] = [], nowMs = 0, tracker = new LeaseExpiryTracker(10_000)) => {
  tracker.update(leases, nowMs);
  return planLeaseTakes({ workerId: 'me', nowMs, tracker, held: new Set(held), random: () => 0.5, maxTakes: Infinity, maxSteals: 1 });
};

describe('planLeaseTakes', () => {
  it('takes unowned leases up to the fair share only (not all of them, unlike the KCL on a cold start)', () => {
    const p = plan([...Array.from({ length: 6 }, (_, i) => unownedLease(`u${i}`)), owned('a0', 'w1'), owned('a1', 'w1')]);
    expect(p.liveWorkers).toBe(2);
    expect(p.target).toBe(4);
    expect(p.wanted).toBe(4);
  });

  it('never expires an unowned lease by time, and expires an owned one only after failover without a counter change', () => {
    const tracker = new LeaseExpiryTracker(10_000);
    expect(plan([owned('a0', 'w1', 1)], [], 0, tracker).wanted).toBe(0); // first sighting of an owned lease counts as fresh
    expect(plan([owned('a0', 'w1', 1)], [], 10_000, tracker).wanted).toBe(0); // exactly failover: not yet
    const late = plan([owned('a0', 'w1', 1)], [], 10_001, tracker);
    expect(late.takes.map((t) => t.kind)).toEqual(['expired']);
  });

  it('steals one from the most loaded worker only when it holds more than target, or when I need two or more', () => {
    const three = ['a0', 'a1', 'a2'].map((k) => owned(k, 'w1'));
    const p = plan([...three, owned('b0', 'w2'), owned('b1', 'w2'), owned('m0', 'me'), owned('m1', 'me')], ['m0', 'm1']);
    expect(p.target).toBe(3);
    expect(p.takes).toEqual([]); // needed 1; w1 holds exactly the target → no ping-pong
    expect(p.wanted).toBe(0);
    const needy = plan([...three, owned('b0', 'w1'), owned('m0', 'me')], ['m0']);
    expect(needy.target).toBe(3);
    expect(needy.takes.map((t) => [t.kind, t.lease.leaseOwner])).toEqual([['steal', 'w1']]);
  });

  it('leaves a child until every parent still in the table is at SHARD_END', () => {
    const parent = owned('p', 'w1');
    const child = unownedLease('c', ['p']);
    expect(plan([parent, child]).takes.map((t) => t.lease.leaseKey)).not.toContain('c');
    expect(plan([{ ...parent, checkpoint: 'SHARD_END' }, child]).takes.map((t) => t.lease.leaseKey)).toEqual(['c']);
    expect(plan([child]).takes.map((t) => t.lease.leaseKey)).toEqual(['c']); // parent gone (cleaned up)
  });
});
