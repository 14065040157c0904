import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TEST_CREDENTIALS, TEST_REGION, motoEndpoint } from '../../../test/harness/endpoints';
import { createStreamTable, deleteFlight, localDynamoDb, putFlight, uniqueTable, updateSeats } from './streams-test-kit';

/* The built CLI loads this example as a plug-in adapter: `shardline run app.ts --adapter <path> --adapter-option
   table=…`, against moto. A restart resumes from the checkpoint file; bad options and a missing table end with one line. */

jest.setTimeout(90_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const ADAPTER = join(__dirname, '../src/index.ts');
const APP = join(__dirname, 'fixtures/flight-changes.consumer.ts');
const dynamo = localDynamoDb();
let work: string;
let env: NodeJS.ProcessEnv;

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: this test runs bin/shardline.js');
  work = mkdtempSync(join(tmpdir(), 'shardline-ddb-cli-'));
  // The example is its own package: `shardline` resolves to this repository, as it would to the installed peer.
  mkdirSync(join(work, 'node_modules'));
  symlinkSync(ROOT, join(work, 'node_modules/shardline'), 'dir');
  env = {
    ...process.env,
    NODE_PATH: join(work, 'node_modules'),
    AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
    AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
    AWS_REGION: TEST_REGION,
  };
});
afterAll(() => {
  dynamo.destroy();
  rmSync(work, { recursive: true, force: true });
});

const runArgs = (table: string, extra: readonly string[] = []): string[] => [
  CLI,
  'run',
  APP,
  '--adapter',
  ADAPTER,
  '--adapter-option',
  `table=${table}`,
  '--adapter-option',
  'idle-poll-ms=100',
  '--endpoint',
  motoEndpoint(),
  '--checkpoints',
  `file:${join(work, 'checkpoints')}`,
  '--log-level',
  'warn',
  ...extra,
];

const lines = (file: string): string[] => (existsSync(file) ? readFileSync(file, 'utf8').split('\n').filter(Boolean) : []);

/** Runs the CLI until `expected` lines are in `out`, then stops it with SIGTERM; resolves with its exit code and stderr. */
async function runUntil(table: string, out: string, expected: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, runArgs(table), { cwd: work, env: { ...env, SHARDLINE_IT_OUT: out, SHARDLINE_IT_TABLE: table }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const deadline = Date.now() + 40_000;
  while (lines(out).length < expected && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
  const code = await exited;
  clearTimeout(timer);
  return { code, stderr };
}

const runSync = (args: readonly string[]): SpawnSyncReturns<string> =>
  spawnSync(process.execPath, args, { cwd: work, env, encoding: 'utf8', timeout: 60_000 });

describe('shardline run --adapter <the DynamoDB Streams example> (built CLI, moto)', () => {
  it('delivers the table changes to the consumer, and a restart resumes after the checkpoint', async () => {
    const table = uniqueTable('cli');
    await createStreamTable(dynamo, table);
    await putFlight(dynamo, table, 'AA1', 'LAX');
    await putFlight(dynamo, table, 'AA2', 'SFO');
    await updateSeats(dynamo, table, 'AA1', 50);
    const out = join(work, `${table}.txt`);

    const first = await runUntil(table, out, 3);
    expect(first.stderr).not.toMatch(/ERROR/);
    expect(first.code).toBe(0);
    expect(lines(out)).toEqual(['INSERT "AA1"', 'INSERT "AA2"', 'MODIFY "AA1"']);

    await deleteFlight(dynamo, table, 'AA2');
    const second = await runUntil(table, out, 4);
    expect(second.code).toBe(0);
    expect(lines(out)).toEqual(['INSERT "AA1"', 'INSERT "AA2"', 'MODIFY "AA1"', 'REMOVE "AA2"']);
  });

  it('rejects an unknown adapter option and an AT_TIMESTAMP start with one line and exit code 2', () => {
    const unknown = runSync(runArgs('Flights', ['--adapter-option', 'colour=red']));
    expect(unknown.status).toBe(2);
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1);
    expect(unknown.stderr).toMatch(/colour is not an option of the dynamodb-streams adapter \(it takes table, stream-arn, from/);
    const timestamp = runSync(runArgs('Flights', ['--from', '2026-01-01T00:00:00Z']));
    expect(timestamp.status).toBe(2);
    expect(timestamp.stderr).toMatch(/TRIM_HORIZON or LATEST/);
  });

  it('ends with one line naming the table and exit code 1 when the table does not exist', () => {
    const table = uniqueTable('absent');
    const result = runSync(runArgs(table, ['--startup-timeout-ms', '3000']));
    expect(result.status).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(`table ${table} does not exist`);
  });
});
