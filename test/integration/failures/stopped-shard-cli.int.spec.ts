import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName } from '../polling/polling-test-kit';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const FIXTURE = join(__dirname, 'fixtures/always-failing.consumer.ts');
const SECRET = 'tok-3f9a61c2e7d4';

const run = (args: readonly string[], env: Record<string, string>, input?: string) =>
  spawnSync(process.execPath, [CLI, 'run', FIXTURE, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 90_000,
    env: { ...process.env, ...env },
    ...(input === undefined ? {} : { input }),
  });

const lastLine = (text: string): string => text.trimEnd().split('\n').pop() ?? '';

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: these tests run bin/shardline.js');
});

describe('a stopped shard ends the process with exit code 1 and one line (issue 11, defects 2 and 8)', () => {
  it('polling: a handler that always throws stops the process with exit 1, naming the stopped shards; the secret never shows', async () => {
    const client = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('always-failing');
    await createStream(client, stream, 2);
    await putRecords(client, stream, makeRecords('f', 10, 4));
    client.destroy();
    const started = Date.now();
    const out = run(['--adapter', 'polling', '--endpoint', kinesaliteEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${tempDir()}`], {
      SHARDLINE_IT_STREAM: stream,
      SHARDLINE_IT_SECRET: SECRET,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
    });
    expect(out.status).toBe(1);
    expect(Date.now() - started).toBeLessThan(60_000);
    expect(lastLine(out.stderr)).toMatch(
      /^shardline: shard shardId-00000000000[01] stopped \(no checkpoint yet\): AlwaysFailing\.handle failed on \d+ records of shardId-00000000000[01] after 2 attempts: the API refused token \*\*\*\* for \d+ records(; shard shardId-00000000000[01] stopped .*)?\. Fix the handler, or set errors\.onFailure to 'skip' or 'dead-letter'; the shards? resumes? from (its checkpoint|their checkpoints) on restart$/,
    );
    expect(out.stderr).not.toContain(SECRET);
    expect(out.stdout).toBe('');
  });

  it('memory: the same line, exit 1, no secret on stderr', () => {
    const out = run(['--adapter', 'memory'], { SHARDLINE_IT_SECRET: SECRET }, '{"id":1}\n{"id":2}\n');
    expect(out.status).toBe(1);
    expect(lastLine(out.stderr)).toBe(
      'shardline: shard shardId-000000000000 stopped (no checkpoint yet): AlwaysFailing.handle failed on 2 records of shardId-000000000000 after 2 attempts: ' +
        "the API refused token **** for 2 records. Fix the handler, or set errors.onFailure to 'skip' or 'dead-letter'; the shard resumes from its checkpoint on restart",
    );
    expect(out.stderr).not.toContain(SECRET);
  });

  it("memory: a short secret ('7') is masked as a whole value only, not inside '17 records'", () => {
    const lines = Array.from({ length: 17 }, (_, i) => `{"id":${i}}`).join('\n');
    const out = run(['--adapter', 'memory'], { SHARDLINE_IT_SECRET: '7' }, `${lines}\n`);
    expect(out.status).toBe(1);
    expect(lastLine(out.stderr)).toContain('failed on 17 records of shardId-000000000000 after 2 attempts: the API refused token **** for 17 records.');
    expect(out.stderr).not.toMatch(/token 7\b/);
  });
});
