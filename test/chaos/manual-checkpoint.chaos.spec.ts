import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { readHandledLog } from './harness/handled-log';
import { crashAndRestart, pollingScenario, printSummary, shardParents, sleep, waitForIds, waitForWorkBy, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_005);
const RECORDS = 2_400;

describe('chaos: a manual-checkpoint consumer under kill -9 and SIGTERM (kinesalite)', () => {
  it(`loses nothing when its buffer dies with the process or is dropped on stopped (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const s = await pollingScenario('chaos-manual', 3);
    const runs = scenarioRuns(s, {
      fixture: 'manual-checkpoint.consumer.ts',
      env: { CHAOS_FLUSH_RECORDS: '40', CHAOS_FLUSH_INTERVAL: '300ms' },
    });
    const producer = new ChaosProducer(s.client, s.stream);
    const context = `manual checkpoints (seed ${SEED}, files in ${s.dir})`;
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 30, pauseMs: 100 });
    try {
      runs.start();
      // kill -9, then a graceful stop (the buffer is dropped on 'stopped'), then kill -9 again.
      await crashAndRestart(runs, s.log, random, context);
      const second = runs.current;
      if (second === undefined) throw new Error('no consumer after the restart');
      await waitForWorkBy(s.log, second.pid, 30_000, () => `${context}\n${runs.stderrTail()}`);
      await sleep(random.int(0, 1_000));
      expect(await runs.terminate()).toBe(0);
      runs.start();
      await crashAndRestart(runs, s.log, random, context);

      await producing;
      await waitForIds(s.log, RECORDS, 90_000, () => `${context}\n${runs.stderrTail()}`, runs);
      expect(await runs.terminate()).toBe(0);

      const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents: await shardParents(s.client, s.stream), endings: runs.endings });
      printSummary('polling manual checkpoints', SEED, report, runs.crashes, s.startedAt);
      assertDelivery(report, context);
      expect(runs.crashes).toBe(2);
    } finally {
      await runs.cleanup();
      await producer.close();
      await producing.catch(() => undefined);
      s.client.destroy();
    }
  });
});
