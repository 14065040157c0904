import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { readHandledLog } from './harness/handled-log';
import { crashAndRestart, pollingScenario, printSummary, shardParents, waitForIds, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_003);
const RECORDS = 3_000;
const KILLS = 2;

describe('chaos: KPL aggregated records with restarts (kinesalite)', () => {
  it(`de-aggregates every record at its sub-sequence number, resumes inside aggregates and loses nothing (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const s = await pollingScenario('chaos-kpl', 2);
    const runs = scenarioRuns(s, {
      // Work after the side effect: a kill in these 400 ms leaves a handled batch without its checkpoint.
      env: { CHAOS_SLEEP_MS_AFTER_LOG: '400' },
    });
    // shardline's KinesisProducer with aggregate: true packs the ids of each shard into KPL aggregates.
    const producer = new ChaosProducer(s.client, s.stream, true);
    const context = `aggregated records (seed ${SEED}, files in ${s.dir})`;
    await producer.put({ from: 0, count: 100 }); // fails the test at once if the producer cannot put
    const producing = producer.put({ from: 100, count: RECORDS - 100, chunk: 100, pauseMs: 150 });
    try {
      runs.start();
      for (let kill = 0; kill < KILLS; kill++) await crashAndRestart(runs, s.log, random, context);
      await producing;
      await waitForIds(s.log, RECORDS, 90_000, () => `${context}\n${runs.stderrTail()}`, runs);
      expect(await runs.terminate()).toBe(0);

      const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents: await shardParents(s.client, s.stream), endings: runs.endings });
      printSummary('polling aggregated', SEED, report, runs.crashes, s.startedAt);
      assertDelivery(report, context);
      // Records really were aggregated: many ids share one Kinesis record.
      const subs = [...producer.positions.values()].map((p) => p.sub);
      expect(Math.max(...subs)).toBeGreaterThan(10);
      expect(runs.crashes).toBe(KILLS);
    } finally {
      await runs.cleanup();
      await producer.close();
      await producing.catch(() => undefined);
      s.client.destroy();
    }
  });
});
