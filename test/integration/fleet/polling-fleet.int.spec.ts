import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { readFileSync } from 'node:fs';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { ChaosProducer } from '../../chaos/harness/chaos-producer';
import { requireBuiltCli } from '../../chaos/harness/consumer-process';
import { checkDelivery } from '../../chaos/harness/delivery-checker';
import { pollingScenario, sleep, waitForIds } from '../../chaos/harness/scenario';
import { dynamodbEndpoint, TEST_CREDENTIALS, TEST_PORT_BASE, TEST_REGION } from '../../harness/endpoints';
import { uniqueName } from '../polling/polling-test-kit';
import {
  FAILOVER_MS,
  fleetWorker,
  handled,
  largestBatch,
  leaseOwners,
  redeliveredAfter,
  startPartitionProxy,
  TAKER_MS,
  type FleetWorker,
} from './fleet-kit';

jest.setTimeout(200_000);

const SHARDS = 8;
const RECORDS = 3_000;
/** Scheduling noise on a shared 2-core machine: process start-up, a GetRecords wait, the handler. */
const SLACK_MS = 6_000;

/** Leases held per worker, in the workers' order. */
async function held(dynamo: DynamoDBClient, table: string, workers: readonly FleetWorker[]): Promise<number[]> {
  const owners = await leaseOwners(dynamo, table);
  return workers.map((w) => (owners.get(w.owner) ?? []).length);
}

/** Waits until the workers hold exactly `expected` leases each (in any order) and every lease has an owner among them. */
async function waitBalanced(dynamo: DynamoDBClient, table: string, workers: readonly FleetWorker[], expected: readonly number[], timeoutMs: number, context: () => string): Promise<number> {
  const startedAt = Date.now();
  const want = [...expected].sort().join('/');
  let last = '';
  while (Date.now() - startedAt < timeoutMs) {
    const counts = await held(dynamo, table, workers);
    last = counts.join('/');
    if ([...counts].sort().join('/') === want && counts.reduce((a, b) => a + b, 0) === SHARDS) return Date.now() - startedAt;
    await sleep(250);
  }
  throw new Error(`leases held ${last}, expected ${want} after ${timeoutMs} ms\n${context()}`);
}

/** For each shard: wall-clock ms (from `since`) at which a process other than `pid` first handled one of its records after log index `from`. */
async function waitNewOwners(log: string, shards: readonly string[], from: number, pid: number, since: number, timeoutMs: number, context: () => string): Promise<Map<string, number>> {
  const seen = new Map<string, number>();
  while (seen.size < shards.length) {
    const records = handled(log).slice(from);
    for (const shard of shards) {
      if (!seen.has(shard) && records.some((r) => r.shard === shard && r.pid !== pid)) seen.set(shard, Date.now() - since);
    }
    if (Date.now() - since > timeoutMs) throw new Error(`after ${timeoutMs} ms only ${[...seen.keys()].join(', ')} of ${shards.join(', ')} were read by another process\n${context()}`);
    await sleep(100);
  }
  return seen;
}

describe('polling fleet: built CLI processes share one stream through the KCL lease table (kinesalite + dynalite)', () => {
  it('balances 3/3/2, rebalances when a 4th joins, survives kill -9, hands off on SIGTERM and stops a worker cut off DynamoDB before its shards move', async () => {
    requireBuiltCli();
    const s = await pollingScenario('fleet', SHARDS);
    const table = uniqueName('fleet-leases');
    const dynamo = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS });
    // The lease table exists before the workers start (each would create it otherwise, racing).
    const store = new DynamoDbCheckpointStore({ tableName: table, client: dynamo });
    await store.open();
    await store.close();
    const proxy = await startPartitionProxy(TEST_PORT_BASE + 150, dynamodbEndpoint());
    // w1 talks to DynamoDB through the proxy, so that it can be cut off at the end.
    const [w1, w2, w3, w4] = [
      fleetWorker(s, table, 'w1', proxy.endpoint),
      fleetWorker(s, table, 'w2', dynamodbEndpoint()),
      fleetWorker(s, table, 'w3', dynamodbEndpoint()),
      fleetWorker(s, table, 'w4', dynamodbEndpoint()),
    ] as [FleetWorker, FleetWorker, FleetWorker, FleetWorker];
    const all = [w1, w2, w3, w4];
    const context = (): string => `files in ${s.dir}\n${all.map((w) => w.runs.stderrTail(8)).join('\n')}`;
    const pidOf = (w: FleetWorker): number => w.runs.current?.pid ?? -1;
    const producer = new ChaosProducer(s.client, s.stream);
    // Records keep arriving through every phase (about 40 s of them).
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 15, pauseMs: 200 });
    const figures: string[] = [];
    try {
      // a. Three processes: 3/3/2.
      for (const w of [w1, w2, w3]) w.runs.start();
      const balancedMs = await waitBalanced(dynamo, table, [w1, w2, w3], [3, 3, 2], 60_000, context);
      figures.push(`3 workers balanced 3/3/2 ${balancedMs} ms after start`);

      // d. A fourth joins: 2 each (it steals one lease per scan from the most loaded).
      w4.runs.start();
      const joinMs = await waitBalanced(dynamo, table, all, [2, 2, 2, 2], 60_000, context);
      figures.push(`4th worker joined: 2/2/2/2 after ${joinMs} ms`);
      await sleep(FAILOVER_MS + 2_000); // let the stolen leases' victims give them up and their thieves start reading

      // b. kill -9 of w3: its shards are read by the others within failover + one scan; nothing lost, at most one batch again per shard.
      const w3Pid = pidOf(w3);
      const w3Shards = (await leaseOwners(dynamo, table)).get(w3.owner) ?? [];
      expect(w3Shards).toHaveLength(2);
      const killIndex = handled(s.log).length;
      const killedAt = Date.now();
      await w3.runs.kill9();
      const takeover = await waitNewOwners(s.log, w3Shards, killIndex, w3Pid, killedAt, 60_000, context);
      const takeoverMs = Math.max(...takeover.values());
      figures.push(`kill -9: its ${w3Shards.length} shards read by the others after ${[...takeover.values()].join(', ')} ms`);
      expect(takeoverMs).toBeLessThan(FAILOVER_MS + TAKER_MS + SLACK_MS);
      await waitBalanced(dynamo, table, [w1, w2, w4], [3, 3, 2], 30_000, context);

      // c. SIGTERM of w2: checkpoint, release; the others take its leases at their next scan and repeat nothing.
      const w2Pid = pidOf(w2);
      const w2Shards = (await leaseOwners(dynamo, table)).get(w2.owner) ?? [];
      const termIndex = handled(s.log).length;
      const termAt = Date.now();
      expect(await w2.runs.terminate(30_000)).toBe(0);
      const handoff = await waitNewOwners(s.log, w2Shards, termIndex, w2Pid, termAt, 60_000, context);
      figures.push(`SIGTERM: its ${w2Shards.length} shards read by the others after ${[...handoff.values()].join(', ')} ms (exit included)`);
      await waitBalanced(dynamo, table, [w1, w4], [4, 4], 30_000, context);

      // e. w1 cut off DynamoDB: it stops reading its shards (lease lost) before w4 takes them.
      const w1Pid = pidOf(w1);
      const w4Pid = pidOf(w4);
      const w1Shards = (await leaseOwners(dynamo, table)).get(w1.owner) ?? [];
      const cutIndex = handled(s.log).length;
      const cutAt = Date.now();
      proxy.cut();
      const moved = await waitNewOwners(s.log, w1Shards, cutIndex, w1Pid, cutAt, 60_000, context);
      figures.push(`partition: w1's ${w1Shards.length} shards read by w4 after ${[...moved.values()].join(', ')} ms`);
      await sleep(1_000);
      const records = handled(s.log);
      for (const shard of w1Shards) {
        const lastOld = records.reduce((last, r, i) => (r.pid === w1Pid && r.shard === shard ? i : last), -1);
        const firstNew = records.findIndex((r, i) => i >= cutIndex && r.pid === w4Pid && r.shard === shard);
        expect({ shard, oldOwnerHandledAfterNewOwner: lastOld > firstNew }).toEqual({ shard, oldOwnerHandledAfterNewOwner: false });
      }
      const w1Stderr = readFileSync(w1.runs.current?.stderrFile ?? '', 'utf8');
      for (const shard of w1Shards) expect(w1Stderr).toMatch(new RegExp(`Lease of ${shard} lost \\((expired|taken)\\)`));

      // Every record put was handled at least once.
      await producing;
      await waitForIds(s.log, RECORDS, 60_000, context);
      await w1.runs.kill9();
      expect(await w4.runs.terminate(30_000)).toBe(0);

      const final = handled(s.log);
      const batch = largestBatch(final);
      const killedAgain = redeliveredAfter(final, killIndex, w3Pid);
      const termAgain = redeliveredAfter(final, termIndex, w2Pid);
      figures.push(`re-delivered after kill -9: ${JSON.stringify(Object.fromEntries(killedAgain))} (largest batch ${batch}); after SIGTERM: ${JSON.stringify(Object.fromEntries(termAgain))}`);
      for (const count of killedAgain.values()) expect(count).toBeLessThanOrEqual(batch);
      expect(Object.fromEntries(termAgain)).toEqual({});
      const report = checkDelivery({ puts: producer.positions, handled: final });
      expect(report.lost).toEqual([]);
      // Order within a process and shard, no record twice in one process, nothing unexpected or misplaced.
      expect(report.problems.filter((p) => !p.includes('handled again'))).toEqual([]);
      process.stderr.write(`[fleet] ${figures.join('; ')}\n`);
    } finally {
      await producer.close();
      await producing.catch(() => undefined);
      for (const w of all) await w.runs.cleanup();
      await proxy.close();
      dynamo.destroy();
      s.client.destroy();
    }
  });
});
