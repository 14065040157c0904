import { dynamodbEndpoint } from '../harness/endpoints';
import { uniqueName } from '../integration/polling/polling-test-kit';
import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { startFaultProxy } from './harness/fault-proxy';
import { readHandledLog } from './harness/handled-log';
import { itUnlessKnownDefect } from './harness/known-defects';
import { crashAndRestart, pollingScenario, printSummary, shardParents, waitForIds, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_006);
const RECORDS = 1_500;
const known = itUnlessKnownDefect('checkpoint-store-faults');

describe('chaos: injected checkpoint-store failures (DynamoDB lease table on dynalite behind a fault proxy)', () => {
  known.run(known.name(`throttled checkpoint writes neither lose records nor stop a shard for good, with a kill -9 between (seed ${SEED})`), async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const s = await pollingScenario('chaos-store-faults', 2);
    // Bursts of 4 throttled UpdateItem calls (more than the SDK's 3 attempts) on about 15% of checkpoint writes.
    const proxy = await startFaultProxy({ target: dynamodbEndpoint(), random, failureRate: 0.15, burstLength: 4 });
    const runs = scenarioRuns(s, {
      checkpoints: `dynamodb:${uniqueName('chaos-leases')}`,
      env: { AWS_ENDPOINT_URL_DYNAMODB: proxy.endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' },
    });
    const producer = new ChaosProducer(s.client, s.stream);
    const context = `checkpoint-store faults (seed ${SEED}, files in ${s.dir})`;
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 25, pauseMs: 100 });
    try {
      runs.start();
      await crashAndRestart(runs, s.log, random, context, 3_000);
      await producing;
      await waitForIds(s.log, RECORDS, 60_000, () => `${context}; proxy ${JSON.stringify(proxy.stats())}\n${runs.stderrTail()}`, runs);
      expect(await runs.terminate()).toBe(0);

      const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents: await shardParents(s.client, s.stream), endings: runs.endings });
      printSummary('polling checkpoint-store faults', SEED, report, runs.crashes, s.startedAt);
      process.stderr.write(`[chaos] checkpoint-store faults: ${proxy.stats().failed} of ${proxy.stats().calls} UpdateItem calls failed\n`);
      assertDelivery(report, context);
      expect(proxy.stats().failed).toBeGreaterThan(0);
    } finally {
      await runs.cleanup();
      await producer.close();
      await producing.catch(() => undefined);
      await proxy.close();
      s.client.destroy();
    }
  });
});
