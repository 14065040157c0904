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

const SEED = scenarioSeed(11_009);
const RECORDS = 600;


/**
 * The other KCL counterpart: one shardline child of the MultiLangDaemon is killed with kill -9 while it handles
 * records. What the real daemon (KCL 3.1.3) does then is observed, not assumed: it either starts the shard's record
 * processor again (a new child) or gives up and exits, in which case it is started again, as a supervisor would.
 * Either way: nothing lost, at most one batch per shard repeated for the crash.
 */
describe('chaos: one KCL child killed with kill -9 (kinesis-local, moto)', () => {
  it(`the shard is read again from its checkpoint; nothing is lost (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const client = localKinesis(kinesisEndpoint());
    const stream = uniqueName('chaos-kcl-child');
    const app = uniqueName('chaos-kcl-child-app');
    await createStream(client, stream, 2);
    const dir = tempDir('shardline-chaos-kcl-child-');
    const log = join(dir, 'handled.jsonl');
    const propertiesFile = writeChaosDaemonProperties(dir, { stream, application: app, workerId: `chaos-child-worker-${process.pid}`, comment: 'chaos: a child killed' });
    const env = { [HANDLED_LOG_ENV]: log, CHAOS_STREAM: stream, CHAOS_SLEEP_MS_AFTER_LOG: '300' };
    const producer = new ChaosProducer(client, stream);
    const endings = new Map<number, RunEnding>();
    const daemons: TestDaemon[] = [];
    const context = `KCL child kill -9 (seed ${SEED}, files in ${dir})`;
    const startedAt = Date.now();
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 20, pauseMs: 150 });
    try {
      const first = startTestDaemon(propertiesFile, join(dir, 'daemon-1.log'), env);
      daemons.push(first);
      await waitUntil(() => readHandledLog(log).records.length > 0, 120_000, () => `${context}: the daemon handled nothing`);
      await sleep(random.int(300, 1_500));
      const handledBy = [...new Set(readHandledLog(log).records.map((r) => r.pid))];
      const victim = handledBy[random.int(0, handledBy.length - 1)]!;
      expect(childPids(first.child.pid ?? 0)).toContain(victim);
      process.kill(victim, 'SIGKILL');
      endings.set(victim, 'killed');

      // Observe the daemon: does it go on (a new child for the shard) or exit?
      const exitedEarly = await Promise.race([first.exited.then(() => true), sleep(20_000).then(() => false)]);
      let daemon = first;
      if (exitedEarly) {
        // The daemon gave up with its child: its other children end with it (closed stdin); a supervisor starts it again.
        for (const pid of handledBy) if (!isAlive(pid)) endings.set(pid, endings.get(pid) ?? 'killed');
        daemon = startTestDaemon(propertiesFile, join(dir, 'daemon-2.log'), env);
        daemons.push(daemon);
      }
      await producing;
      await waitForIds(log, RECORDS, 150_000, () => `${context}\n(daemon exited after the kill: ${exitedEarly}; logs in ${dir})`);
      await daemon.stop();
      const handled = readHandledLog(log).records;
      // Processes that ended with the daemon were not stopped gracefully by a shardline SIGTERM: count them as crashed.
      for (const pid of new Set(handled.map((r) => r.pid))) if (!endings.has(pid) && exitedEarly) endings.set(pid, 'killed');
      const report = checkDelivery({ puts: producer.positions, handled, endings });
      printSummary(`KCL child kill -9 (daemon ${exitedEarly ? 'exited and was restarted' : 'went on'})`, SEED, report, 1, startedAt);
      assertDelivery(report, context);
    } finally {
      for (const d of daemons) d.kill();
      await producer.close();
      await producing.catch(() => undefined);
      client.destroy();
    }
  });
});
