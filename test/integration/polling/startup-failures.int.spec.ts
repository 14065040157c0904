import { spawn, spawnSync } from 'node:child_process';
import { createServer, type Socket } from 'node:net';
import { type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, tempDir, uniqueName } from './polling-test-kit';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');

/** Runs the built CLI (`dist/`, through bin/shardline.js) on the kill -9 fixture consumer with the polling adapter. */
function runCli(args: readonly string[], stream = 'flights'): { status: number | null; stderr: string; ms: number } {
  const started = Date.now();
  const out = spawnSync(
    process.execPath,
    [join(ROOT, 'bin/shardline.js'), 'run', join(__dirname, 'fixtures/kill9.consumer.ts'), '--adapter', 'polling', '--region', 'us-east-1', '--checkpoints', `file:${tempDir()}`, ...args],
    { cwd: ROOT, env: { ...process.env, SHARDLINE_IT_STREAM: stream, SHARDLINE_IT_OUT: join(tempDir(), 'out') }, encoding: 'utf8', timeout: 60_000 },
  );
  return { status: out.status, stderr: out.stderr, ms: Date.now() - started };
}

/** stderr lines other than Node's own warnings about the SDK's Node version. */
function lines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.trim() !== '' && !/NodeVersionSupportWarning|node --trace-warnings|versions published after/.test(l));
}

describe('polling start-up failures (built CLI)', () => {
  it('gives up on a lease table endpoint that accepts and never answers (the client times out), one line, exit 1', async () => {
    const stream = uniqueName('silent-table');
    const client = localKinesis(kinesaliteEndpoint());
    await createStream(client, stream, 1);
    client.destroy();
    // A DynamoDB endpoint that takes connections and never says a word.
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const started = Date.now();
    try {
      const child = spawn(
        process.execPath,
        [join(ROOT, 'bin/shardline.js'), 'run', join(__dirname, 'fixtures/kill9.consumer.ts'), '--adapter', 'polling', '--region', 'us-east-1', '--endpoint', kinesaliteEndpoint(), '--stream', stream, '--checkpoints', 'dynamodb:silent-leases', '--startup-timeout-ms', '3000'],
        {
          cwd: ROOT,
          env: { ...process.env, SHARDLINE_IT_STREAM: stream, SHARDLINE_IT_OUT: join(tempDir(), 'out'), AWS_ENDPOINT_URL_DYNAMODB: `http://127.0.0.1:${(silent.address() as AddressInfo).port}` },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const killer = setTimeout(() => child.kill('SIGKILL'), 45_000); // before the fix it waited for ever
      const code = await new Promise<number | string | null>((resolve) => child.once('exit', (c, signal) => resolve(signal ?? c)));
      clearTimeout(killer);
      expect({ code, sockets: sockets.size > 0 }).toEqual({ code: 1, sockets: true });
      expect(Date.now() - started).toBeLessThan(30_000);
      // The run had started (its log says so); the last line says what failed and what to check.
      const errorLines = lines(stderr);
      // The DynamoDB client's own timeouts end it (the start-up bound on opening the store is the backstop).
      expect(errorLines[errorLines.length - 1]).toMatch(/^shardline: cannot read the lease table silent-leases: .*TimeoutError|^shardline: cannot read the lease table silent-leases: .*timeout/i);
      expect(errorLines[errorLines.length - 1]).toMatch(/check the region, the credentials and AWS_ENDPOINT_URL_DYNAMODB$/);
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('gives up on an unreachable endpoint after --startup-timeout-ms with one line naming the endpoint, exit 1', () => {
    const result = runCli(['--endpoint', 'http://127.0.0.1:1', '--startup-timeout-ms', '2000', '--stream', uniqueName('nowhere')]);
    expect(result.status).toBe(1);
    expect(result.ms).toBeLessThan(15_000);
    const errorLines = lines(result.stderr);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^shardline: cannot reach Kinesis at --endpoint http:\/\/127\.0\.0\.1:1 .*check --endpoint\/--region/);
  });

  it('gives up on an unknown host the same way', () => {
    const result = runCli(['--endpoint', 'http://no-such-host.invalid:4567', '--startup-timeout-ms', '2000']);
    expect(result.status).toBe(1);
    expect(result.ms).toBeLessThan(15_000);
    const errorLines = lines(result.stderr);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/no-such-host\.invalid/);
  });

  it('names the stream actually requested (--stream overrides the decorator) when it does not exist, once', () => {
    const requested = uniqueName('missing');
    const result = runCli(['--endpoint', kinesaliteEndpoint(), '--stream', requested, '--startup-timeout-ms', '5000'], 'decorator-stream');
    expect(result.status).toBe(1);
    const errorLines = lines(result.stderr);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toContain(`stream ${requested} does not exist`);
    expect(errorLines[0]).toContain(`shardline streams create ${requested}`);
    expect(result.stderr).not.toContain('decorator-stream');
  });
});
