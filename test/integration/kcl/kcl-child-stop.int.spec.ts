import { spawn } from 'node:child_process';
import path from 'node:path';
import { createInterface } from 'node:readline';

const ROOT = path.resolve(__dirname, '..', '..', '..');
const FIXTURE = path.join('test', 'integration', 'failures', 'fixtures', 'always-failing.consumer.ts');
const SEQ = '49590338271490256608559692538361571095921575989136588898';
const SECRET = 'tok-3f9a61c2e7d4';

const record = (id: number) => ({
  data: Buffer.from(JSON.stringify({ id })).toString('base64'),
  partitionKey: `pk-${id}`,
  sequenceNumber: SEQ,
  subSequenceNumber: id,
  action: 'record',
});

describe('shardline run --adapter kcl when the shard stops (issue 11, defects 2 and 8)', () => {
  it('exits 1 with the same one line as the other adapters, sends no status for the batch, and never shows the secret', async () => {
    const child = spawn('node', [path.join(ROOT, 'bin', 'shardline.js'), 'run', FIXTURE, '--adapter', 'kcl'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
      env: { ...process.env, SHARDLINE_IT_SECRET: SECRET },
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const stdout: string[] = [];
    createInterface({ input: child.stdout }).on('line', (line) => stdout.push(line));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const send = (message: object): void => {
      child.stdin.write(`${JSON.stringify(message)}\n`);
    };
    send({ action: 'initialize', shardId: 'shardId-000000000003', sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 });
    send({ action: 'processRecords', records: [record(0), record(1)], millisBehindLatest: 0 });
    expect(await exited).toBe(1);
    expect(stdout).toEqual(['{"action":"status","responseFor":"initialize"}']);
    expect(stderr.trimEnd().split('\n').pop()).toBe(
      'shardline: shard shardId-000000000003 stopped (no checkpoint yet): AlwaysFailing.handle failed on 2 records of shardId-000000000003 after 2 attempts: ' +
        "the API refused token **** for 2 records. Fix the handler, or set errors.onFailure to 'skip' or 'dead-letter'; the shard resumes from its checkpoint on restart",
    );
    expect(stderr).not.toContain(SECRET);
  });
});
