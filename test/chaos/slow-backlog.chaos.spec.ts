import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { readHandledLog } from './harness/handled-log';
import { pollingScenario, printSummary, shardParents, sleep, waitForIds, waitForWorkBy, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_007);
const BACKLOG = 20_000;
const MORE = 2_000;

describe('chaos: a slow handler behind a backlog, stopped with SIGTERM mid-way (kinesalite)', () => {
  it(`finishes the batches in flight, exits 0, and the restart goes on without a gap or a repeat (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const s = await pollingScenario('chaos-backlog', 4);
    const runs = scenarioRuns(s, {
      // 50 ms per batch plus 20 ms per 100 records: a shard's 5,000-record first batch takes about a second.
      env: { CHAOS_SLEEP_MS_PER_BATCH: '50', CHAOS_SLEEP_MS_PER_100_RECORDS: '20' },
    });
    const producer = new ChaosProducer(s.client, s.stream);
    const context = `slow handler with a backlog (seed ${SEED}, files in ${s.dir})`;
    let producing: Promise<number> | undefined;
    try {
      await producer.put({ from: 0, count: BACKLOG, chunk: 500 });
      const first = runs.start();
      producing = producer.put({ from: BACKLOG, count: MORE, chunk: 100, pauseMs: 100 });
      await waitForWorkBy(s.log, first.pid, 30_000, () => `${context}\n${runs.stderrTail()}`);
      await sleep(random.int(0, 1_500));
      expect(await runs.terminate()).toBe(0);
      const handledBeforeStop = new Set(readHandledLog(s.log).records.map((r) => r.id)).size;
      runs.start();
      await producing;
      await waitForIds(s.log, BACKLOG + MORE, 90_000, () => `${context}\n${runs.stderrTail()}`, runs);
      expect(await runs.terminate()).toBe(0);

      const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents: await shardParents(s.client, s.stream), endings: runs.endings });
      printSummary('polling slow handler + backlog + SIGTERM', SEED, report, runs.crashes, s.startedAt);
      assertDelivery(report, context);
      // The stop really came mid-way.
      expect(handledBeforeStop).toBeGreaterThan(0);
      expect(handledBeforeStop).toBeLessThan(BACKLOG + MORE);
    } finally {
      await runs.cleanup();
      await producer.close();
      await producing?.catch(() => undefined);
      s.client.destroy();
    }
  });
});
