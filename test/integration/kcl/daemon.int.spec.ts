import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamCommand, KinesisClient, ListShardsCommand, PutRecordsCommand, SplitShardCommand, type Shard } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { exploreConsumer } from '../../../src/core/consumer-explorer';
import { PACKAGE_ROOT } from '../../../src/kcl-daemon/kcl-paths';
import { formatKclProperties } from '../../../src/kcl-daemon/kcl-properties';
import { RecordingConsumer } from '../../fixtures/kcl/recording-consumer';
import { kinesisEndpoint, motoEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { startTestDaemon, testDaemonProperties, type TestDaemon } from '../../harness/test-daemon';

jest.setTimeout(420_000);

const RUN_ID = `${Date.now().toString(36)}${process.pid}`;
const STREAM = `kcl-daemon-${RUN_ID}`;
const APP = `kcl-app-${RUN_ID}`;
const WORKER = `worker-${RUN_ID}`;
const FIXTURE = path.join('test', 'fixtures', 'kcl', 'recording-consumer.ts');

interface Handled {
  run: string;
  shardId: string;
  batch: string;
  id: number;
}

async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined> | T | undefined, logFile?: string): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const tail = logFile !== undefined && existsSync(logFile) ? readFileSync(logFile, 'utf8').split('\n').slice(-40).join('\n') : '';
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}\n--- daemon log tail ---\n${tail}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}

describe('the real KCL MultiLangDaemon 3.x running a shardline child', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'shardline-kcl-'));
  const out = path.join(dir, 'handled.txt');
  const propertiesFile = path.join(dir, 'app.properties');
  const kinesis = new KinesisClient({ endpoint: kinesisEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  const dynamo = new DynamoDBClient({ endpoint: motoEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  let daemon: TestDaemon | undefined;
  let nextId = 0;

  const handled = (): Handled[] =>
    existsSync(out)
      ? readFileSync(out, 'utf8')
          .split('\n')
          .filter((l) => l !== '')
          .map((l) => {
            const [run, shardId, batch, id] = l.split(' ');
            return { run: run!, shardId: shardId!, batch: batch!, id: Number(id) };
          })
      : [];

  async function put(count: number): Promise<number[]> {
    const ids: number[] = [];
    for (let done = 0; done < count; done += 500) {
      const chunk = Array.from({ length: Math.min(500, count - done) }, () => nextId++);
      const result = await kinesis.send(
        new PutRecordsCommand({ StreamName: STREAM, Records: chunk.map((id) => ({ Data: Buffer.from(JSON.stringify({ id })), PartitionKey: `pk-${id}` })) }),
      );
      expect(result.FailedRecordCount ?? 0).toBe(0);
      ids.push(...chunk);
    }
    return ids;
  }

  function startDaemon(run: string): TestDaemon {
    daemon = startTestDaemon(propertiesFile, path.join(dir, `daemon-${run}.log`), {
      SHARDLINE_KCL_TEST_STREAM: STREAM,
      SHARDLINE_KCL_TEST_APP: APP,
      SHARDLINE_KCL_TEST_OUT: out,
      SHARDLINE_KCL_TEST_RUN: run,
    });
    return daemon;
  }

  async function leaseCheckpoints(): Promise<Map<string, string>> {
    const result = await dynamo.send(new ScanCommand({ TableName: APP }));
    return new Map((result.Items ?? []).map((item) => [item.leaseKey?.S ?? '', item.checkpoint?.S ?? '']));
  }

  async function shards(): Promise<Shard[]> {
    return (await kinesis.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? [];
  }

  afterAll(async () => {
    daemon?.kill();
    if (process.env.SHARDLINE_KEEP_KCL_TEST_FILES !== '1') rmSync(dir, { recursive: true, force: true });
    kinesis.destroy();
    dynamo.destroy();
  });

  it('handles every record, checkpoints, resumes after a restart and orders a split parent before its children', async () => {
    expect(existsSync(path.join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'))).toBe(true); // bin/shardline.js runs dist: npm run build
    await kinesis.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 2 }));
    await waitFor('the stream to be active', 30_000, async () =>
      (await kinesis.send(new DescribeStreamCommand({ StreamName: STREAM }))).StreamDescription?.StreamStatus === 'ACTIVE' ? true : undefined,
    );
    const firstIds = await put(2_000);

    const definition = exploreConsumer(RecordingConsumer);
    const props = testDaemonProperties({
      definition,
      streamName: STREAM,
      applicationName: APP,
      workerId: WORKER,
      executable: `node bin/shardline.js run ${FIXTURE} --adapter kcl`,
      extra: [['maxRecords', '300']],
    });
    const text = formatKclProperties(props, ['real-daemon test']);
    expect(text.split('\n').every((line) => line === line.trimEnd())).toBe(true);
    writeFileSync(propertiesFile, text);

    // Run 1: every id handled at least once, and the checkpoints reach the lease table.
    const run1 = startDaemon('1');
    await waitFor('all 2,000 records to be handled', 180_000, () => {
      const seen = new Set(handled().map((h) => h.id));
      return firstIds.every((id) => seen.has(id)) ? true : undefined;
    }, run1.log);
    const lastSequence = new Map<string, string>();
    for (const shard of await shards()) lastSequence.set(shard.ShardId!, '');
    await waitFor('checkpoints in the lease table', 60_000, async () => {
      const checkpoints = await leaseCheckpoints();
      const digits = [...checkpoints.values()].filter((c) => /^\d+$/.test(c));
      return digits.length === 2 ? checkpoints : undefined;
    }, run1.log);
    const handledInRun1 = handled().length;
    // wait until the checkpoints stop moving (the last batch of each shard is checkpointed before the stop)
    let previous = '';
    await waitFor('checkpoints to settle', 60_000, async () => {
      const now = JSON.stringify([...(await leaseCheckpoints()).entries()].sort());
      const settled = now === previous && handled().length === handledInRun1;
      previous = now;
      return settled ? true : undefined;
    });
    await run1.stop();

    // Run 2: same worker id. New records, then a split of shard 0 with more records after it.
    const run2 = startDaemon('2');
    const secondIds = await put(200);
    await waitFor('the new records after the restart', 120_000, () => {
      const seen = new Set(handled().filter((h) => h.run === '2').map((h) => h.id));
      return secondIds.every((id) => seen.has(id)) ? true : undefined;
    }, run2.log);
    const before = await shards();
    const parent = before.find((s) => s.ShardId === 'shardId-000000000000')!;
    const start = BigInt(parent.HashKeyRange!.StartingHashKey!);
    const end = BigInt(parent.HashKeyRange!.EndingHashKey!);
    const parentIdsBeforeSplit = new Set(handled().filter((h) => h.shardId === parent.ShardId).map((h) => h.id));
    await kinesis.send(new SplitShardCommand({ StreamName: STREAM, ShardToSplit: parent.ShardId!, NewStartingHashKey: ((start + end) / 2n).toString() }));
    await waitFor('the stream to be active after the split', 30_000, async () =>
      (await kinesis.send(new DescribeStreamCommand({ StreamName: STREAM }))).StreamDescription?.StreamStatus === 'ACTIVE' ? true : undefined,
    );
    const thirdIds = await put(300);
    const children = (await shards()).filter((s) => s.ParentShardId === parent.ShardId).map((s) => s.ShardId!);
    expect(children).toHaveLength(2);
    await waitFor('the records put after the split', 180_000, () => {
      const seen = new Set(handled().map((h) => h.id));
      return thirdIds.every((id) => seen.has(id)) && handled().some((h) => children.includes(h.shardId)) ? true : undefined;
    }, run2.log);
    await waitFor('the parent lease to reach SHARD_END', 60_000, async () => ((await leaseCheckpoints()).get(parent.ShardId!) === 'SHARD_END' ? true : undefined), run2.log);
    await run2.stop();

    const all = handled();
    // every id handled at least once
    const seen = new Set(all.map((h) => h.id));
    for (const id of [...firstIds, ...secondIds, ...thirdIds]) expect(seen.has(id)) .toBe(true);
    // the restart re-handles at most one batch per shard
    const run1Ids = new Set(all.filter((h) => h.run === '1').map((h) => h.id));
    const rehandled = all.filter((h) => h.run === '2' && run1Ids.has(h.id));
    const batchesPerShard = new Map<string, Set<string>>();
    for (const h of rehandled) batchesPerShard.set(h.shardId, (batchesPerShard.get(h.shardId) ?? new Set()).add(h.batch));
    for (const batches of batchesPerShard.values()) expect(batches.size).toBeLessThanOrEqual(1);
    // every record of the parent is handled before any record of its children
    const lastParentLine = all.reduce((last, h, i) => (h.shardId === parent.ShardId ? i : last), -1);
    const firstChildLine = all.findIndex((h) => children.includes(h.shardId));
    expect(firstChildLine).toBeGreaterThan(lastParentLine);
    expect(parentIdsBeforeSplit.size).toBeGreaterThan(0);
    // the stray console.log of the fixture never broke the protocol: the daemon logged no skipped line
    const daemonLogs = readFileSync(run1.log, 'utf8') + readFileSync(run2.log, 'utf8');
    expect(daemonLogs).not.toMatch(/Skipping unexpected line on STDOUT/);
  });
});
