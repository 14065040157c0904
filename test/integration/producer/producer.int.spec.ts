import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createHash } from 'node:crypto';
import path from 'node:path';
import { promisify } from 'node:util';
import { firstValueFrom, filter, scan, takeWhile, last, timeout, tap } from 'rxjs';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';
import { deaggregate, isAggregated } from '../../../src/kpl/deaggregate';
import { KinesisProducer } from '../../../src/producer/kinesis-producer';
import { StreamAdmin } from '../../../src/admin/stream-admin';
import { type StreamDescription } from '../../../src/admin/stream-description';
import { kinesisEndpoint } from '../../harness/endpoints';

jest.setTimeout(120_000);

const run = promisify(execFile);
const ROOT = path.resolve(__dirname, '../../..');
let client: KinesisClient;
let counter = 0;

function streamName(label: string): string {
  counter++;
  return `producer-${label}-${process.pid}-${counter}-${Date.now()}`;
}

async function createStream(name: string, shards: number): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }));
  await new StreamAdmin(client, { pollIntervalMs: 100 }).waitUntilActive(name);
}

interface ReadRecord {
  readonly shardId: string;
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
}

/** Reads every shard from TRIM_HORIZON with GetRecords until it returns no more (de-aggregating KPL records). */
async function readAll(name: string): Promise<ReadRecord[]> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
  const out: ReadRecord[] = [];
  for (const shard of shards) {
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: name, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    for (let empty = 0; iterator !== undefined && empty < 2; ) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      const records = page.Records ?? [];
      if (records.length === 0) empty++;
      for (const record of records) {
        const data = Buffer.from(record.Data!);
        if (isAggregated(data)) {
          for (const user of deaggregate(data)) out.push({ shardId: shard.ShardId!, data: Buffer.from(user.data), partitionKey: user.partitionKey, sequenceNumber: record.SequenceNumber! });
        } else out.push({ shardId: shard.ShardId!, data, partitionKey: record.PartitionKey!, sequenceNumber: record.SequenceNumber! });
      }
      iterator = page.NextShardIterator;
    }
  }
  return out;
}

function shardOfKey(shards: readonly { ShardId?: string; HashKeyRange?: { StartingHashKey?: string; EndingHashKey?: string } }[], key: string): string {
  const hash = BigInt(`0x${createHash('md5').update(key, 'utf8').digest('hex')}`);
  return shards.find((s) => hash >= BigInt(s.HashKeyRange!.StartingHashKey!) && hash <= BigInt(s.HashKeyRange!.EndingHashKey!))!.ShardId!;
}

beforeAll(() => {
  client = createKinesisClient({ endpoint: kinesisEndpoint() });
});

afterAll(() => client.destroy());

describe('KinesisProducer against kinesis-local', () => {
  it('puts 10,000 records and reads each back exactly once', async () => {
    const name = streamName('10k');
    await createStream(name, 4);
    const producer = new KinesisProducer(client, { streamName: name });
    const results = await Promise.all(Array.from({ length: 10_000 }, (_, i) => producer.put({ i, pad: 'x'.repeat(50) }, `key-${i % 500}`)));
    await producer.close();
    const read = await readAll(name);
    expect(read).toHaveLength(10_000);
    const seen = read.map((r) => (JSON.parse(r.data.toString('utf8')) as { i: number }).i).sort((a, b) => a - b);
    expect(seen).toEqual(Array.from({ length: 10_000 }, (_, i) => i));
    const bySequence = new Map(read.map((r) => [r.sequenceNumber, r]));
    results.forEach((result, i) => {
      const record = bySequence.get(result.sequenceNumber)!;
      expect(record.shardId).toBe(result.shardId);
      expect(record.partitionKey).toBe(`key-${i % 500}`);
    });
  });

  it('retries partial PutRecords failures injected through the middleware until every record lands', async () => {
    const name = streamName('partial');
    await createStream(name, 2);
    const faulty = createKinesisClient({ endpoint: kinesisEndpoint() });
    let injected = 0;
    let calls = 0;
    // Kinesis never throttles locally: fail every 4th entry of the first 5 calls after the response came back.
    faulty.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const isPutRecords = Array.isArray((args.input as { Records?: unknown }).Records);
        if (!isPutRecords || ++calls > 5) return result;
        const output = result.output as { FailedRecordCount?: number; Records?: { ErrorCode?: string; ErrorMessage?: string; SequenceNumber?: string; ShardId?: string }[] };
        output.Records = output.Records?.map((entry, i) => {
          if (i % 4 !== 0) return entry;
          injected++;
          return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'injected' };
        });
        output.FailedRecordCount = output.Records?.filter((r) => r.ErrorCode !== undefined).length;
        return result;
      },
      { step: 'initialize', name: 'injectPartialFailures' },
    );
    // The middleware rewrites results after the call, so an "failed" entry was in fact written too: it may be read
    // twice (at-least-once). What counts is that every record is there and every put resolved with a real record.
    const producer = new KinesisProducer(faulty, { streamName: name, retryBaseMs: 10, retryCapMs: 50, maxBatchRecords: 100 });
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => producer.put(`r${i}`, `k${i}`)));
    await producer.close();
    faulty.destroy();
    expect(injected).toBeGreaterThan(0);
    expect(results.reduce((sum, r) => sum + r.attempts - 1, 0)).toBe(injected); // each injected failure cost one more attempt
    expect(producer.stats()).toMatchObject({ deliveredRecords: 1000, failedRecords: 0, retriedRecords: injected });
    const read = await readAll(name);
    const distinct = new Set(read.map((r) => r.data.toString()));
    expect(distinct.size).toBe(1000);
    // Every put resolved with a record that is really in the stream.
    const sequences = new Set(read.map((r) => r.sequenceNumber));
    for (const r of results) expect(sequences.has(r.sequenceNumber)).toBe(true);
  });

  it('putMany with a queue smaller than the call: every record lands once and its result names its real record', async () => {
    const name = streamName('many');
    await createStream(name, 2);
    const producer = new KinesisProducer(client, { streamName: name, maxQueuedRecords: 300, lingerMs: 10 });
    const n = 2000;
    const result = await producer.putMany(Array.from({ length: n }, (_, i) => ({ data: `m${i}`, partitionKey: `k${i}` })));
    await producer.close();
    expect(result).toMatchObject({ deliveredCount: n, failedCount: 0 });
    const read = await readAll(name);
    expect(read).toHaveLength(n);
    const bySequence = new Map(read.map((r) => [r.sequenceNumber, r]));
    for (let i = 0; i < n; i++) {
      const record = bySequence.get(result.sequenceNumbers[i]!)!;
      expect(record.data.toString()).toBe(`m${i}`);
      expect(record.shardId).toBe(result.shardIds[i]);
    }
  });

  it('blocks put when the queue is full, then drains everything', async () => {
    const name = streamName('full');
    await createStream(name, 1);
    const slow = createKinesisClient({ endpoint: kinesisEndpoint() });
    let gate: (() => void) | undefined;
    let gated = true;
    slow.middlewareStack.add(
      (next) => async (args) => {
        if (gated) await new Promise<void>((resolve) => (gate = resolve));
        return next(args);
      },
      { step: 'initialize', name: 'gate' },
    );
    const producer = new KinesisProducer(slow, { streamName: name, maxQueuedRecords: 50, maxBatchRecords: 10, maxInFlightCalls: 1, lingerMs: 5 });
    let accepted = 0;
    const feeding = (async () => {
      for (let i = 0; i < 200; i++) {
        await producer.ready();
        accepted++;
        void producer.put(`r${i}`, `k${i}`);
      }
    })();
    await new Promise((r) => setTimeout(r, 200));
    expect(accepted).toBe(50);
    expect(producer.isFull).toBe(true);
    expect(producer.stats().queuedRecords).toBe(50);
    gated = false;
    gate?.();
    await feeding;
    await producer.close();
    slow.destroy();
    expect(producer.stats()).toMatchObject({ deliveredRecords: 200, failedRecords: 0, queuedRecords: 0 });
    expect(new Set((await readAll(name)).map((r) => r.data.toString())).size).toBe(200);
  });

  it('close() with pending records delivers them', async () => {
    const name = streamName('close');
    await createStream(name, 2);
    const producer = new KinesisProducer(client, { streamName: name, lingerMs: 60_000 });
    const puts = Array.from({ length: 300 }, (_, i) => producer.put(`r${i}`, `k${i}`));
    expect(producer.stats().queuedRecords).toBe(300);
    await producer.close();
    await expect(Promise.all(puts)).resolves.toHaveLength(300);
    expect((await readAll(name)).map((r) => r.data.toString()).sort()).toEqual(Array.from({ length: 300 }, (_, i) => `r${i}`).sort());
  });

  it('aggregated records are read back individually by the polling adapter, each on its own key shard', async () => {
    const name = streamName('agg');
    await createStream(name, 4);
    const producer = new KinesisProducer(client, { streamName: name, aggregate: true, maxAggregateBytes: 20_000 });
    const n = 3000;
    await Promise.all(Array.from({ length: n }, (_, i) => producer.put({ i }, `key-${i}`)));
    await producer.close();
    expect(producer.stats().calls).toBeLessThan(10);
    const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];

    const source = new PollingRecordSource({ streamName: name, client, checkpointStore: new MemoryCheckpointStore(), minPollIntervalMs: 20, idlePollIntervalMs: 50 });
    const records = await firstValueFrom(
      source.events().pipe(
        tap((event) => event.ack({ status: 'ok' })),
        filter((event) => event.type === 'records'),
        scan((all, event) => [...all, ...(event.type === 'records' ? event.records : [])], [] as KinesisRecord[]),
        takeWhile((all) => all.length < n, true),
        last(),
        timeout(60_000),
      ),
    );
    await source.close();
    expect(records).toHaveLength(n);
    expect(new Set(records.map((r) => r.partitionKey)).size).toBe(n);
    for (const record of records) {
      expect((JSON.parse(record.data.toString('utf8')) as { i: number }).i).toBe(Number(record.partitionKey.slice(4)));
      expect(record.shardId).toBe(shardOfKey(shards, record.partitionKey));
    }
  });
});

describe('shardline streams (CLI) against kinesis-local', () => {
  async function cliAt(endpoint: string, ...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return run(process.execPath, [path.join(ROOT, 'bin/shardline.js'), ...args, '--endpoint', endpoint], { cwd: ROOT, timeout: 60_000 });
  }
  async function cli(...args: string[]): Promise<{ stdout: string; stderr: string }> {
    return cliAt(kinesisEndpoint(), ...args);
  }
  async function describe_(name: string): Promise<StreamDescription> {
    return JSON.parse((await cli('streams', 'describe', name, '--json')).stdout) as StreamDescription;
  }

  it('split then merge change describe as expected', async () => {
    const name = streamName('cli');
    await cli('streams', 'create', name, '--shards', '2');
    const before = await describe_(name);
    expect(before.shards.filter((s) => s.open)).toHaveLength(2);
    const [first] = before.shards;

    await cli('streams', 'split', name, first!.shardId);
    const split = await describe_(name);
    expect(split.status).toBe('ACTIVE');
    expect(split.shards.find((s) => s.shardId === first!.shardId)!.open).toBe(false);
    const children = split.shards.filter((s) => s.parentShardId === first!.shardId);
    expect(children).toHaveLength(2);
    const mid = BigInt(first!.startingHashKey) + (BigInt(first!.endingHashKey) - BigInt(first!.startingHashKey) + 1n) / 2n;
    expect(children.map((c) => [c.startingHashKey, c.endingHashKey]).sort()).toEqual(
      [[first!.startingHashKey, (mid - 1n).toString()], [mid.toString(), first!.endingHashKey]].sort(),
    );
    expect(split.openShardCount).toBe(3);

    const [low, high] = children.sort((a, b) => (BigInt(a.startingHashKey) < BigInt(b.startingHashKey) ? -1 : 1));
    await cli('streams', 'merge', name, low!.shardId, high!.shardId);
    const merged = await describe_(name);
    const child = merged.shards.find((s) => s.open && s.parentShardId === low!.shardId && s.adjacentParentShardId === high!.shardId);
    expect(child).toMatchObject({ startingHashKey: first!.startingHashKey, endingHashKey: first!.endingHashKey });
    expect(merged.openShardCount).toBe(2);

    // Not adjacent: the merged child and ... a closed shard; and two open shards that do not touch are refused.
    const error = await cli('streams', 'merge', name, low!.shardId, high!.shardId).catch((e: { code: number; stderr: string }) => e);
    expect(error).toMatchObject({ code: 1 });
    expect((error as { stderr: string }).stderr).toMatch(/^shardline: shard .* is closed/);
  });

  it('shardline put sends an NDJSON file in putMany chunks and every line lands once, on its key shard', async () => {
    const name = streamName('cli-put');
    await createStream(name, 2);
    const n = 1234; // not a multiple of the 500-record chunk
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'shardline-put-')), 'in.ndjson');
    writeFileSync(file, Array.from({ length: n }, (_, i) => JSON.stringify({ i, dest: `D${i % 37}` })).join('\n') + '\n');
    const { stdout } = await cli('put', '--stream', name, '--file', file, '--partition-key-field', 'dest', '--json');
    expect(JSON.parse(stdout)).toMatchObject({ records: n, delivered: n, failed: 0 });
    const read = await readAll(name);
    expect(read).toHaveLength(n);
    expect(new Set(read.map((r) => (JSON.parse(r.data.toString('utf8')) as { i: number }).i)).size).toBe(n);
    const shards = (await client.send(new ListShardsCommand({ StreamName: name }))).Shards ?? [];
    for (const r of read) expect(r.shardId).toBe(shardOfKey(shards, r.partitionKey));
  });

  it('shardline put fails at once, before reading its input, when the stream does not exist or the endpoint is down', async () => {
    const missing = await cli('put', '--stream', streamName('missing'), '--format', 'lines').catch((error: unknown) => error as { code: number; stderr: string });
    expect(missing).toMatchObject({ code: 1 });
    expect((missing as { stderr: string }).stderr).toMatch(/^shardline: stream \S+ does not exist at .*: create it first \(shardline streams create /m);
    const started = Date.now();
    const down = await cliAt('http://127.0.0.1:9', 'put', '--stream', 'any', '--format', 'lines').catch((error: unknown) => error as { code: number; stderr: string });
    expect(down).toMatchObject({ code: 1 });
    expect((down as { stderr: string }).stderr).toMatch(/^shardline: cannot reach stream any at http:\/\/127\.0\.0\.1:9 .*check --endpoint/m);
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it('refuses to merge shards that are not adjacent, with a usable message', async () => {
    const name = streamName('cli-adj');
    await cli('streams', 'create', name, '--shards', '3');
    const error = (await cli('streams', 'merge', name, '0', '2').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(error.code).toBe(1);
    expect(error.stderr).toMatch(/shards shardId-000000000000 and shardId-000000000002 of stream .* are not adjacent.*can merge with shardId-000000000001/);
    const usage = (await cli('streams', 'split', name, 'abc').catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(usage.code).toBe(2);
  });
});
