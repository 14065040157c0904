import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { exploreConsumer } from '../../../src/core/consumer-explorer';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { PACKAGE_ROOT } from '../../../src/kcl-daemon/kcl-paths';
import { formatKclProperties } from '../../../src/kcl-daemon/kcl-properties';
import { RecordingConsumer } from '../../fixtures/kcl/recording-consumer';
import { motoEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { startTestDaemon, testDaemonProperties, type TestDaemon } from '../../harness/test-daemon';
import { collected, CollectorConsumer } from './collector.consumer';
import { createStream, localKinesis, memoryLogger, tempDir, waitFor } from './polling-test-kit';

jest.setTimeout(420_000);

const RUN_ID = `${Date.now().toString(36)}${process.pid}`;
const STREAM = `kcl-poll-${RUN_ID}`;
const APP = `kcl-poll-app-${RUN_ID}`;
const WORKER = `worker-${RUN_ID}`;
const FIXTURE = join('test', 'fixtures', 'kcl', 'recording-consumer.ts');

/**
 * The same application moves from the real KCL 3 daemon to the polling adapter and back, on one lease table (moto):
 * each side resumes exactly where the other stopped.
 */
describe('KCL daemon ⇄ polling adapter on one lease table', () => {
  const dir = tempDir('shardline-kcl-poll-');
  const out = join(dir, 'handled.txt');
  const propertiesFile = join(dir, 'app.properties');
  let kinesis: KinesisClient;
  let dynamo: DynamoDBClient;
  let daemon: TestDaemon | undefined;
  let nextId = 0;

  beforeAll(() => {
    kinesis = localKinesis();
    dynamo = new DynamoDBClient({ endpoint: motoEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  });
  afterAll(() => {
    daemon?.kill();
    kinesis.destroy();
    dynamo.destroy();
  });

  const daemonIds = (run: string): number[] =>
    existsSync(out)
      ? readFileSync(out, 'utf8')
          .split('\n')
          .filter((l) => l.startsWith(`${run} `))
          .map((l) => Number(l.split(' ')[3]))
      : [];

  async function put(count: number): Promise<number[]> {
    const ids = Array.from({ length: count }, () => nextId++);
    await kinesis.send(new PutRecordsCommand({ StreamName: STREAM, Records: ids.map((id) => ({ Data: Buffer.from(JSON.stringify({ id })), PartitionKey: `pk-${id}` })) }));
    return ids;
  }

  async function leases(): Promise<Map<string, Record<string, { S?: string; N?: string }>>> {
    const result = await dynamo.send(new ScanCommand({ TableName: APP, ConsistentRead: true }));
    return new Map((result.Items ?? []).map((item) => [item.leaseKey?.S ?? '', item as Record<string, { S?: string; N?: string }>]));
  }

  function startDaemon(run: string): TestDaemon {
    daemon = startTestDaemon(propertiesFile, join(dir, `daemon-${run}.log`), {
      SHARDLINE_KCL_TEST_STREAM: STREAM,
      SHARDLINE_KCL_TEST_APP: APP,
      SHARDLINE_KCL_TEST_OUT: out,
      SHARDLINE_KCL_TEST_RUN: run,
    });
    return daemon;
  }

  async function settledCheckpoints(): Promise<string> {
    let previous = '';
    for (let i = 0; i < 120; i++) {
      const now = JSON.stringify([...(await leases())].map(([k, v]) => [k, v.checkpoint?.S]).sort());
      if (now === previous && /\d{20,}/.test(now)) return now;
      previous = now;
      await new Promise((r) => setTimeout(r, 1_000));
    }
    throw new Error(`lease checkpoints did not settle: ${previous}`);
  }

  it('resumes at the position the other adapter stored, both ways', async () => {
    expect(existsSync(join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'))).toBe(true); // bin/shardline.js runs dist: npm run build
    await createStream(kinesis, STREAM, 2);
    const first = await put(200);
    const props = testDaemonProperties({
      definition: exploreConsumer(RecordingConsumer),
      streamName: STREAM,
      applicationName: APP,
      workerId: WORKER,
      executable: `node bin/shardline.js run ${FIXTURE} --adapter kcl`,
    });
    writeFileSync(propertiesFile, formatKclProperties(props, ['kcl ⇄ polling test']));

    // 1. The KCL daemon handles the first records and checkpoints them in its lease table.
    const run1 = startDaemon('1');
    await waitFor(() => first.every((id) => daemonIds('1').includes(id)), 180_000, () => `daemon run 1 handled ${daemonIds('1').length} of 200`);
    const kclCheckpoints = await settledCheckpoints();
    await run1.stop();

    // 2. The polling adapter takes the same table and reads only what came after the daemon's checkpoints.
    const second = await put(100);
    collected.length = 0;
    const { logger } = memoryLogger();
    const store = new DynamoDbCheckpointStore({ tableName: APP, client: dynamo, workerId: 'poller' });
    const source = new PollingRecordSource({ streamName: STREAM, client: kinesis, checkpointStore: store, logger, minPollIntervalMs: 50, idlePollIntervalMs: 100 });
    const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger });
    const polledIds = (): number[] => collected.flatMap((e) => (e.records ?? []).map((r) => Number(r.id)));
    await waitFor(() => second.every((id) => polledIds().includes(id)), 60_000, () => `polled ${polledIds().length} of 100`);
    await new Promise((r) => setTimeout(r, 500));
    await app.stop();
    await source.close();
    expect(polledIds().sort((a, b) => a - b)).toEqual(second); // nothing the daemon had checkpointed was read again
    const afterPolling = await leases();
    for (const [shardId, item] of afterPolling) {
      const last = collected.filter((e) => e.shardId === shardId).flatMap((e) => e.records ?? []).at(-1)?.seq;
      expect(item.checkpoint?.S).toBe(last);
      expect(item.leaseOwner).toBeUndefined();
    }
    expect(JSON.stringify([...afterPolling].map(([k, v]) => [k, v.checkpoint?.S]).sort())).not.toBe(kclCheckpoints);

    // 3. The daemon comes back and resumes at the polling adapter's checkpoints.
    const third = await put(50);
    const run2 = startDaemon('2');
    await waitFor(() => third.every((id) => daemonIds('2').includes(id)), 180_000, () => `daemon run 2 handled ${daemonIds('2').length} of 50`);
    await new Promise((r) => setTimeout(r, 2_000));
    await run2.stop();
    expect([...new Set(daemonIds('2'))].sort((a, b) => a - b)).toEqual(third);
  });
});
