/**
 * Capacity benchmark: how many shards one process carries at full rate. For each shard count, a fresh stand-in
 * (stand-in/kinesis-stand-in.ts, in this process) delivers 2,000 records of 1 KiB per second per shard and allows 5
 * GetRecords calls per second per shard (or pushes SubscribeToShard events, at most one per 200 ms and 2 MiB/s per
 * subscription); a child process reads it from LATEST (readers: see README.md): `shardline` and `shardline-5s` (the
 * built CLI, polling, checkpoints per batch or every 5 s), `shardline-efo` and `shardline-efo-batch` (the built CLI,
 * enhanced fan-out over HTTP/1.1, checkpoints every 5 s or per batch), `library` (PollingRecordSource with memory
 * checkpoints) and `floor` (a hand-written GetRecords loop).
 *
 * After a warm-up, for BENCH_SECONDS, the child reports (probe.ts, over IPC) its records, CPU, RSS and event-loop
 * delay; lag = records arrived − records handled, sampled every second, and its slope tells whether the child keeps
 * up. Variants are interleaved (order alternating each run). Writes the `capacity` section of docs/benchmarks.md and
 * docs/benchmarks/capacity.svg.
 *
 *   npm run build && node -r ./dist/cli/register.js bench/capacity/run.ts
 *
 * Environment: BENCH_SHARDS (4,32,128,256), BENCH_SECONDS (15), BENCH_WARMUP_SECONDS (5), BENCH_RUNS (3),
 * BENCH_PORT (22600), BENCH_VARIANTS (shardline,shardline-5s,shardline-efo,floor), BENCH_PROFILE (a shard count: its shardline and
 * library children run with `node --cpu-prof`, profiles in BENCH_PROFILE_DIR, default /tmp/shardline-capacity-prof;
 * writes no results), BENCH_MAX_BUFFERED_BYTES (--max-buffered-bytes of the shardline readers; writes no results),
 * BENCH_WRITE=0 (prints the section on stdout, writes neither docs/benchmarks.md nor the chart), BENCH_FROM_LOG (re-renders
 * the section from the stderr of earlier runs, concatenated), BENCH_COMMAND (the command line the section shows instead of
 * the one derived from the environment: say how the logs were made).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeBenchmarkSection } from '../write-results';
import { capacityAnswer } from './answer';
import { capacityChart } from './chart';
import { type ProbeSample } from './probe';
import { KinesisStandIn } from './stand-in/kinesis-stand-in';
import { linearSlope, median, summarize, VARIANT_LABELS, type Measurement, type SummaryRow, type VariantName } from './measurement';

const ROOT = join(__dirname, '../..');
const SHARDS = (process.env.BENCH_SHARDS ?? '4,32,128,256').split(',').map(Number);
const SECONDS = Number(process.env.BENCH_SECONDS ?? '15');
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS ?? '5');
const RUNS = Number(process.env.BENCH_RUNS ?? '3');
const PORT = Number(process.env.BENCH_PORT ?? '22600');
const VARIANTS = (process.env.BENCH_VARIANTS ?? 'shardline,shardline-5s,shardline-efo,floor').split(',') as VariantName[];
const PROFILE_SHARDS = process.env.BENCH_PROFILE === undefined ? undefined : Number(process.env.BENCH_PROFILE);
const PROFILE_DIR = process.env.BENCH_PROFILE_DIR ?? '/tmp/shardline-capacity-prof';
const MAX_BUFFERED = process.env.BENCH_MAX_BUFFERED_BYTES;
const WRITE = process.env.BENCH_WRITE !== '0';
const RECORD_BYTES = 1024;
const BYTES_PER_SECOND_PER_SHARD = 2_048_000;
const STREAM = 'capacity';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Starts the reader; `dir` is its checkpoint directory (removed by the caller). */
function spawnChild(variant: VariantName, endpoint: string, shards: number, dir: string): ChildProcess {
  const env = { ...process.env, AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true' };
  const stdio: ['ignore', 'ignore', 'inherit', 'ipc'] = ['ignore', 'ignore', 'inherit', 'ipc'];
  const register = ['-r', join(ROOT, 'dist/cli/register.js')];
  const profile = PROFILE_SHARDS === shards ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE_DIR}`] : [];
  if (variant === 'floor') return fork(join(__dirname, 'floor-reader.ts'), [endpoint, STREAM], { cwd: ROOT, env, execArgv: register, stdio });
  if (variant === 'library') {
    return fork(join(__dirname, 'library-reader.ts'), [endpoint, STREAM, ...(MAX_BUFFERED === undefined ? [] : [MAX_BUFFERED])], { cwd: ROOT, env, execArgv: [...register, ...profile], stdio });
  }
  const consumer = variant === 'shardline-5s' || variant === 'shardline-efo' ? 'CountingConsumerEvery5s' : 'CountingConsumer';
  const adapter = variant === 'shardline-efo' || variant === 'shardline-efo-batch' ? ['--adapter', 'efo', '--consumer-name', 'bench'] : ['--adapter', 'polling'];
  const args = ['run', join(__dirname, 'counting-consumer.ts'), '--consumer', consumer, ...adapter, '--endpoint', endpoint, '--stream', STREAM, '--checkpoints', `file:${dir}`];
  args.push('--from', 'latest', '--log-level', 'warn', ...(MAX_BUFFERED === undefined ? [] : ['--max-buffered-bytes', MAX_BUFFERED]));
  return fork(join(ROOT, 'bin/shardline.js'), args, { cwd: ROOT, env, execArgv: profile, stdio });
}

/** Asks the child for a sample now. */
function sample(child: ChildProcess): Promise<ProbeSample> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the child did not answer a sample request within 10 s')), 10_000);
    const onMessage = (message: ProbeSample): void => {
      if (message.type !== 'sample') return;
      clearTimeout(timer);
      child.off('message', onMessage);
      resolve(message);
    };
    child.on('message', onMessage);
    child.send('sample');
  });
}

/** Sends SIGTERM to the child (by its PID) and waits for it to exit (SIGKILL after 15 s). */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  await exited;
  clearTimeout(timer);
}

async function measure(variant: VariantName, shards: number): Promise<Measurement> {
  const standIn = new KinesisStandIn({ streamName: STREAM, shardCount: shards, port: PORT, recordBytes: RECORD_BYTES, bytesPerSecondPerShard: BYTES_PER_SECOND_PER_SHARD });
  const endpoint = await standIn.start();
  const dir = mkdtempSync(join(tmpdir(), 'bench-capacity-'));
  const child = spawnChild(variant, endpoint, shards, dir);
  const failed = new Promise<never>((_, reject) => child.once('exit', (code, signal) => reject(new Error(`${variant} child exited early (${code ?? signal})`))));
  failed.catch(() => undefined);
  try {
    // Warm-up: until every shard was read once (start-up of 256 shards takes a while on a busy machine), then more.
    const startBy = Date.now() + 120_000;
    while (standIn.stats().shardsRead < shards) {
      if (Date.now() > startBy) throw new Error(`${variant}: only ${standIn.stats().shardsRead} of ${shards} shards were read within 120 s`);
      await Promise.race([sleep(200), failed]);
    }
    await Promise.race([sleep(WARMUP_SECONDS * 1000), failed]);
    child.send('reset');
    const first = await Promise.race([sample(child), failed]);
    const arrived0 = standIn.stats(first.at).produced;
    const standInCpu0 = process.cpuUsage();
    const calls0 = standIn.stats().getRecordsCalls;
    const events0 = standIn.stats().fanOut.events;
    const lag: Array<{ atMs: number; records: number }> = [];
    let last = first;
    for (let second = 1; second <= SECONDS; second++) {
      await Promise.race([sleep(first.at + second * 1000 - Date.now()), failed]);
      last = await Promise.race([sample(child), failed]);
      lag.push({ atMs: last.at - first.at, records: standIn.stats(last.at).produced - arrived0 - (last.records - first.records) });
    }
    const stats = standIn.stats();
    const standInCpu = process.cpuUsage(standInCpu0);
    const seconds = (last.at - first.at) / 1000;
    const records = last.records - first.records;
    const arrivedPerSecond = (shards * BYTES_PER_SECOND_PER_SHARD) / RECORD_BYTES;
    const slopeRecordsPerSecond = linearSlope(lag.map((p) => p.atMs / 1000), lag.map((p) => p.records));
    return {
      variant,
      shards,
      recordsPerSecond: records / seconds,
      cpuSecondsPerMb: (last.cpuMs - first.cpuMs) / 1000 / ((records * RECORD_BYTES) / 1e6),
      cpuShare: (last.cpuMs - first.cpuMs) / 1000 / seconds,
      maxRssMb: last.peakRssMb,
      loopDelayP99Ms: last.loopDelayP99Ms,
      lagSlopeMsPerSecond: (slopeRecordsPerSecond / arrivedPerSecond) * 1000,
      keptUpShare: records / seconds / arrivedPerSecond,
      throttled: stats.throttled,
      getRecordsPerSecond: (stats.getRecordsCalls - calls0) / seconds,
      fanOutEventsPerSecond: (stats.fanOut.events - events0) / seconds,
      loadAverage1m: loadavg()[0] ?? 0,
      rssSource: 'VmHWM',
      standInCpuShare: (standInCpu.user + standInCpu.system) / 1e6 / seconds,
    };
  } finally {
    await stopChild(child);
    await standIn.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

function machine(): string {
  return `${execFileSync('nproc', { encoding: 'utf8' }).trim()} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.version}, ${new Date().toISOString().slice(0, 10)}`;
}

/** Reads the per-run lines a previous run wrote to stderr (`run N, S shards, V: {…}` or `…: failed: …`). */
function readLog(file: string): { results: Measurement[]; failures: string[]; runs: number } {
  const results: Measurement[] = [];
  const failures: string[] = [];
  let runs = 0;
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const match = /^run (\d+), (\d+) shards, ([\w-]+): (.*)$/.exec(line);
    if (match === null) continue;
    const [, run = '0', shards, variant, rest = ''] = match;
    runs = Math.max(runs, Number(run));
    if (rest.startsWith('failed: ')) failures.push(`${variant} at ${shards} shards (run ${run}): ${rest.slice('failed: '.length)}`);
    else {
      const m = JSON.parse(rest) as Measurement & { rssSource?: string };
      // Lines from before the probe read VmHWM carry maxRSS, which includes the parent's peak: not shown.
      results.push(m.rssSource === 'VmHWM' ? m : { ...m, maxRssMb: Number.NaN });
    }
  }
  // Several logs may be concatenated: the number of runs is the most measurements of one reader at one shard count.
  const counts = new Map<string, number>();
  for (const r of results) counts.set(`${r.variant}/${r.shards}`, (counts.get(`${r.variant}/${r.shards}`) ?? 0) + 1);
  return { results, failures, runs: Math.max(runs > 0 ? 1 : 0, ...counts.values()) };
}

async function main(): Promise<void> {
  const fromLog = process.env.BENCH_FROM_LOG;
  if (fromLog !== undefined) {
    // Re-renders the section and the chart from a previous run's stderr (to change the presentation without re-running).
    const { results, failures, runs } = readLog(fromLog);
    const shardCounts = [...new Set(results.map((r) => r.shards))].sort((a, b) => a - b);
    const variants = (['shardline', 'shardline-5s', 'shardline-efo', 'shardline-efo-batch', 'library', 'floor'] as const).filter((v) => results.some((r) => r.variant === v));
    writeResults(summarize(results, shardCounts, variants), results, failures, shardCounts, runs);
    return;
  }
  const results: Measurement[] = [];
  const failures: string[] = [];
  for (let run = 0; run < RUNS; run++) {
    for (const shards of SHARDS) {
      for (const variant of run % 2 === 0 ? VARIANTS : [...VARIANTS].reverse()) {
        try {
          const m = await measure(variant, shards);
          process.stderr.write(`run ${run + 1}, ${shards} shards, ${variant}: ${JSON.stringify(m)}\n`);
          results.push(m);
        } catch (error) {
          // A reader that cannot even start (connections time out on an overloaded machine) is a result too.
          process.stderr.write(`run ${run + 1}, ${shards} shards, ${variant}: failed: ${(error as Error).message}\n`);
          failures.push(`${variant} at ${shards} shards (run ${run + 1}): ${(error as Error).message}`);
        }
      }
    }
  }
  if (PROFILE_SHARDS !== undefined || MAX_BUFFERED !== undefined) {
    process.stderr.write(`profile or custom budget run: no results written${PROFILE_SHARDS === undefined ? '' : ` (profiles in ${PROFILE_DIR})`}\n`);
    return;
  }
  writeResults(summarize(results, SHARDS, VARIANTS), results, failures, SHARDS, RUNS);
}

function writeResults(rows: readonly SummaryRow[], results: readonly Measurement[], failures: readonly string[], shardCounts: readonly number[], runs: number): void {
  const markdown = renderSection(rows, results, failures, shardCounts, runs);
  if (WRITE) {
    mkdirSync(join(ROOT, 'docs/benchmarks'), { recursive: true });
    writeFileSync(join(ROOT, 'docs/benchmarks/capacity.svg'), capacityChart(rows, shardCounts));
    writeBenchmarkSection('capacity', markdown);
  }
  process.stdout.write(`${markdown}\n`);
}

function renderSection(rows: readonly SummaryRow[], results: readonly Measurement[], failures: readonly string[], shardCounts: readonly number[], runs: number): string {
  const fmt = (all: readonly number[], digits: number, unit = ''): string => {
    const values = all.filter((v) => !Number.isNaN(v));
    if (values.length === 0) return 'n/a';
    return `${median(values).toFixed(digits)}${unit} [${Math.min(...values).toFixed(digits)}–${Math.max(...values).toFixed(digits)}]`;
  };
  const table = rows.map((row) => {
    const of = results.filter((r) => r.variant === row.variant && r.shards === row.shards);
    return `| ${VARIANT_LABELS[row.variant]} | ${row.shards} | ${fmt(
      of.map((r) => r.recordsPerSecond / 1000),
      1,
      'k',
    )} | ${fmt(of.map((r) => r.keptUpShare * 100), 0, ' %')} | ${fmt(of.map((r) => r.lagSlopeMsPerSecond), 0)} | ${fmt(of.map((r) => r.cpuSecondsPerMb * 1000), 2)} | ${fmt(
      of.map((r) => r.cpuShare),
      2,
    )} | ${fmt(of.map((r) => r.maxRssMb), 0)} | ${fmt(of.map((r) => r.loopDelayP99Ms), 0)} | ${fmt(of.map((r) => r.getRecordsPerSecond + (r.fanOutEventsPerSecond ?? 0)), 0)} | ${fmt(of.map((r) => r.standInCpuShare), 2)} | ${row.shardsPerCore.toFixed(0)} |`;
  });
  return [
    '## Capacity (bench/capacity)',
    '',
    `Machine: ${machine()}. Command: ${process.env.BENCH_COMMAND ?? `\`npm run build && BENCH_SHARDS=${shardCounts.join(',')} BENCH_SECONDS=${SECONDS} BENCH_WARMUP_SECONDS=${WARMUP_SECONDS} BENCH_RUNS=${runs} BENCH_VARIANTS=${[...new Set(rows.map((r) => r.variant))].join(',')} node -r ./dist/cli/register.js bench/capacity/run.ts\``}.`,
    `A local stand-in for Kinesis (\`bench/capacity/stand-in\`, in the benchmark's process) delivers 2,000 records of 1 KiB per second on every shard (2 MB/s, a shard's read limit) and answers at most 5 GetRecords per second per shard; for the fan-out reader (\`--adapter efo\`, SubscribeToShard over HTTP/1.1, as for any \`http://\` endpoint) it pushes an event whenever records arrived, at most one per 200 ms and 2 MiB/s per subscription; each reader runs in its own process from LATEST, measured for ${SECONDS} s after a ${WARMUP_SECONDS} s warm-up. Median [min–max] of up to ${runs} runs (see the ranges), variants interleaved. CPU is the reader process's \`process.cpuUsage()\`; MB are payload megabytes (10⁶ B); lag slope is how fast (records arrived − records handled) grows, in ms of a shard's data per second (0 = keeps up; 1000 = reads nothing); kept up = records handled / records arrived. Shards per core = 1 / (CPU s per MB × 2.048 MB/s).`,
    '',
    '| reader | shards | records/s | kept up | lag slope (ms/s) | CPU ms / MB | CPU (cores) | max RSS (MB) | event-loop p99 (ms) | GetRecords (fan-out: events) /s | stand-in CPU (cores) | shards per core at 2 MB/s |',
    '|---|---|---|---|---|---|---|---|---|---|---|---|',
    ...table,
    ...(failures.length === 0 ? [] : ['', `Failed runs: ${failures.join('; ')}.`]),
    '',
    '![Capacity: CPU per MB and lag slope by shard count, shardline (polling and fan-out) and the floor](benchmarks/capacity.svg)',
    '',
    ...capacityAnswer(rows, results, RECORD_BYTES),
  ].join('\n');
}

void main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
