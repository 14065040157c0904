/**
 * KCL protocol benchmark: plays the MultiLangDaemon's side over pipes and feeds a child N processRecords messages of
 * 1,000 records × 1 KiB, answering its checkpoints, for three children:
 *   (a) the shardline demo consumer (`shardline run examples/demo-app/demo-app.ts --adapter kcl`, checkpoint per batch),
 *   (b) aws-kcl 2.3.2 with an equivalent processor (bench/kcl-protocol/aws-kcl-child.ts),
 *   (c) a bare loop: readline + JSON.parse + base64 decode + replies (bench/kcl-protocol/bare-child.ts), the floor.
 * Child CPU is read from /proc/<pid>/stat (utime + stime) after `initialize` and after the last batch, so start-up
 * is excluded. Writes the table to docs/benchmarks.md.
 *
 *   npm run build && node -r ./dist/cli/register.js bench/kcl-protocol/run.ts [--batches 200] [--runs 5]
 */
import { spawn, execSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { cpus } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { writeBenchmarkSection } from '../write-results';

const ROOT = path.resolve(__dirname, '..', '..');
const argValue = (name: string, fallback: number): number => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? Number(process.argv[at + 1]) : fallback;
};
const BATCHES = argValue('batches', 200);
const RUNS = argValue('runs', 5);
const RECORDS_PER_BATCH = 1_000;
const RECORD_BYTES = 1_024;
const CLK_TCK = Number(execSync('getconf CLK_TCK').toString().trim()) || 100;

interface Variant {
  readonly name: string;
  readonly command: string[];
}

const VARIANTS: Variant[] = [
  { name: 'shardline demo (--adapter kcl)', command: ['node', path.join(ROOT, 'bin', 'shardline.js'), 'run', path.join(ROOT, 'examples', 'demo-app', 'demo-app.ts'), '--adapter', 'kcl'] },
  // The TypeScript children are compiled once at start by the project's loader (start-up is not measured).
  { name: 'aws-kcl 2.3.2', command: ['node', '-r', path.join(ROOT, 'dist', 'cli', 'register.js'), path.join(__dirname, 'aws-kcl-child.ts')] },
  { name: 'bare loop (floor)', command: ['node', '-r', path.join(ROOT, 'dist', 'cli', 'register.js'), path.join(__dirname, 'bare-child.ts')] },
];

/** 64 distinct payloads, reused round-robin (the child never sees two equal consecutive records). */
const PAYLOADS = Array.from({ length: 64 }, () => randomBytes(RECORD_BYTES).toString('base64'));
const SEQ_BASE = 49_590_338_271_490_256_608_559_692_538_361_571_095_921_575_989_136_588_898n;

function batchLine(batch: number): string {
  const parts: string[] = [];
  for (let i = 0; i < RECORDS_PER_BATCH; i++) {
    const n = batch * RECORDS_PER_BATCH + i;
    parts.push(
      `{"data":"${PAYLOADS[n % PAYLOADS.length]}","partitionKey":"pk-${n}","sequenceNumber":"${(SEQ_BASE + BigInt(n)).toString()}","approximateArrivalTimestamp":1717171717123,"subSequenceNumber":0,"action":"record"}`,
    );
  }
  return `{"action":"processRecords","records":[${parts.join(',')}],"millisBehindLatest":0}\n`;
}

function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
}

interface RunResult {
  readonly seconds: number;
  readonly cpuSeconds: number;
}

/** One conversation: initialize, BATCHES batches (checkpoints answered), shardEnded, EOF. */
async function runOnce(variant: Variant, lines: readonly string[]): Promise<RunResult> {
  const [command, ...rest] = variant.command;
  // SHARDLINE_BENCH_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' profiles the children.
  const extra = process.env.SHARDLINE_BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '') ?? [];
  const args = [...extra, ...rest];
  const child = spawn(command!, args, { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, SHARDLINE_DEMO_LOGFILE: '' } });
  child.stderr.resume();
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const replies = createInterface({ input: child.stdout, crlfDelay: Infinity });
  const iterator = replies[Symbol.asyncIterator]();
  const untilStatus = async (): Promise<void> => {
    for (;;) {
      const next = await iterator.next();
      if (next.done === true) throw new Error(`${variant.name} closed stdout before its status`);
      if (next.value.trim() === '') continue;
      const message = JSON.parse(next.value) as { action: string; sequenceNumber?: string | null; subSequenceNumber?: number | null };
      if (message.action === 'status') return;
      if (message.action === 'checkpoint') {
        child.stdin.write(`{"action":"checkpoint","sequenceNumber":${JSON.stringify(message.sequenceNumber ?? null)},"subSequenceNumber":${message.subSequenceNumber ?? null},"error":null}\n`);
      }
    }
  };
  child.stdin.write('{"action":"initialize","shardId":"shardId-000000000000","sequenceNumber":"TRIM_HORIZON","subSequenceNumber":0}\n');
  await untilStatus();
  const cpuStart = cpuSeconds(child.pid!);
  const start = process.hrtime.bigint();
  for (const line of lines) {
    child.stdin.write(line);
    await untilStatus();
  }
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = cpuSeconds(child.pid!) - cpuStart;
  child.stdin.write('{"action":"shardEnded"}\n');
  await untilStatus();
  child.stdin.end();
  const code = await exited;
  if (code !== 0) throw new Error(`${variant.name} exited with ${code}`);
  return { seconds, cpuSeconds: cpu };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

async function main(): Promise<void> {
  process.stderr.write(`Building ${BATCHES} batches of ${RECORDS_PER_BATCH} × ${RECORD_BYTES} B…\n`);
  const lines = Array.from({ length: BATCHES }, (_, i) => batchLine(i));
  const results = new Map<string, RunResult[]>(VARIANTS.map((v) => [v.name, []]));
  for (let run = 1; run <= RUNS; run++) {
    for (const variant of VARIANTS) {
      const result = await runOnce(variant, lines);
      results.get(variant.name)!.push(result);
      process.stderr.write(`run ${run} ${variant.name}: ${result.seconds.toFixed(2)} s wall, ${result.cpuSeconds.toFixed(2)} s CPU\n`);
    }
  }
  const records = BATCHES * RECORDS_PER_BATCH;
  const rows = VARIANTS.map((v) => {
    const list = results.get(v.name)!;
    const seconds = median(list.map((r) => r.seconds));
    const cpu = median(list.map((r) => r.cpuSeconds));
    return { name: v.name, recordsPerSecond: records / seconds, cpuPerMillion: (cpu / records) * 1e6 };
  });
  const floor = rows[2]!;
  const table = [
    '| child | records/s (median) | CPU s per million records (median) | CPU vs bare loop |',
    '|---|---:|---:|---:|',
    ...rows.map((r) => `| ${r.name} | ${Math.round(r.recordsPerSecond).toLocaleString('en-US')} | ${r.cpuPerMillion.toFixed(2)} | ${(r.cpuPerMillion / floor.cpuPerMillion).toFixed(2)}× |`),
  ].join('\n');
  const markdown = `## KCL protocol: child CPU and throughput

A driver plays the daemon over pipes: ${BATCHES} \`processRecords\` of ${RECORDS_PER_BATCH.toLocaleString('en-US')} records × ${RECORD_BYTES} B, one checkpoint per batch answered at once. Child CPU = utime + stime from /proc/<pid>/stat between the \`initialize\` status and the last batch's status (start-up excluded). Median of ${RUNS} runs per child, runs interleaved.

${table}

Targets: shardline's CPU per record ≤ 1.15× the bare loop's, and its throughput ≥ aws-kcl's. The demo handler never reads \`data\`, so shardline never decodes base64 (it only validates the text with one regex scan per record); the bare loop decodes every record.

Machine: ${cpus().length} CPUs (\`nproc\` ${execSync('nproc').toString().trim()}), ${cpus()[0]?.model ?? 'unknown CPU'}, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}.
Command: \`npm run build && node -r ./dist/cli/register.js bench/kcl-protocol/run.ts --batches ${BATCHES} --runs ${RUNS}\``;
  writeBenchmarkSection('kcl-protocol', markdown);
  process.stdout.write(`${table}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
