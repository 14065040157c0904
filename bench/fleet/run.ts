/**
 * Polling fleet takeover: how long a dead or stopping process's shards wait before another process of the fleet
 * handles them. Per round, on a fresh 4-shard kinesalite stream and a fresh lease table on dynalite, with records put
 * all the time (8 every 100 ms):
 * 1. two built-CLI processes (`shardline run bench/fleet/fleet-consumer.ts --adapter polling --checkpoints dynamodb:…`)
 *    balance 2/2;
 * 2. kill -9 of one → time until the other handles a record of each of its shards (the largest of the shards);
 * 3. a new process joins (2/2 again), then SIGTERM of the survivor → time until the newcomer handles a record of
 *    each of the stopped process's shards, and how many records were handled twice in that hand-off.
 * Times are from the signal to the handler's own clock (`Date.now()` in the handled log).
 *
 * Usage: npm run build && node -r ./dist/cli/register.js bench/fleet/run.ts
 * Environment: BENCH_RUNS (3), BENCH_PORT (25140: kinesalite; dynalite on +1), BENCH_FAILOVER_MS (10000, the default).
 */
import { CreateTableCommand, DynamoDBClient, ScanCommand } from '@aws-sdk/client-dynamodb';
import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createKinesisClient } from '../../src/kinesis/create-kinesis-client';
import { isPortListening } from '../../src/kinesis/local-kinesis-server';
import { writeBenchmarkSection } from '../write-results';

const ROOT = join(__dirname, '..', '..');
const RUNS = Number(process.env['BENCH_RUNS'] ?? '3');
const PORT = Number(process.env['BENCH_PORT'] ?? '25140');
const FAILOVER_MS = Number(process.env['BENCH_FAILOVER_MS'] ?? '10000');
const SHARDS = 4;
const KINESIS = `http://127.0.0.1:${PORT}`;
const DYNAMO = `http://127.0.0.1:${PORT + 1}`;
const CREDENTIALS = { accessKeyId: 'bench', secretAccessKey: 'bench' };

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/**
 * A random part of a lease scan interval before each signal: the balance is seen right after a scan, so a fixed
 * wait would always signal at the same point of the survivors' scan cycle (and measure its worst or best case only).
 */
const jitter = (): number => Math.floor(Math.random() * (FAILOVER_MS / 2));

async function startServer(script: string, port: number, extra: readonly string[]): Promise<ChildProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'node_modules', script), '--port', String(port), ...extra], { stdio: 'ignore' });
  for (let i = 0; i < 100 && !(await isPortListening(port)); i++) await sleep(100);
  return child;
}

interface Handled {
  readonly s: string;
  readonly q: string;
  readonly p: number;
  readonly t: number;
}

function readLog(file: string): Handled[] {
  if (!existsSync(file)) return [];
  const lines = readFileSync(file, 'utf8').split('\n');
  lines.pop(); // the last line may be a write in progress
  return lines.filter((l) => l !== '').map((l) => JSON.parse(l) as Handled);
}

async function owners(dynamo: DynamoDBClient, table: string): Promise<Map<string, string[]>> {
  const out = await dynamo.send(new ScanCommand({ TableName: table, ConsistentRead: true }));
  const result = new Map<string, string[]>();
  for (const item of out.Items ?? []) {
    const owner = item['leaseOwner']?.S ?? '';
    result.set(owner, [...(result.get(owner) ?? []), item['leaseKey']?.S ?? '']);
  }
  return result;
}

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(100);
  }
}

/** Time from `since` until a process other than `pid` handled a record of each shard (the largest), from the handlers' clock. */
async function takeover(log: string, shards: readonly string[], pid: number, since: number): Promise<number> {
  let times: number[] = [];
  await until(
    () => {
      const records = readLog(log);
      times = shards.map((s) => records.find((r) => r.s === s && r.p !== pid && r.t >= since)?.t ?? Number.NaN);
      return times.every((t) => !Number.isNaN(t));
    },
    FAILOVER_MS * 4 + 30_000,
    `the shards ${shards.join(', ')} to move`,
  );
  return Math.max(...times) - since;
}

interface Round {
  readonly killMs: number;
  readonly handoffMs: number;
  readonly handoffDuplicates: number;
}

async function round(index: number, dynamo: DynamoDBClient): Promise<Round> {
  const dir = mkdtempSync(join(tmpdir(), 'shardline-bench-fleet-'));
  const stream = `fleet-bench-${Date.now()}-${index}`;
  const table = `fleet-bench-${Date.now()}-${index}`;
  const log = join(dir, 'handled.jsonl');
  const kinesis = createKinesisClient({ endpoint: KINESIS, region: 'us-east-1' });
  await kinesis.send(new CreateStreamCommand({ StreamName: stream, ShardCount: SHARDS }));
  await until(async () => (await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: stream }))).StreamDescriptionSummary?.StreamStatus === 'ACTIVE', 10_000, 'the stream');
  await dynamo.send(
    new CreateTableCommand({
      TableName: table,
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
    }),
  );
  let producing = true;
  let next = 0;
  const producer = (async () => {
    while (producing) {
      const entries = Array.from({ length: 8 }, () => ({ Data: Buffer.from(JSON.stringify({ id: next })), PartitionKey: `k${next++}` }));
      await kinesis.send(new PutRecordsCommand({ StreamName: stream, Records: entries })).catch(() => undefined);
      await sleep(100);
    }
  })();
  const workers: ChildProcess[] = [];
  const start = (name: string): ChildProcess => {
    const child = spawn(
      process.execPath,
      [join(ROOT, 'bin', 'shardline.js'), 'run', join(__dirname, 'fleet-consumer.ts'), '--adapter', 'polling', '--stream', stream, '--endpoint', KINESIS, '--region', 'us-east-1',
        '--checkpoints', `dynamodb:${table}`, '--worker-id', name, '--failover-time-ms', String(FAILOVER_MS), '--log-level', 'warn'],
      { cwd: ROOT, env: { ...process.env, AWS_ENDPOINT_URL_DYNAMODB: DYNAMO, AWS_ACCESS_KEY_ID: 'bench', AWS_SECRET_ACCESS_KEY: 'bench', FLEET_LOG: log, FLEET_STREAM: stream }, stdio: ['ignore', 'ignore', 'ignore'] },
    );
    workers.push(child);
    return child;
  };
  const exited = (child: ChildProcess): Promise<void> => (child.exitCode !== null || child.signalCode !== null ? Promise.resolve() : new Promise((resolve) => child.once('exit', () => resolve())));
  const balanced = async (names: readonly string[]): Promise<boolean> => {
    const o = await owners(dynamo, table);
    return names.every((n) => (o.get(`shardline:${n}`) ?? []).length === SHARDS / names.length);
  };
  try {
    const a = start('a');
    const b = start('b');
    await until(() => balanced(['a', 'b']), 120_000, 'a and b to balance 2/2');
    await sleep(FAILOVER_MS + jitter()); // settle: both read their shards
    const aShards = (await owners(dynamo, table)).get('shardline:a') ?? [];
    const killedAt = Date.now();
    a.kill('SIGKILL');
    const killMs = await takeover(log, aShards, a.pid ?? -1, killedAt);

    const c = start('c');
    await until(() => balanced(['b', 'c']), 120_000, 'b and c to balance 2/2');
    await sleep(FAILOVER_MS + jitter()); // the stolen leases' read delay passes
    const bShards = (await owners(dynamo, table)).get('shardline:b') ?? [];
    const bPid = b.pid ?? -1;
    const stoppedAt = Date.now();
    b.kill('SIGTERM');
    const handoffMs = await takeover(log, bShards, bPid, stoppedAt);
    await exited(b);
    await sleep(1_000);
    const records = readLog(log);
    const byB = new Set(records.filter((r) => r.p === bPid).map((r) => `${r.s}/${r.q}`));
    // Only the hand-off's: b's shards at SIGTERM, handled by c after it (the leases c stole from b before had their
    // own re-deliveries, at most a batch each, when b's fenced checkpoints failed).
    const handoffDuplicates = records.filter((r) => r.p === c.pid && r.t >= stoppedAt && bShards.includes(r.s) && byB.has(`${r.s}/${r.q}`)).length;
    process.stderr.write(`round ${index + 1}: kill -9 takeover ${killMs} ms; SIGTERM hand-off ${handoffMs} ms, ${handoffDuplicates} records handled twice\n`);
    return { killMs, handoffMs, handoffDuplicates };
  } finally {
    producing = false;
    await producer;
    for (const w of workers) {
      w.kill('SIGKILL');
      await exited(w);
    }
    kinesis.destroy();
  }
}

const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((x, y) => x - y);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? (s[mid] ?? 0) : ((s[mid - 1] ?? 0) + (s[mid] ?? 0)) / 2;
};

async function main(): Promise<void> {
  if (!existsSync(join(ROOT, 'dist', 'index.js'))) throw new Error('run `npm run build` first: the fleet runs the built CLI');
  const kinesalite = await startServer('kinesalite/cli.js', PORT, ['--createStreamMs', '0', '--deleteStreamMs', '0', '--updateStreamMs', '0', '--shardLimit', '50']);
  const dynalite = await startServer('dynalite/cli.js', PORT + 1, ['--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0']);
  const dynamo = new DynamoDBClient({ endpoint: DYNAMO, region: 'us-east-1', credentials: CREDENTIALS });
  const rounds: Round[] = [];
  try {
    for (let i = 0; i < RUNS; i++) rounds.push(await round(i, dynamo));
  } finally {
    dynamo.destroy();
    kinesalite.kill('SIGTERM');
    dynalite.kill('SIGTERM');
  }
  const row = (name: string, xs: readonly number[], unit: string): string =>
    `| ${name} | ${median(xs).toLocaleString('en')} ${unit} | ${Math.min(...xs).toLocaleString('en')}–${Math.max(...xs).toLocaleString('en')} ${unit} |`;
  const renewal = Math.floor(FAILOVER_MS / 3) - 25;
  const taker = Math.floor(FAILOVER_MS / 2);
  writeBenchmarkSection(
    'fleet',
    [
      `## Polling fleet takeover (bench/fleet): ${RUNS} rounds, 2 processes on ${SHARDS} shards, failover ${FAILOVER_MS.toLocaleString('en')} ms`,
      '',
      `Built CLI processes (\`--checkpoints dynamodb:…\`) on kinesalite + dynalite, 8 records put every 100 ms; renewal every ${renewal.toLocaleString('en')} ms, lease scan every ${taker.toLocaleString('en')} ms (the defaults for this failover). Time from the signal to the first record of the slowest moved shard handled by another process (the handler's clock).`,
      '',
      '| event | median | range |',
      '|---|---|---|',
      row('kill -9 → shards handled by the survivor', rounds.map((r) => r.killMs), 'ms'),
      row('SIGTERM → shards handled by the other process', rounds.map((r) => r.handoffMs), 'ms'),
      row('records handled twice in the SIGTERM hand-off', rounds.map((r) => r.handoffDuplicates), ''),
      '',
      `Expected: kill -9 ≤ failover + one lease scan (${(FAILOVER_MS + taker).toLocaleString('en')} ms) plus the first GetRecords: the survivor sees a lease expire one failover after the scan that last saw it change, so the takeover lands between the failover and the failover plus one scan. SIGTERM: the process checkpoints, releases its leases and exits; the other takes them at its next scan (≤ ${taker.toLocaleString('en')} ms), with no record handled twice. Each signal comes at a random point of the survivors' scan cycle.`,
      '',
      '```bash',
      `npm run build && BENCH_RUNS=${RUNS} node -r ./dist/cli/register.js bench/fleet/run.ts`,
      '```',
    ].join('\n'),
  );
  process.stderr.write(`wrote the fleet section of docs/benchmarks.md\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`${(error as Error).stack ?? String(error)}\n`);
  process.exit(1);
});
