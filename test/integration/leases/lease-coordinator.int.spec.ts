import { DynamoDBClient, PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { LeaseLostError } from '../../../src/core/errors';
import { DynamoDbLeaseTable } from '../../../src/leases/dynamodb-lease-table';
import { LeaseCoordinator } from '../../../src/leases/lease-coordinator';
import { type LeaseConflictError } from '../../../src/leases/lease-errors';
import { dynamodbEndpoint } from '../../harness/endpoints';

jest.setTimeout(120_000);

// Short intervals on real timers: failover 2 s, renewal 600 ms, taker 1 s, margin 300 ms (steal read delay 1.7 s).
const TIMING = { failoverTimeMs: 2_000, leaseRenewalIntervalMs: 600, leaseTakerIntervalMs: 1_000, leaseSafetyMarginMs: 300 } as const;
const SHARDS = Array.from({ length: 8 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);

const dynamo = (): DynamoDBClient =>
  new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

interface Worker {
  readonly id: string;
  readonly coordinator: LeaseCoordinator;
  readonly reading: Set<string>;
  readonly events: string[];
}

function worker(table: DynamoDbLeaseTable, name: string, onConflict?: (e: LeaseConflictError) => void): Worker {
  const id = `shardline:it:${name}`;
  const reading = new Set<string>();
  const events: string[] = [];
  const coordinator = new LeaseCoordinator({
    table,
    workerId: id,
    ...TIMING,
    onLeaseAcquired: (shardId) => {
      reading.add(shardId);
      events.push(`+${shardId}`);
    },
    onLeaseLost: (shardId, loss) => {
      reading.delete(shardId);
      events.push(`-${shardId}:${loss.reason}`);
    },
    onLeaseShutdown: async (shardId) => {
      reading.delete(shardId);
      events.push(`~${shardId}`);
      await coordinator.checkpoint(shardId, { checkpoint: '49590338271490256608559692538361571095921575989136588898', checkpointSubSequenceNumber: 0 });
    },
    ...(onConflict === undefined ? {} : { onConflict }),
  });
  return { id, coordinator, reading, events };
}

async function owners(table: DynamoDbLeaseTable): Promise<Map<string, string | undefined>> {
  const scan = await table.scan();
  if (scan.outcome !== 'ok') throw scan.error;
  return new Map(scan.scan.leases.map((l) => [l.leaseKey, l.leaseOwner]));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<number> {
  const t0 = Date.now();
  while (Date.now() - t0 < timeoutMs) {
    if (await check()) return Date.now() - t0;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

function counts(map: Map<string, string | undefined>, ids: readonly string[]): number[] {
  return ids.map((id) => [...map.values()].filter((o) => o === id).length);
}

describe('LeaseCoordinator on dynalite (KCL lease table, real timers)', () => {
  const client = dynamo();
  const running: LeaseCoordinator[] = [];
  afterAll(() => {
    for (const c of running) c.abandon();
    client.destroy();
  });

  it('3 workers balance 8 leases 3/3/2; a killed one is replaced within failover + one interval; 2 joiners rebalance to 2/2/2/2; a graceful stop hands off at once', async () => {
    const tableName = `leases-${Date.now()}-${Math.floor(Math.random() * 1e6)}`;
    const store = new DynamoDbCheckpointStore({ tableName, client, workerId: 'setup' });
    await store.open(); // creates the KCL table layout
    const table = new DynamoDbLeaseTable({ client, tableName });
    const [a, b, c] = [worker(table, 'a'), worker(table, 'b'), worker(table, 'c')];
    expect(await a.coordinator.ensureLeases(SHARDS.map((leaseKey) => ({ leaseKey, checkpoint: 'TRIM_HORIZON' })))).toBe(8);
    expect(await b.coordinator.ensureLeases([{ leaseKey: SHARDS[0] as string, checkpoint: 'TRIM_HORIZON' }])).toBe(0);
    for (const w of [a, b, c]) {
      running.push(w.coordinator);
      w.coordinator.start();
    }
    const ids3 = [a.id, b.id, c.id];
    await waitFor('3/3/2', async () => counts(await owners(table), ids3).sort().join() === '2,3,3', 20_000);
    await waitFor('each worker reads what it owns', async () => [a, b, c].every((w) => w.reading.size === w.coordinator.status().held), 5_000);

    // kill -9 c: no write; its leases expire and move.
    const cLeases = [...(await owners(table))].filter(([, o]) => o === c.id).map(([k]) => k);
    c.coordinator.abandon();
    const takeoverMs = await waitFor('c\'s leases taken', async () => {
      const now = await owners(table);
      return cLeases.every((k) => now.get(k) === a.id || now.get(k) === b.id);
    }, 20_000);
    process.stderr.write(`[leases] takeover after kill: ${takeoverMs} ms (failover ${TIMING.failoverTimeMs} + taker ${TIMING.leaseTakerIntervalMs})\n`);
    expect(takeoverMs).toBeLessThanOrEqual(TIMING.failoverTimeMs + TIMING.leaseTakerIntervalMs + 1_000);
    expect(counts(await owners(table), [a.id, b.id])).toEqual([4, 4]);

    // Two workers join: rebalance to 2/2/2/2 by steals (one per worker per interval).
    const [d, e] = [worker(table, 'd'), worker(table, 'e')];
    for (const w of [d, e]) {
      running.push(w.coordinator);
      w.coordinator.start();
    }
    const ids4 = [a.id, b.id, d.id, e.id];
    await waitFor('2/2/2/2', async () => counts(await owners(table), ids4).join() === '2,2,2,2', 30_000);
    // A stolen lease is read only after the steal delay: then everyone reads exactly what it owns.
    await waitFor('readers settle', async () => [a, b, d, e].every((w) => w.reading.size === 2), 10_000);

    // Graceful stop of a: final checkpoint, release, and the others take its leases at their next scan.
    const aLeases = [...a.reading];
    const stopT0 = Date.now();
    await a.coordinator.stop();
    const afterStop = await owners(table);
    expect(aLeases.every((k) => afterStop.get(k) === undefined)).toBe(true); // released, not left to expire
    const handOffMs = await waitFor('a\'s leases taken', async () => {
      const now = await owners(table);
      return aLeases.every((k) => [b.id, d.id, e.id].includes(now.get(k) ?? ''));
    }, 10_000);
    process.stderr.write(`[leases] hand-off after graceful stop: ${handOffMs} ms after release (${Date.now() - stopT0} ms after stop)\n`);
    expect(handOffMs).toBeLessThanOrEqual(TIMING.leaseTakerIntervalMs + 1_000);
    expect(a.events.filter((ev) => ev.startsWith('~'))).toHaveLength(2);
    const item = (await table.get(aLeases[0] as string));
    expect(item.outcome === 'ok' && item.lease?.checkpoint).toBe('49590338271490256608559692538361571095921575989136588898');

    // Fencing: a checkpoint by a worker that lost the lease is refused and writes nothing.
    const victimShard = [...b.reading][0] as string;
    // b renews all the time: a renewal landing between the read and the take makes the take lose; read again then.
    let took = 'not tried';
    for (let attempt = 0; attempt < 5 && took !== 'ok'; attempt++) {
      const observed = await table.get(victimShard);
      if (observed.outcome !== 'ok' || observed.lease === undefined) throw new Error('no lease');
      took = (await table.take(observed.lease, 'shardline:it:intruder')).outcome;
    }
    expect(took).toBe('ok');
    await expect(b.coordinator.checkpoint(victimShard, { checkpoint: '1', checkpointSubSequenceNumber: 0 })).rejects.toBeInstanceOf(LeaseLostError);
    const after = await table.get(victimShard);
    expect(after.outcome === 'ok' && after.lease?.checkpoint).not.toBe('1');
    expect(b.reading.has(victimShard)).toBe(false);

    for (const w of [b, d, e]) await w.coordinator.stop();
  });

  it('halts with one line when a running KCL 3 application shares the table', async () => {
    const tableName = `leases-kcl-${Date.now()}`;
    await new DynamoDbCheckpointStore({ tableName, client, workerId: 'setup' }).open();
    const table = new DynamoDbLeaseTable({ client, tableName });
    await client.send(
      new PutItemCommand({
        TableName: tableName,
        Item: { leaseKey: { S: 'worker-7f3a' }, entityType: { S: 'WORKER_METRIC_STATS' }, lut: { N: String(Math.floor(Date.now() / 1000)) } },
      }),
    );
    let conflict: LeaseConflictError | undefined;
    const w = worker(table, 'x', (error) => (conflict = error));
    await w.coordinator.ensureLeases([{ leaseKey: 'shardId-000000000000', checkpoint: 'LATEST' }]);
    running.push(w.coordinator);
    w.coordinator.start();
    await waitFor('the conflict', async () => conflict !== undefined, 5_000);
    expect(conflict?.message).toMatch(/KCL 3 worker \(worker-7f3a\).*stop the other consumer/);
    expect(conflict?.message).not.toContain('\n');
    expect((await owners(table)).get('shardId-000000000000')).toBeUndefined();
  });
});
