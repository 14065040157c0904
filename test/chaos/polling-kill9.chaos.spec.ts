import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { readHandledLog } from './harness/handled-log';
import { crashAndRestart, pollingScenario, printSummary, shardParents, waitForIds, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_001);
const RECORDS = 3_000;
const SHARDS = 4;
const KILLS = 3;

describe('chaos: polling consumer under kill -9 (kinesalite)', () => {
  it(`loses nothing and repeats at most one batch per shard per crash: ${KILLS} kills during ${RECORDS} records on ${SHARDS} shards (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const s = await pollingScenario('chaos-kill9', SHARDS);
    const runs = scenarioRuns(s, {
      // Work after the side effect: a kill in these 400 ms leaves a handled batch without its checkpoint.
      env: { CHAOS_SLEEP_MS_AFTER_LOG: '400' },
    });
    const producer = new ChaosProducer(s.client, s.stream);
    const context = `kill -9 (seed ${SEED}, files in ${s.dir})`;
    // Records keep arriving (about 10 s of them) while the consumer is killed at seeded moments and restarted.
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 40, pauseMs: 100 });
    try {
      runs.start();
      // Each kill lands while the process works: after its first handled batch, at a seeded moment.
      for (let kill = 0; kill < KILLS; kill++) await crashAndRestart(runs, s.log, random, context);
      await producing;
      await waitForIds(s.log, RECORDS, 90_000, () => `${context}\n${runs.stderrTail()}`, runs);
      expect(await runs.terminate()).toBe(0);

      const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents: await shardParents(s.client, s.stream), endings: runs.endings });
      printSummary('polling kill -9', SEED, report, runs.crashes, s.startedAt);
      assertDelivery(report, context);
      expect(runs.crashes).toBe(KILLS);
    } finally {
      await runs.cleanup();
      await producer.close();
      await producing.catch(() => undefined);
      s.client.destroy();
    }
  });
});
