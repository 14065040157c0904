import { spawn } from 'node:child_process';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURE = path.join('test', 'fixtures', 'kcl', 'recording-consumer.ts');
const SEQ = '49590338271490256608559692538361571095921575989136588898';

/** Runs `shardline run <fixture> --adapter kcl` as the daemon would, over real pipes. */
function startChild() {
  const child = spawn('node', [path.join(ROOT, 'bin', 'shardline.js'), 'run', FIXTURE, '--adapter', 'kcl'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'pipe'],
    env: { ...process.env, SHARDLINE_KCL_TEST_OUT: path.join(tmpdir(), `kcl-child-${process.pid}.txt`) },
  });
  const stdout: string[] = [];
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = createInterface({ input: child.stdout });
  const waiting: Array<(line: string) => void> = [];
  lines.on('line', (line) => {
    stdout.push(line);
    waiting.shift()?.(line);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const next = (): Promise<string> => new Promise((resolve) => waiting.push(resolve));
  const send = (message: object | string): void => {
    child.stdin.write(typeof message === 'string' ? message : `${JSON.stringify(message)}\n`);
  };
  return { child, stdout, stderr: () => stderr, next, send, exited };
}

const record = (id: number) => ({ data: Buffer.from(JSON.stringify({ id })).toString('base64'), partitionKey: `pk-${id}`, sequenceNumber: SEQ, approximateArrivalTimestamp: 1717171717123, subSequenceNumber: id, action: 'record' });

describe('shardline run --adapter kcl (a real child process)', () => {
  it('writes nothing but protocol lines on stdout, ignores SIGTERM and exits 0 on stdin EOF', async () => {
    const c = startChild();
    c.send({ action: 'initialize', shardId: 'shardId-000000000000', sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });
    expect(await c.next()).toBe('{"action":"status","responseFor":"initialize"}');
    c.child.kill('SIGTERM'); // the daemon still needs the child
    c.send({ action: 'processRecords', records: [record(0), record(1)], millisBehindLatest: 0 });
    expect(await c.next()).toBe(`{"action":"checkpoint","sequenceNumber":"${SEQ}","subSequenceNumber":1}`);
    c.send({ action: 'checkpoint', sequenceNumber: SEQ, subSequenceNumber: 1, error: null });
    expect(await c.next()).toBe('{"action":"status","responseFor":"processRecords"}');
    c.send({ action: 'shardEnded' });
    expect(await c.next()).toBe('{"action":"checkpoint","sequenceNumber":null,"subSequenceNumber":null}');
    c.send({ action: 'checkpoint', sequenceNumber: null, subSequenceNumber: null, error: null });
    expect(await c.next()).toBe('{"action":"status","responseFor":"shardEnded"}');
    c.child.stdin.end();
    expect(await c.exited).toBe(0);
    expect(c.stdout).toHaveLength(5); // the fixture's console.log went to stderr
    expect(c.stderr()).toContain('handled 2 records');
    expect(c.stderr()).toContain('Received SIGTERM: ignored');
  });

  it('on a non-JSON line prints one clear error on stderr, sends no status and exits non-zero', async () => {
    const c = startChild();
    c.send({ action: 'initialize', shardId: 'shardId-000000000000', sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });
    await c.next();
    c.send('oops, not json\n');
    expect(await c.exited).toBe(1);
    expect(c.stdout).toEqual(['{"action":"status","responseFor":"initialize"}']);
    expect(c.stderr()).toMatch(/^shardline: the KCL daemon sent a line that is not JSON .*oops, not json/m);
  });
});
