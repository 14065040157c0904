/**
 * Producer benchmark: N records of 200 B to a fresh 4-shard kinesalite stream (a fresh kinesalite per run), for
 * shardline's KinesisProducer (plain and aggregated), a naive one-PutRecord-per-record loop (bounded, scaled), a plain
 * PutRecords-of-500 loop, and aws-kinesis-agg aggregation + PutRecords. Median of RUNS runs; client CPU from
 * process.cpuUsage() of this process. Writes its table into docs/benchmarks.md.
 *
 *   npm run build && node -r ./dist/cli/register.js bench/producer/run.ts
 *
 * Env: BENCH_RECORDS (100000), BENCH_NAIVE_RECORDS (5000), BENCH_RUNS (3), BENCH_PORT (25390).
 */
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { spawn, type ChildProcess, execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { connect } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createKinesisClient } from '../../src/kinesis/create-kinesis-client';
import { deaggregate, isAggregated } from '../../src/kpl/deaggregate';
import { KinesisProducer } from '../../src/producer/kinesis-producer';
import { writeBenchmarkSection } from '../write-results';

const N = Number(process.env.BENCH_RECORDS ?? 100_000);
const NAIVE_N = Number(process.env.BENCH_NAIVE_RECORDS ?? 5_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const PORT = Number(process.env.BENCH_PORT ?? 25390);
const STREAM = 'bench';
const ROOT = path.resolve(__dirname, '../..');

interface AggEncoded {
  partitionKey: string;
  explicitHashKey?: string;
  data: Buffer;
}
interface AwsKinesisAgg {
  RecordAggregator: new (onReady: (error: Error | null, encoded: AggEncoded) => void) => { aggregateRecords(records: { partitionKey: string; data: Buffer }[], forceFlush: boolean): void };
}
// eslint-disable-next-line @typescript-eslint/no-require-imports -- untyped in practice (its .d.ts needs aws-sdk v2)
const awsKinesisAgg = require('aws-kinesis-agg') as AwsKinesisAgg;

interface Input {
  readonly data: Buffer[];
  readonly keys: string[];
}

function makeInput(n: number): Input {
  return { data: Array.from({ length: n }, () => randomBytes(200)), keys: Array.from({ length: n }, () => randomBytes(8).toString('hex')) };
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1', () => (socket.end(), resolve(true)));
      socket.on('error', () => resolve(false));
    });
    if (open) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`kinesalite did not open port ${port}`);
}

async function freshStream(): Promise<{ server: ChildProcess; client: KinesisClient }> {
  const server = spawn(process.execPath, [path.join(ROOT, 'node_modules/kinesalite/cli.js'), '--port', String(PORT), '--createStreamMs', '0', '--deleteStreamMs', '0', '--updateStreamMs', '0'], { stdio: 'ignore' });
  await waitForPort(PORT);
  const client = createKinesisClient({ endpoint: `http://127.0.0.1:${PORT}`, maxAttempts: 1 });
  await client.send(new CreateStreamCommand({ StreamName: STREAM, ShardCount: 4 }));
  return { server, client };
}

async function stop(server: ChildProcess): Promise<void> {
  await new Promise<void>((resolve) => {
    server.once('exit', () => resolve());
    server.kill('SIGTERM');
  });
}

type Variant = (client: KinesisClient, input: Input) => Promise<void>;

const variants: { name: string; records: number; variant: Variant; checkShards?: boolean }[] = [
  {
    name: 'one PutRecord per record, sequential',
    records: NAIVE_N,
    variant: async (client, { data, keys }) => {
      for (let i = 0; i < data.length; i++) await client.send(new PutRecordCommand({ StreamName: STREAM, Data: data[i], PartitionKey: keys[i] }));
    },
  },
  {
    name: 'PutRecords of 500, sequential loop',
    records: N,
    variant: async (client, { data, keys }) => {
      for (let i = 0; i < data.length; i += 500) {
        const records = [];
        for (let j = i; j < Math.min(i + 500, data.length); j++) records.push({ Data: data[j], PartitionKey: keys[j] });
        const out = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
        if ((out.FailedRecordCount ?? 0) > 0) throw new Error('failed records in the loop (no retry in this baseline)');
      }
    },
  },
  {
    name: 'shardline KinesisProducer, plain',
    records: N,
    variant: async (client, { data, keys }) => {
      const producer = new KinesisProducer(client, { streamName: STREAM });
      let failed = 0;
      const onFailure = (): void => void failed++;
      for (let i = 0; i < data.length; i++) {
        if (producer.isFull) await producer.ready(); // bounded memory: the documented way to feed a large input
        producer.put(data[i]!, keys[i]!).catch(onFailure);
      }
      await producer.flush(); // resolves once every put settled; the input is all there, so no linger wait
      await producer.close();
      if (failed > 0 || producer.stats().deliveredRecords !== data.length) throw new Error(`${failed} records failed`);
    },
  },
  {
    name: 'aws-kinesis-agg aggregates + PutRecords, 4 in flight',
    records: N,
    checkShards: true,
    variant: async (client, { data, keys }) => {
      const encoded: AggEncoded[] = [];
      const aggregator = new awsKinesisAgg.RecordAggregator((error, e) => {
        if (error) throw error;
        encoded.push(e);
      });
      aggregator.aggregateRecords(data.map((d, i) => ({ partitionKey: keys[i]!, data: d })), true);
      const batches: AggEncoded[][] = [];
      let current: AggEncoded[] = [];
      let bytes = 0;
      for (const e of encoded) {
        if (current.length === 500 || bytes + e.data.length > 5 * 1024 * 1024) {
          batches.push(current);
          current = [];
          bytes = 0;
        }
        current.push(e);
        bytes += e.data.length;
      }
      if (current.length > 0) batches.push(current);
      let next = 0;
      await Promise.all(
        Array.from({ length: 4 }, async () => {
          while (next < batches.length) {
            const batch = batches[next++]!;
            await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: batch.map((e) => ({ Data: e.data, PartitionKey: e.partitionKey, ExplicitHashKey: e.explicitHashKey })) }));
          }
        }),
      );
    },
  },
  {
    name: 'shardline KinesisProducer, aggregated',
    records: N,
    checkShards: true,
    variant: async (client, { data, keys }) => {
      const producer = new KinesisProducer(client, { streamName: STREAM, aggregate: true });
      let failed = 0;
      const onFailure = (): void => void failed++;
      for (let i = 0; i < data.length; i++) {
        if (producer.isFull) await producer.ready(); // bounded memory: the documented way to feed a large input
        producer.put(data[i]!, keys[i]!).catch(onFailure);
      }
      await producer.flush(); // resolves once every put settled; the input is all there, so no linger wait
      await producer.close();
      if (failed > 0 || producer.stats().deliveredRecords !== data.length) throw new Error(`${failed} records failed`);
    },
  },
];

/** Reads the stream back and counts user records, and those sitting on another shard than their key's. */
async function checkShards(client: KinesisClient): Promise<{ records: number; misplaced: number }> {
  const shards = (await client.send(new ListShardsCommand({ StreamName: STREAM }))).Shards ?? [];
  let records = 0;
  let misplaced = 0;
  for (const shard of shards) {
    const start = BigInt(shard.HashKeyRange!.StartingHashKey!);
    const end = BigInt(shard.HashKeyRange!.EndingHashKey!);
    let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: STREAM, ShardId: shard.ShardId!, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
    while (iterator !== undefined) {
      const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
      for (const record of page.Records ?? []) {
        const blob = Buffer.from(record.Data!);
        const users = isAggregated(blob) ? deaggregate(blob) : [{ partitionKey: record.PartitionKey!, explicitHashKey: undefined }];
        for (const user of users) {
          records++;
          const hash = user.explicitHashKey !== undefined ? BigInt(user.explicitHashKey) : BigInt(`0x${createHash('md5').update(user.partitionKey).digest('hex')}`);
          if (hash < start || hash > end) misplaced++;
        }
      }
      if ((page.Records ?? []).length === 0) break;
      iterator = page.NextShardIterator;
    }
  }
  return { records, misplaced };
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

async function main(): Promise<void> {
  const rows: string[] = [];
  const summary: Record<string, { rate: number; cpu: number }> = {};
  const input = makeInput(N);
  for (const { name, records, variant, checkShards: check } of variants) {
    const slice: Input = { data: input.data.slice(0, records), keys: input.keys.slice(0, records) };
    const rates: number[] = [];
    const cpus: number[] = [];
    let placement = '';
    for (let run = 0; run < RUNS; run++) {
      const { server, client } = await freshStream();
      try {
        const cpuBefore = process.cpuUsage();
        const t0 = process.hrtime.bigint();
        await variant(client, slice);
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
        const cpu = process.cpuUsage(cpuBefore);
        rates.push(records / seconds);
        cpus.push(((cpu.user + cpu.system) / 1e6 / records) * 1e6);
        if (check === true && run === RUNS - 1) {
          const { records: read, misplaced } = await checkShards(client);
          placement = `${read} read, ${misplaced} (${((misplaced / read) * 100).toFixed(1)}%) off their key's shard`;
        }
      } finally {
        client.destroy();
        await stop(server);
      }
      process.stderr.write(`${name}: run ${run + 1}/${RUNS}: ${Math.round(rates.at(-1)!)} records/s, ${cpus.at(-1)!.toFixed(1)} CPU-s per million\n`);
    }
    summary[name] = { rate: median(rates), cpu: median(cpus) };
    const range = `[${Math.round(Math.min(...rates)).toLocaleString('en-US')}–${Math.round(Math.max(...rates)).toLocaleString('en-US')}]`;
    rows.push(`| ${name} | ${records.toLocaleString('en-US')} | ${Math.round(median(rates)).toLocaleString('en-US')} ${range} | ${median(cpus).toFixed(1)} | ${placement || '-'} |`);
  }
  const plain = summary['shardline KinesisProducer, plain']!;
  const loop = summary['PutRecords of 500, sequential loop']!;
  const agg = summary['shardline KinesisProducer, aggregated']!;
  const peer = summary['aws-kinesis-agg aggregates + PutRecords, 4 in flight']!;
  const markdown = [
    '## Producer (bench/producer)',
    '',
    `Records of 200 B with random partition keys to a fresh 4-shard kinesalite stream (a fresh kinesalite process per run), median of ${RUNS} runs [min–max].`,
    'Client CPU is `process.cpuUsage()` of the benchmark process (user + system) during the put, scaled to one million records.',
    `The one-PutRecord-per-record loop is bounded to ${NAIVE_N.toLocaleString('en-US')} records (its CPU per record does not depend on the count).`,
    '',
    '| producer | records | records/s | client CPU s / 1M records | records on their key\'s shard (read back) |',
    '|---|---|---|---|---|',
    ...rows,
    '',
    `- shardline plain vs PutRecords-of-500 loop, CPU per record: ${(plain.cpu / loop.cpu).toFixed(2)}× (target ≤ 1.10×).`,
    `- shardline aggregated vs aws-kinesis-agg, throughput: ${(agg.rate / peer.rate).toFixed(2)}× (target ≥ 1.00×), CPU per record ${(agg.cpu / peer.cpu).toFixed(2)}×.`,
    '',
    `Machine: ${os.cpus().length} CPUs (nproc ${execSync('nproc').toString().trim()}), ${os.cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.`,
    'Command: `npm run build && node -r ./dist/cli/register.js bench/producer/run.ts`',
  ].join('\n');
  writeBenchmarkSection('producer', markdown);
  process.stderr.write(`${markdown}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/producer: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
