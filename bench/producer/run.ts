/**
 * Producer benchmark: N records of 200 B to a fresh 4-shard kinesalite stream (a fresh kinesalite per run), for
 * shardline's KinesisProducer (plain and aggregated), a naive one-PutRecord-per-record loop (bounded, scaled), plain
 * PutRecords-of-500 loops (1 and 4 calls in flight), and aws-kinesis-agg aggregation + PutRecords. Every variant
 * first runs once untimed (warm-up), then the timed runs are interleaved (round r runs every variant once); median
 * of RUNS runs; client CPU from process.cpuUsage() of this process. Writes its table into docs/benchmarks.md.
 *
 *   npm run build && node -r ./dist/cli/register.js bench/producer/run.ts
 *
 * Env: BENCH_RECORDS (100000), BENCH_NAIVE_RECORDS (5000), BENCH_RUNS (5), BENCH_WARMUP_RECORDS (20000),
 * BENCH_PORT (25390), BENCH_ONLY (run only the variants whose name contains it, or one of its |-separated parts; no
 * table is written), BENCH_CPU_PROFILE_DIR (write a CPU profile of each timed run's timed region there).
 */
import { CreateStreamCommand, GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, PutRecordCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { spawn, type ChildProcess, execSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { Session } from 'node:inspector/promises';
import { connect } from 'node:net';
import { mkdirSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createKinesisClient } from '../../src/kinesis/create-kinesis-client';
import { deaggregate, isAggregated } from '../../src/kpl/deaggregate';
import { KinesisProducer, type ProducerRecord, type PutManyResult } from '../../src/producer/kinesis-producer';
import { writeBenchmarkSection } from '../write-results';

const N = Number(process.env.BENCH_RECORDS ?? 100_000);
const NAIVE_N = Number(process.env.BENCH_NAIVE_RECORDS ?? 5_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 5);
const WARMUP_N = Number(process.env.BENCH_WARMUP_RECORDS ?? 20_000);
const PORT = Number(process.env.BENCH_PORT ?? 25390);
const PROFILE_DIR = process.env.BENCH_CPU_PROFILE_DIR;
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

/** A plain PutRecords-of-500 loop over the input, with `inFlight` such loops taking the next batch in turn. */
async function putRecordsLoop(client: KinesisClient, { data, keys }: Input, inFlight: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: inFlight }, async () => {
      while (next < data.length) {
        const from = next;
        next = Math.min(from + 500, data.length);
        const records = [];
        for (let j = from; j < next; j++) records.push({ Data: data[j], PartitionKey: keys[j] });
        const out = await client.send(new PutRecordsCommand({ StreamName: STREAM, Records: records }));
        if ((out.FailedRecordCount ?? 0) > 0) throw new Error('failed records in the loop (no retry in this baseline)');
      }
    }),
  );
}

/** shardline's producer fed the documented way for a large input (await `ready()` when full, a handler per put). */
async function shardline(client: KinesisClient, { data, keys }: Input, aggregate: boolean, maxInFlightCalls: number): Promise<void> {
  const producer = new KinesisProducer(client, { streamName: STREAM, aggregate, maxInFlightCalls });
  let failed = 0;
  const onFailure = (): void => void failed++;
  for (let i = 0; i < data.length; i++) {
    if (producer.isFull) await producer.ready(); // bounded memory
    producer.put(data[i]!, keys[i]!).catch(onFailure);
  }
  await producer.flush(); // resolves once every put settled; the input is all there, so no linger wait
  await producer.close();
  if (failed > 0 || producer.stats().deliveredRecords !== data.length) throw new Error(`${failed} records failed`);
}

/** Records per putMany call in the putMany rows (as `shardline put` sends them). */
const PUT_MANY_CHUNK = 500;

/** shardline's producer fed in chunks with putMany (one promise per chunk, none per record), as `shardline put` does. */
async function shardlinePutMany(client: KinesisClient, { data, keys }: Input, maxInFlightCalls: number, aggregate = false): Promise<void> {
  const producer = new KinesisProducer(client, { streamName: STREAM, maxInFlightCalls, aggregate });
  let failed = 0;
  const calls: Promise<void>[] = [];
  const onResult = (result: PutManyResult): void => void (failed += result.failedCount);
  for (let from = 0; from < data.length; from += PUT_MANY_CHUNK) {
    const to = Math.min(from + PUT_MANY_CHUNK, data.length);
    const chunk: ProducerRecord[] = [];
    for (let i = from; i < to; i++) chunk.push({ data: data[i]!, partitionKey: keys[i]! });
    if (producer.isFull) await producer.ready(); // bounded memory
    calls.push(producer.putMany(chunk).then(onResult));
  }
  await Promise.all(calls);
  await producer.close();
  if (failed > 0 || producer.stats().deliveredRecords !== data.length) throw new Error(`${failed} records failed`);
}

const variants: { name: string; inFlight: number; records: number; variant: Variant; checkShards?: boolean }[] = [
  {
    name: 'one PutRecord per record, sequential',
    inFlight: 1,
    records: NAIVE_N,
    variant: async (client, { data, keys }) => {
      for (let i = 0; i < data.length; i++) await client.send(new PutRecordCommand({ StreamName: STREAM, Data: data[i], PartitionKey: keys[i] }));
    },
  },
  { name: 'PutRecords of 500, sequential loop', inFlight: 1, records: N, variant: (client, input) => putRecordsLoop(client, input, 1) },
  { name: 'shardline KinesisProducer, plain, maxInFlightCalls 1', inFlight: 1, records: N, variant: (client, input) => shardline(client, input, false, 1) },
  { name: 'shardline KinesisProducer, plain, putMany of 500, maxInFlightCalls 1', inFlight: 1, records: N, variant: (client, input) => shardlinePutMany(client, input, 1) },
  { name: 'PutRecords of 500, 4 loops in flight', inFlight: 4, records: N, variant: (client, input) => putRecordsLoop(client, input, 4) },
  { name: 'shardline KinesisProducer, plain (default 4 in flight)', inFlight: 4, records: N, variant: (client, input) => shardline(client, input, false, 4) },
  { name: 'shardline KinesisProducer, plain, putMany of 500 (default 4 in flight)', inFlight: 4, records: N, variant: (client, input) => shardlinePutMany(client, input, 4) },
  {
    name: 'aws-kinesis-agg aggregates + PutRecords, 4 in flight',
    inFlight: 4,
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
    name: 'shardline KinesisProducer, aggregated (default 4 in flight)',
    inFlight: 4,
    records: N,
    checkShards: true,
    variant: (client, input) => shardline(client, input, true, 4),
  },
  {
    name: 'shardline KinesisProducer, aggregated, putMany of 500 (default 4 in flight)',
    inFlight: 4,
    records: N,
    checkShards: true,
    variant: (client, input) => shardlinePutMany(client, input, 4, true),
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

/**
 * BENCH_CPU_PROFILE_DIR: starts a CPU profile of the timed region only (not the input, kinesalite's start or the
 * read-back), one file per timed run. The returned function stops it and writes the file; call it after the CPU is
 * read, so that writing the profile is not counted (stopping is still sampled: a `dispatch` frame under `post`).
 */
async function startProfile(name: string | undefined): Promise<() => Promise<void>> {
  if (PROFILE_DIR === undefined || name === undefined) return async () => {};
  const session = new Session();
  session.connect();
  await session.post('Profiler.enable');
  await session.post('Profiler.start');
  return async () => {
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(path.join(PROFILE_DIR, `${name.replace(/[^A-Za-z0-9]+/g, '-')}-${Date.now()}.cpuprofile`), JSON.stringify(profile));
  };
}

async function timedRun(variant: Variant, records: number, input: Input, check: boolean, profileName?: string): Promise<{ rate: number; cpu: number; placement: string }> {
  const slice: Input = { data: input.data.slice(0, records), keys: input.keys.slice(0, records) };
  const { server, client } = await freshStream();
  try {
    const stopProfile = await startProfile(profileName);
    const cpuBefore = process.cpuUsage();
    const t0 = process.hrtime.bigint();
    await variant(client, slice);
    const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const cpu = process.cpuUsage(cpuBefore);
    await stopProfile();
    let placement = '';
    if (check) {
      const { records: read, misplaced } = await checkShards(client);
      placement = `${read} read, ${misplaced} (${((misplaced / read) * 100).toFixed(1)}%) off their key's shard`;
    }
    return { rate: records / seconds, cpu: (cpu.user + cpu.system) / records, placement };
  } finally {
    client.destroy();
    await stop(server);
  }
}

async function main(): Promise<void> {
  const only = process.env.BENCH_ONLY;
  const selected = variants.filter((v) => only === undefined || only.split('|').some((part) => v.name.includes(part)));
  const input = makeInput(N);
  // Warm-up (not counted): every variant once, so that each is measured with its code optimised.
  for (const { name, records, variant } of selected) {
    await timedRun(variant, Math.min(records, WARMUP_N), input, false);
    process.stderr.write(`${name}: warmed up\n`);
  }
  const results = new Map<string, { rates: number[]; cpus: number[]; placement: string }>(selected.map((v) => [v.name, { rates: [], cpus: [], placement: '' }]));
  for (let run = 0; run < RUNS; run++) {
    // Interleaved: each round runs every variant once, so that a slower moment of the machine hits all of them.
    for (const { name, records, variant, checkShards: check } of selected) {
      const result = await timedRun(variant, records, input, check === true && run === RUNS - 1, name);
      const entry = results.get(name)!;
      entry.rates.push(result.rate);
      entry.cpus.push(result.cpu);
      if (result.placement !== '') entry.placement = result.placement;
      process.stderr.write(`${name}: run ${run + 1}/${RUNS}: ${Math.round(result.rate)} records/s, ${result.cpu.toFixed(1)} CPU-s per million\n`);
    }
  }
  if (only !== undefined) return;
  const rows: string[] = [];
  const summary: Record<string, { rate: number; cpu: number }> = {};
  for (const { name, inFlight, records } of selected) {
    const { rates, cpus, placement } = results.get(name)!;
    summary[name] = { rate: median(rates), cpu: median(cpus) };
    const range = `[${Math.round(Math.min(...rates)).toLocaleString('en-US')}–${Math.round(Math.max(...rates)).toLocaleString('en-US')}]`;
    rows.push(`| ${name} | ${inFlight} | ${records.toLocaleString('en-US')} | ${Math.round(median(rates)).toLocaleString('en-US')} ${range} | ${median(cpus).toFixed(1)} [${Math.min(...cpus).toFixed(1)}–${Math.max(...cpus).toFixed(1)}] | ${placement || '-'} |`);
  }
  const plain1 = summary['shardline KinesisProducer, plain, maxInFlightCalls 1']!;
  const loop1 = summary['PutRecords of 500, sequential loop']!;
  const plain4 = summary['shardline KinesisProducer, plain (default 4 in flight)']!;
  const loop4 = summary['PutRecords of 500, 4 loops in flight']!;
  const many1 = summary['shardline KinesisProducer, plain, putMany of 500, maxInFlightCalls 1']!;
  const many4 = summary['shardline KinesisProducer, plain, putMany of 500 (default 4 in flight)']!;
  const agg = summary['shardline KinesisProducer, aggregated (default 4 in flight)']!;
  const aggMany = summary['shardline KinesisProducer, aggregated, putMany of 500 (default 4 in flight)']!;
  const peer = summary['aws-kinesis-agg aggregates + PutRecords, 4 in flight']!;
  const markdown = [
    '## Producer (bench/producer)',
    '',
    `Records of 200 B with random partition keys to a fresh 4-shard kinesalite stream (a fresh kinesalite process per run), median of ${RUNS} runs [min–max].`,
    `Every variant first runs once on ${WARMUP_N.toLocaleString('en-US')} records untimed (warm-up, the same for all); the timed runs are interleaved (each round runs every variant once).`,
    'shardline is fed the documented way for a large input: `if (producer.isFull) await producer.ready(); producer.put(data, key).catch(onFailure)`, default options unless the row says otherwise.',
    `The putMany rows feed it in chunks of ${PUT_MANY_CHUNK} as \`shardline put\` does: \`if (producer.isFull) await producer.ready(); producer.putMany(chunk).then(onResult)\` (one promise per chunk, none per record; the chunk's record objects are built in the timed region, like the loop's entries).`,
    'Client CPU is `process.cpuUsage()` of the benchmark process (user + system) during the put, scaled to one million records.',
    `The one-PutRecord-per-record loop is bounded to ${NAIVE_N.toLocaleString('en-US')} records (its CPU per record does not depend on the count).`,
    '',
    '| producer | calls in flight | records | records/s | client CPU s / 1M records | records on their key\'s shard (read back) |',
    '|---|---|---|---|---|---|',
    ...rows,
    '',
    `- shardline plain vs the PutRecords-of-500 loop at the same concurrency, CPU per record (target ≤ 1.10×): put ${(plain1.cpu / loop1.cpu).toFixed(2)}× with 1 call in flight, ${(plain4.cpu / loop4.cpu).toFixed(2)}× with 4; putMany ${(many1.cpu / loop1.cpu).toFixed(2)}× with 1, ${(many4.cpu / loop4.cpu).toFixed(2)}× with 4.`,
    `- shardline aggregated vs aws-kinesis-agg, throughput: ${(agg.rate / peer.rate).toFixed(2)}× with put, ${(aggMany.rate / peer.rate).toFixed(2)}× with putMany (target ≥ 1.00×); CPU per record (target ≤ 1.00×): put ${(agg.cpu / peer.cpu).toFixed(2)}×, putMany ${(aggMany.cpu / peer.cpu).toFixed(2)}×.`,
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
