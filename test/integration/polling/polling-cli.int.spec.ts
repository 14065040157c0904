import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { kinesisEndpoint, TEST_PORT_BASE } from '../../harness/endpoints';
import { isPortOpen } from '../../harness/services';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const cli = (args: readonly string[], cwd = ROOT) => spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000 });

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: these tests run bin/shardline.js');
});

describe('shardline tail / lag / dev (CLI, kinesis-local)', () => {
  it('tail prints records from trim-horizon, JSON pretty-printed, and stops after --max', async () => {
    const client = localKinesis();
    const stream = uniqueName('tail');
    await createStream(client, stream, 2);
    await putRecords(client, stream, makeRecords('t', 6, 2));
    client.destroy();
    const out = cli(['tail', '--stream', stream, '--endpoint', kinesisEndpoint(), '--from', 'trim-horizon', '--max', '4']);
    expect(out.status).toBe(0);
    expect(out.stdout.match(/^--- shardId-00000000000[01] \d+ key=k[01] at /gm)).toHaveLength(4);
    expect(out.stdout).toContain('{\n  "id": "t-');
  });

  it('tail and lag reject bad arguments with one line and exit code 2', () => {
    const bad = cli(['tail', '--stream', 's', '--from', 'yesterday']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/trim-horizon, latest or an ISO time/);
    const missing = cli(['lag', '--stream', 's']);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(/--app/);
  });

  it('lag shows, per shard, the checkpoint and the records and time behind', async () => {
    const client = localKinesis();
    const stream = uniqueName('lag');
    await createStream(client, stream, 1);
    await putRecords(client, stream, makeRecords('l', 25, 5));
    const it = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    const page = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 10 }));
    client.destroy();
    const dir = tempDir();
    const store = new FileCheckpointStore({ directory: dir, applicationName: 'lag-app', streamName: stream });
    await store.open();
    await store.checkpoint('shardId-000000000000', { sequenceNumber: page.Records?.[9]?.SequenceNumber ?? '', subSequenceNumber: 0 });
    await store.close();
    const json = cli(['lag', '--app', 'lag-app', '--stream', stream, '--endpoint', kinesisEndpoint(), '--checkpoints', `file:${dir}`, '--json']);
    expect(json.status).toBe(0);
    const parsed = JSON.parse(json.stdout) as { shards: Array<{ shardId: string; recordsBehind: number; status: string; checkpoint: string; millisBehind: number }> };
    expect(parsed.shards).toEqual([expect.objectContaining({ shardId: 'shardId-000000000000', recordsBehind: 15, status: 'reading', checkpoint: page.Records?.[9]?.SequenceNumber })]);
    expect(parsed.shards[0]?.millisBehind).toBeGreaterThanOrEqual(0);
    const table = cli(['lag', '--app', 'lag-app', '--stream', stream, '--endpoint', kinesisEndpoint(), '--checkpoints', `file:${dir}`]);
    expect(table.stdout.split('\n')[0]).toMatch(/^SHARD\s+STATUS\s+CHECKPOINT\s+RECORDS BEHIND\s+TIME BEHIND$/);
    expect(table.stdout).toMatch(/shardId-000000000000\s+reading\s+\d+\s+15\s/);
  });

  it('dev starts kinesis-local, creates the stream, runs consumer and producer, and stops everything on Ctrl-C', async () => {
    const cwd = tempDir('shardline-dev-');
    mkdirSync(cwd, { recursive: true });
    const out = join(cwd, 'ids.txt');
    const port = TEST_PORT_BASE + 80;
    const child = spawn(
      process.execPath,
      [CLI, 'dev', join(__dirname, 'fixtures/dev.consumer.ts'), '--produce', join(__dirname, 'fixtures/dev-producer.ts'), '--port', String(port), '--log-level', 'warn'],
      { cwd, env: { ...process.env, SHARDLINE_IT_OUT: out, SHARDLINE_IT_STREAM: 'dev-it-stream', SHARDLINE_IT_COUNT: '30' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const ids = (): Set<string> => new Set(existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    await waitFor(() => ids().size === 30, 60_000, () => `${ids().size} of 30; stdout: ${stdout}; stderr: ${stderr}`);
    expect(await isPortOpen(port)).toBe(true);
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGINT');
    expect(await exited).toBe(0);
    expect(stdout).toContain(`kinesis-local on http://127.0.0.1:${port}`);
    expect(stdout).toContain('created stream dev-it-stream (2 shards)');
    expect(stdout).toContain('stopped');
    expect(existsSync(join(cwd, '.shardline/checkpoints/dev-it-app--dev-it-stream.json'))).toBe(true);
    expect(await isPortOpen(port)).toBe(false); // kinesis-local was stopped too
  });
});
