/**
 * End-to-end latency: put → handler entry, under a steady put rate, for shardline's polling adapter, its enhanced
 * fan-out mode and (for reference) the KCL MultiLangDaemon with shardline children, on kinesis-local. Also the
 * consumer process's CPU per record. Each variant runs as users run it (the built CLI), on a fresh 4-shard stream,
 * RUNS times, interleaved (each round runs every variant once); the table gives the median of the runs' p50 / p99
 * and their range.
 *
 *   npm run build && node -r ./dist/cli/register.js bench/latency/run.ts
 *
 * Environment: BENCH_RATE (records/s, 200), BENCH_SECONDS (20), BENCH_RUNS (3), BENCH_PORT (23690: kinesis-local's
 * plain port, TLS on BENCH_PORT − 1; moto on BENCH_PORT + 2 for the KCL's lease table), BENCH_VARIANTS
 * (comma-separated, default `polling,efo,kcl`), BENCH_NO_WRITE=1 (print only).
 */
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { DeleteTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, openSync, closeSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKinesisClient } from '../../src/kinesis/create-kinesis-client';
import { isPortListening, startLocalKinesis } from '../../src/kinesis/local-kinesis-server';
import { writeBenchmarkSection } from '../write-results';
import { type LatencyLine } from './latency-consumer';

const ROOT = join(__dirname, '../..');
const CLI = join(ROOT, 'bin', 'shardline.js');
const CONSUMER = join('bench', 'latency', 'latency-consumer.ts');
const RATE = Number(process.env['BENCH_RATE'] ?? '200');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? '20');
const RUNS = Number(process.env['BENCH_RUNS'] ?? '3');
const PORT = Number(process.env['BENCH_PORT'] ?? '23690');
const MOTO_PORT = PORT + 2;
const VARIANTS = (process.env['BENCH_VARIANTS'] ?? 'polling,efo,kcl').split(',').map((v) => v.trim()).filter(Boolean);
const SHARDS = 4;
const WARMUP_RECORDS = 40;
const COMMAND = 'npm run build && node -r ./dist/cli/register.js bench/latency/run.ts';

/** How one variant is started and what it is called in the table. */
interface Variant {
  readonly name: string;
  readonly label: string;
  start(stream: string, dir: string, latencyFile: string, endpoint: string): ChildProcess;
  /** After the run (the KCL: drop its lease tables, so the next run starts afresh). */
  cleanup?(): Promise<void>;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const now = (): number => performance.timeOrigin + performance.now();

function spawnLogged(args: readonly string[], dir: string, latencyFile: string, extraEnv: Record<string, string> = {}): ChildProcess {
  const log = openSync(join(dir, 'consumer.log'), 'a');
  const child = spawn(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: 'us-east-1',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      BENCH_LATENCY_FILE: latencyFile,
      ...extraEnv,
    },
  });
  closeSync(log);
  return child;
}

const ALL_VARIANTS: Record<string, Variant> = {
  polling: {
    name: 'polling',
    label: 'shardline polling (`--adapter polling`, defaults: 1 s idle poll)',
    start: (stream, dir, file, endpoint) =>
      spawnLogged(['run', CONSUMER, '--adapter', 'polling', '--endpoint', endpoint, '--stream', stream, '--from', 'trim-horizon', '--checkpoints', `file:${join(dir, 'checkpoints')}`, '--log-level', 'warn'], dir, file),
  },
  efo: {
    name: 'efo',
    label: 'shardline enhanced fan-out',
    start: (stream, dir, file, endpoint) => {
      const extra = (process.env['BENCH_EFO_ARGS'] ?? '--adapter efo --consumer-name bench-latency').split(' ').filter(Boolean);
      return spawnLogged(['run', CONSUMER, ...extra, '--endpoint', endpoint, '--stream', stream, '--from', 'trim-horizon', '--checkpoints', `file:${join(dir, 'checkpoints')}`, '--log-level', 'warn'], dir, file);
    },
  },
  kcl: {
    name: 'kcl',
    label: 'KCL 3 MultiLangDaemon (POLLING, `kcl properties` defaults) + shardline children',
    start: (stream, dir, file, endpoint) => {
      const properties = join(dir, 'app.properties');
      execFileSync(
        process.execPath,
        [CLI, 'kcl', 'properties', CONSUMER, '-o', properties, '--stream', stream, '--kinesis-endpoint', endpoint, '--dynamodb-endpoint', `http://127.0.0.1:${MOTO_PORT}`, '--credentials', 'EnvironmentVariableCredentialsProvider', '--region', 'us-east-1'],
        { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] },
      );
      return spawnLogged(['kcl', 'start', properties], dir, file);
    },
    cleanup: async () => {
      const dynamo = new DynamoDBClient({ endpoint: `http://127.0.0.1:${MOTO_PORT}`, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
      for (const table of ['bench-latency', 'bench-latency-WorkerMetricStats', 'bench-latency-CoordinatorState']) {
        await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
      }
      dynamo.destroy();
    },
  },
};

function readLines(file: string): LatencyLine[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as LatencyLine);
}

async function createStream(client: KinesisClient, stream: string): Promise<void> {
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: SHARDS }));
  for (let i = 0; i < 200; i++) {
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (summary.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return;
    await sleep(100);
  }
  throw new Error(`stream ${stream} did not become ACTIVE`);
}

/** Put call → its answer, in ms, of the measured puts of the current run. */
let putLatenciesMs: number[] = [];

async function put(client: KinesisClient, stream: string, first: number, count: number, warmup: boolean): Promise<void> {
  const sentAt = now();
  const records = Array.from({ length: count }, (_, k) => ({
    Data: Buffer.from(JSON.stringify({ t: now(), i: warmup ? -1 : first + k, pad: 'x'.repeat(200) })),
    PartitionKey: `pk-${first + k}`,
  }));
  const out = await client.send(new PutRecordsCommand({ StreamName: stream, Records: records }));
  if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`${out.FailedRecordCount} records were not put`);
  if (!warmup) putLatenciesMs.push(now() - sentAt);
}

async function waitFor(what: string, check: () => boolean, timeoutMs: number, child: ChildProcess): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (child.exitCode !== null) throw new Error(`${what}: the consumer exited with code ${child.exitCode}`);
    if (Date.now() > deadline) throw new Error(`${what}: not within ${timeoutMs} ms`);
    await sleep(100);
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await exited;
  clearTimeout(timer);
}

/** One run's figures. */
interface RunResult {
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly cpuUsPerRecord: number;
  readonly records: number;
  /** Median time of the PutRecords calls themselves (included in the latency). */
  readonly putP50Ms: number;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

async function runOnce(variant: Variant, round: number, client: KinesisClient, endpoint: string): Promise<RunResult> {
  const dir = mkdtempSync(join(tmpdir(), `bench-latency-${variant.name}-`));
  const file = join(dir, 'latency.jsonl');
  writeFileSync(file, '');
  const stream = `lat-${variant.name}-${round}-${Date.now().toString(36)}`;
  await createStream(client, stream);
  putLatenciesMs = [];
  const child = variant.start(stream, dir, file, endpoint);
  try {
    // Warm-up: records until every one put so far was handled (the KCL needs its leases first).
    let warmPut = 0;
    await waitFor(
      `${variant.name} warm-up (log: ${dir})`,
      () => {
        const handled = readLines(file).reduce((n, l) => n + l.warmup, 0);
        if (handled >= WARMUP_RECORDS && handled >= warmPut) return true;
        if (warmPut < WARMUP_RECORDS * 4) {
          warmPut += 4;
          void put(client, stream, 0, 4, true);
        }
        return false;
      },
      240_000, // a KCL 3 daemon takes 1–2 minutes to take its first leases locally
      child,
    );
    const measured = RATE * SECONDS;
    const tickMs = 100;
    const perTick = Math.max(1, Math.round((RATE * tickMs) / 1000));
    const t0 = now();
    let sent = 0;
    const puts: Array<Promise<void>> = [];
    while (sent < measured) {
      const due = Math.min(measured, Math.floor(((now() - t0) / 1000) * RATE) + perTick);
      if (due > sent) {
        puts.push(put(client, stream, sent, due - sent, false));
        sent = due;
      }
      await sleep(tickMs);
    }
    await Promise.all(puts);
    await waitFor(`${variant.name}: every measured record handled`, () => readLines(file).reduce((n, l) => n + l.latenciesMs.length, 0) >= measured, 60_000, child);
  } finally {
    await stop(child);
    await variant.cleanup?.();
  }
  const lines = readLines(file);
  const latencies = lines.flatMap((l) => l.latenciesMs).sort((a, b) => a - b);
  const byPid = new Map<number, { min: number; max: number }>();
  for (const line of lines.filter((l) => l.latenciesMs.length > 0)) {
    const seen = byPid.get(line.pid) ?? { min: line.cpuUs, max: line.cpuUs };
    byPid.set(line.pid, { min: Math.min(seen.min, line.cpuUs), max: Math.max(seen.max, line.cpuUs) });
  }
  const cpuUs = [...byPid.values()].reduce((sum, p) => sum + (p.max - p.min), 0);
  return { p50Ms: quantile(latencies, 0.5), p99Ms: quantile(latencies, 0.99), cpuUsPerRecord: cpuUs / Math.max(1, latencies.length), records: latencies.length, putP50Ms: quantile([...putLatenciesMs].sort((a, b) => a - b), 0.5) };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? Number.NaN) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

const fmt = (value: number, digits = 0): string => value.toFixed(digits);
const range = (values: readonly number[], digits = 0): string => `${fmt(Math.min(...values), digits)}–${fmt(Math.max(...values), digits)}`;

async function startMoto(): Promise<ChildProcess | undefined> {
  if (!VARIANTS.includes('kcl')) return undefined;
  const bin = join(ROOT, '.venv', 'bin', 'moto_server');
  if (!existsSync(bin)) throw new Error('moto is not installed: run bash scripts/setup.sh (the KCL variant needs it for its lease table)');
  const child = spawn(bin, ['-H', '127.0.0.1', '-p', String(MOTO_PORT)], { stdio: 'ignore' });
  for (let i = 0; i < 200 && !(await isPortListening(MOTO_PORT)); i++) await sleep(100);
  return child;
}

async function main(): Promise<void> {
  const unknown = VARIANTS.filter((v) => ALL_VARIANTS[v] === undefined);
  if (unknown.length > 0) throw new Error(`unknown variant(s) ${unknown.join(', ')}: choose from ${Object.keys(ALL_VARIANTS).join(', ')}`);
  const variants = VARIANTS.map((v) => ALL_VARIANTS[v] as Variant);
  const kinesis = await startLocalKinesis({ port: PORT, reuseRunning: false, logFile: join(mkdtempSync(join(tmpdir(), 'bench-latency-kl-')), 'kinesis-local.log') });
  const moto = await startMoto();
  const client = createKinesisClient({ endpoint: kinesis.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  const results = new Map<string, RunResult[]>(variants.map((v) => [v.name, []]));
  const failures: string[] = [];
  try {
    for (let round = 0; round < RUNS; round++) {
      for (const variant of variants) {
        try {
          const result = await runOnce(variant, round, client, kinesis.endpoint);
          results.get(variant.name)?.push(result);
          process.stderr.write(`round ${round + 1}/${RUNS} ${variant.name}: p50 ${fmt(result.p50Ms)} ms, p99 ${fmt(result.p99Ms)} ms, ${fmt(result.cpuUsPerRecord)} µs CPU/record (${result.records} records; PutRecords p50 ${fmt(result.putP50Ms)} ms)\n`);
        } catch (error) {
          // One failed run (the KCL daemon slow to take its leases, say) does not throw the others away.
          failures.push(`${variant.name}, round ${round + 1}: ${(error as Error).message}`);
          process.stderr.write(`round ${round + 1}/${RUNS} ${variant.name} failed: ${(error as Error).message}\n`);
        }
      }
    }
  } finally {
    client.destroy();
    await kinesis.stop();
    moto?.kill('SIGTERM');
  }
  const rows = variants.map((variant) => {
    const runs = results.get(variant.name) ?? [];
    if (runs.length === 0) return undefined;
    const p50 = runs.map((r) => r.p50Ms);
    const p99 = runs.map((r) => r.p99Ms);
    const cpu = runs.map((r) => r.cpuUsPerRecord);
    return { variant, p50, p99, cpu, put: runs.map((r) => r.putP50Ms) };
  }).filter((row) => row !== undefined);
  const pollingCpu = median(rows.find((r) => r.variant.name === 'polling')?.cpu ?? []);
  const table = rows
    .map(({ variant, p50, p99, cpu, put: putMs }) => {
      const ratio = Number.isFinite(pollingCpu) && variant.name !== 'polling' ? ` (${fmt(median(cpu) / pollingCpu, 2)}× polling)` : '';
      return `| ${variant.label} (${p50.length} runs) | ${fmt(median(p50))} (${range(p50)}) | ${fmt(median(p99))} (${range(p99)}) | ${fmt(median(cpu))} (${range(cpu)})${ratio} | ${fmt(median(putMs))} |`;
    })
    .join('\n');
  const markdown = [
    `## Latency (bench/latency): put → handler entry at ${RATE} records/s, 4 shards, kinesis-local`,
    '',
    `${RUNS} runs per variant, interleaved; each run puts ${RATE * SECONDS} records of ~230 B at a steady ${RATE}/s (one PutRecords every 100 ms) into a fresh stream after a warm-up, and measures, per record, the time from the put call to the handler's entry; the cell is the median of the runs' percentile (range in brackets). CPU is the consumer processes' user + system time between their first and last measured batch, per record (for the KCL: its children, one per shard, not the Java daemon).`,
    '',
    '| consumer | p50 ms | p99 ms | CPU µs / record | PutRecords p50 ms (included) |',
    '|---|---|---|---|---|',
    table,
    '',
    ...(failures.length === 0 ? [] : [`Failed runs (left out): ${failures.join('; ')}.`, '']),
    `Command: \`${COMMAND}\` (BENCH_RATE=${RATE} BENCH_SECONDS=${SECONDS} BENCH_RUNS=${RUNS}). Run on ${new Date().toISOString().slice(0, 10)}, a shared 2-core machine.`,
  ].join('\n');
  process.stdout.write(`${markdown}\n`);
  if (process.env['BENCH_NO_WRITE'] !== '1') writeBenchmarkSection('latency', markdown);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/latency failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
