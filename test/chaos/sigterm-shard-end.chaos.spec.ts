import { SplitShardCommand } from '@aws-sdk/client-kinesis';
import { listShards, waitActive } from '../integration/polling/polling-test-kit';
import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { readHandledLog } from './harness/handled-log';
import { itUnlessKnownDefect } from './harness/known-defects';
import { fileCheckpoints, pollingScenario, printSummary, shardParents, sleep, waitForIds, waitForWorkBy, waitUntil, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_004);
const PARENT = 'shardId-000000000000';
const SLOW = 'shardId-000000000001';
const known = itUnlessKnownDefect('sigterm-at-shard-end');

/**
 * Issue 11, defect 1: 2 shards, shard 0 is split, shard 1 has a slow handler (so a graceful stop takes seconds);
 * SIGTERM comes right after shard 0's last records, so the shard's end arrives while the app is stopping.
 * Whatever the app does then, if SHARD_END is stored, @OnShardEnded must have run; and after a restart nothing is lost.
 */
describe('chaos: SIGTERM while a split shard ends (kinesalite)', () => {
  const cases: ReadonlyArray<{ name: string; fixture: string; env: Record<string, string> }> = [
    { name: 'batch checkpoints', fixture: 'chaos.consumer.ts', env: { CHAOS_SLOW_SHARD: SLOW, CHAOS_SLEEP_MS_PER_BATCH: '5000' } },
    {
      // The README's manual pattern: a buffer flushed every 50 records, dropped on 'stopped', flushed at a shard's end.
      name: 'manual checkpoints dropping their buffer on stopped',
      fixture: 'manual-checkpoint.consumer.ts',
      env: { CHAOS_SLOW_SHARD: SLOW, CHAOS_SLEEP_MS_PER_BATCH: '5000', CHAOS_FLUSH_RECORDS: '50', CHAOS_FLUSH_INTERVAL: '1h' },
    },
  ];
  for (const c of cases) {
    known.run(known.name(`${c.name}: @OnShardEnded ran if SHARD_END is stored, nothing lost after the restart (seed ${SEED})`), async () => {
      requireBuiltCli();
      const random = seededRandom(SEED);
      const s = await pollingScenario('chaos-stop-end', 2);
      const runs = scenarioRuns(s, {
        fixture: c.fixture,
        env: c.env,
      });
      const producer = new ChaosProducer(s.client, s.stream);
      const context = `SIGTERM at a shard's end, ${c.name} (seed ${SEED}, files in ${s.dir})`;
      try {
        let next = await producer.put({ from: 0, count: 230, chunk: 23 });
        const first = runs.start();
        await waitForWorkBy(s.log, first.pid, 30_000, () => `${context}\n${runs.stderrTail()}`);
        next = await producer.put({ from: next, count: 107, chunk: 107 });
        const parent = (await listShards(s.client, s.stream)).find((x) => x.ShardId === PARENT);
        const low = BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0');
        const high = BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0');
        await s.client.send(new SplitShardCommand({ StreamName: s.stream, ShardToSplit: PARENT, NewStartingHashKey: ((low + high) / 2n).toString() }));
        await waitActive(s.client, s.stream);
        const parentIds = [...producer.positions].filter(([, p]) => p.shard === PARENT).map(([id]) => id);
        if (c.fixture === 'chaos.consumer.ts') {
          // SIGTERM as soon as the parent's last record was handled.
          await waitUntil(() => {
            const seen = new Set(readHandledLog(s.log).records.map((r) => r.id));
            return parentIds.every((id) => seen.has(id));
          }, 30_000, () => `${context}: the parent's records were not all handled\n${runs.stderrTail()}`);
        } else {
          // The manual consumer logs on flush only: SIGTERM once the parent's last records were read (it polls every second).
          await sleep(1_200);
        }
        await sleep(random.int(0, 200));
        expect(await runs.terminate()).toBe(0);

        const stored = fileCheckpoints(s.checkpointsDir);
        const ended = readHandledLog(s.log).events.some((e) => e.event === 'shardEnded' && e.shard === PARENT);
        // Checked after the restart, so that a failure also shows what was lost.
        const endProblem = stored.get(PARENT) === 'SHARD_END' && !ended ? `SHARD_END is stored for ${PARENT} but @OnShardEnded never ran` : undefined;

        // Restart: records after the split go to the children; everything must arrive.
        next = await producer.put({ from: next, count: 200, chunk: 50 });
        runs.start();
        await waitForIds(s.log, next, endProblem === undefined ? 60_000 : 15_000, () => `${context}${endProblem ? `: ${endProblem}` : ''}\n${runs.stderrTail()}`, runs);
        expect(await runs.terminate()).toBe(0);
        if (endProblem !== undefined) throw new Error(`${context}: ${endProblem}\n${runs.stderrTail()}`);
        const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents: await shardParents(s.client, s.stream), endings: runs.endings });
        printSummary(`SIGTERM at a shard's end (${c.name})`, SEED, report, runs.crashes, s.startedAt);
        assertDelivery(report, context);
      } finally {
        await runs.cleanup();
        await producer.close();
        s.client.destroy();
      }
    });
  }
});
