import { join } from 'node:path';
import { kinesisEndpoint } from '../harness/endpoints';
import { isAlive } from '../harness/services';
import { startTestDaemon, type TestDaemon } from '../harness/test-daemon';
import { createStream, localKinesis, tempDir, uniqueName } from '../integration/polling/polling-test-kit';
import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { childPids, writeChaosDaemonProperties } from './harness/kcl-chaos';
import { assertDelivery, checkDelivery, type RunEnding } from './harness/delivery-checker';
import { HANDLED_LOG_ENV, readHandledLog } from './harness/handled-log';
import { printSummary, sleep, waitForIds, waitUntil } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(240_000);

const SEED = scenarioSeed(11_008);
const RECORDS = 1_000;


/**
 * The KCL counterpart the real daemon allows: the MultiLangDaemon (kinesis-local + moto lease table) is killed with
 * kill -9 while its shardline children handle records, then started again with the same worker id. Observed: the
 * children notice their closed stdin and exit; the new daemon takes the leases back and resumes at the checkpoints.
 */
describe('chaos: the KCL MultiLangDaemon killed with kill -9 (kinesis-local, moto)', () => {
  it(`its shardline children exit, and after a restart nothing is lost, at most one batch per shard repeated (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const client = localKinesis(kinesisEndpoint());
    const stream = uniqueName('chaos-kcl');
    const app = uniqueName('chaos-kcl-app');
    await createStream(client, stream, 2);
    const dir = tempDir('shardline-chaos-kcl-');
    const log = join(dir, 'handled.jsonl');
    const propertiesFile = writeChaosDaemonProperties(dir, { stream, application: app, workerId: `chaos-worker-${process.pid}`, comment: 'chaos: daemon killed' });
    const env = { [HANDLED_LOG_ENV]: log, CHAOS_STREAM: stream, CHAOS_SLEEP_MS_AFTER_LOG: '300' };
    const producer = new ChaosProducer(client, stream);
    const endings = new Map<number, RunEnding>();
    const daemons: TestDaemon[] = [];
    const context = `KCL daemon kill -9 (seed ${SEED}, files in ${dir})`;
    const startedAt = Date.now();
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 20, pauseMs: 150 });
    try {
      const first = startTestDaemon(propertiesFile, join(dir, 'daemon-1.log'), env);
      daemons.push(first);
      await waitUntil(() => readHandledLog(log).records.length > 0, 120_000, () => `${context}: the first daemon handled nothing`);
      await sleep(random.int(500, 2_000));
      const javaPid = first.child.pid ?? 0;
      const children = childPids(javaPid);
      expect(children.length).toBeGreaterThan(0);
      first.kill();
      await first.exited;
      // Every child shardline process ends once the daemon is gone (its stdin closes): none is left behind.
      await waitUntil(() => children.every((pid) => !isAlive(pid)), 20_000, () => `${context}: children ${children.filter(isAlive).join(', ')} outlived the daemon`);
      for (const pid of new Set(readHandledLog(log).records.map((r) => r.pid))) endings.set(pid, 'killed');

      const second = startTestDaemon(propertiesFile, join(dir, 'daemon-2.log'), env);
      daemons.push(second);
      await producing;
      await waitForIds(log, RECORDS, 150_000, () => `${context}\n(daemon logs in ${dir})`);
      await second.stop();

      const handled = readHandledLog(log).records;
      const report = checkDelivery({ puts: producer.positions, handled, endings });
      printSummary('KCL daemon kill -9', SEED, report, 1, startedAt);
      assertDelivery(report, context);
    } finally {
      for (const d of daemons) d.kill();
      await producer.close();
      await producing.catch(() => undefined);
      client.destroy();
    }
  });
});
