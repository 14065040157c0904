import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import * as http from 'node:http';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { kinesisEndpoint, TEST_PORT_BASE } from '../../harness/endpoints';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName, waitFor } from '../polling/polling-test-kit';

jest.setTimeout(90_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const CONSUMER = join(ROOT, 'test/integration/polling/fixtures/dev.consumer.ts');
const cli = (args: readonly string[]) => spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 60_000 });

/** Runs the CLI without blocking this process (whose fake server must answer it). */
function cliAsync(args: readonly string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: these tests run bin/shardline.js');
});

/** A Kinesis endpoint (HTTP/1.1 JSON) that has the stream but refuses RegisterStreamConsumer: no fan-out permission. */
async function deniedKinesis(port: number): Promise<{ url: string; targets: string[]; close: () => Promise<void> }> {
  const targets: string[] = [];
  const server = http.createServer((req, res) => {
    req.resume();
    req.on('end', () => {
      const target = String(req.headers['x-amz-target'] ?? '').split('.').pop() ?? '';
      targets.push(target);
      const reply = (status: number, body: object): void => {
        res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
        res.end(JSON.stringify(body));
      };
      const arn = 'arn:aws:kinesis:us-east-1:000000000000:stream/denied';
      if (target === 'DescribeStreamSummary') {
        reply(200, { StreamDescriptionSummary: { StreamName: 'denied', StreamARN: arn, StreamStatus: 'ACTIVE', OpenShardCount: 1, RetentionPeriodHours: 24, StreamCreationTimestamp: 0, EnhancedMonitoring: [] } });
      } else if (target === 'DescribeStreamConsumer') {
        reply(400, { __type: 'ResourceNotFoundException', message: 'Consumer not found' });
      } else if (target === 'RegisterStreamConsumer') {
        reply(400, { __type: 'AccessDeniedException', message: 'User: arn:aws:iam::000000000000:user/app is not authorized to perform: kinesis:RegisterStreamConsumer' });
      } else {
        reply(400, { __type: 'AccessDeniedException', message: `not allowed: ${target}` });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, targets, close: () => new Promise((resolve) => server.close(() => resolve())) };
}

describe('shardline run --adapter efo and streams consumers (CLI)', () => {
  it('reads a stream by enhanced fan-out, lists its consumer, and deregisters it', async () => {
    const client = localKinesis();
    const stream = uniqueName('efo-cli');
    await createStream(client, stream, 2);
    await putRecords(client, stream, makeRecords('c', 30, 6));
    const out = join(tempDir('shardline-efo-cli-'), 'ids.txt');
    const child = spawn(
      process.execPath,
      [CLI, 'run', CONSUMER, '--adapter', 'efo', '--consumer-name', 'cli-efo', '--stream', stream, '--endpoint', kinesisEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${tempDir()}`],
      { cwd: ROOT, env: { ...process.env, SHARDLINE_IT_OUT: out }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const ids = (): Set<string> => new Set(existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
      await waitFor(() => ids().size === 30, 45_000, () => `${ids().size} of 30; stderr: ${stderr}`);
      await putRecords(client, stream, makeRecords('d', 10, 2, 100));
      await waitFor(() => ids().size === 40, 30_000, () => `${ids().size} of 40; stderr: ${stderr}`);
    } finally {
      child.kill('SIGTERM');
    }
    expect(await exited).toBe(0);
    expect(stderr).toMatch(/Registered stream consumer cli-efo/);
    // The start line names the stream read (--stream, not the decorator's) and the fan-out source.
    expect(stderr).toContain(`, stream ${stream}, source efo)`);

    const listed = cli(['streams', 'consumers', stream, '--endpoint', kinesisEndpoint(), '--json']);
    expect(listed.status).toBe(0);
    expect((JSON.parse(listed.stdout) as Array<{ name: string; status: string }>).map((c) => [c.name, c.status])).toEqual([['cli-efo', 'ACTIVE']]);
    const table = cli(['streams', 'consumers', stream, '--endpoint', kinesisEndpoint()]);
    expect(table.stdout).toMatch(/^CONSUMER\s+STATUS\s+CREATED\s+ARN\ncli-efo\s+ACTIVE\s/);

    const removed = cli(['streams', 'deregister-consumer', stream, 'cli-efo', '--endpoint', kinesisEndpoint()]);
    expect(removed.status).toBe(0);
    expect(removed.stdout).toMatch(/consumer cli-efo of .* deregistered/);
    await waitFor(() => cli(['streams', 'consumers', stream, '--endpoint', kinesisEndpoint()]).stdout.includes('no stream consumers'), 10_000, () => 'still listed');
    const again = cli(['streams', 'deregister-consumer', stream, 'cli-efo', '--endpoint', kinesisEndpoint()]);
    expect(again.status).toBe(1);
    expect(again.stderr.trim().split('\n')).toHaveLength(1);
    expect(again.stderr).toMatch(/has no consumer named cli-efo/);
    client.destroy();
  });

  it('an invalid consumer name exits 2 with one line, before anything is called', () => {
    const bad = cli(['run', CONSUMER, '--adapter', 'efo', '--consumer-name', 'billing app', '--stream', 's', '--endpoint', 'http://127.0.0.1:9', '--region', 'us-east-1']);
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--consumer-name: .*"billing app".*letters, digits, _ \. and -/);
    const long = cli(['streams', 'deregister-consumer', 's', 'x'.repeat(129), '--endpoint', 'http://127.0.0.1:9']);
    expect(long.status).toBe(2);
    expect(long.stderr).toMatch(/129 characters long: Kinesis allows at most 128/);
  });

  it('a stream without fan-out permission exits 1 with one line naming the missing permission', async () => {
    const denied = await deniedKinesis(TEST_PORT_BASE + 105);
    try {
      const out = await cliAsync(['run', CONSUMER, '--adapter', 'efo', '--consumer-name', 'billing', '--stream', 'denied', '--endpoint', denied.url, '--region', 'us-east-1', '--checkpoints', `file:${tempDir()}`]);
      expect(out.status).toBe(1);
      const lines = out.stderr.trim().split('\n').filter((l) => !l.includes('NodeVersionSupportWarning') && !l.includes('node --trace-warnings'));
      expect(lines.at(-1)).toMatch(/needs the IAM permission kinesis:RegisterStreamConsumer on the stream/);
      expect(out.stderr).not.toMatch(/\n\s+at /); // no stack trace
      expect(denied.targets).toContain('RegisterStreamConsumer');
    } finally {
      await denied.close();
    }
  });
});
