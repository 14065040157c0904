import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kinesisEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(180_000);

const ROOT = join(__dirname, '../../..');

interface BatchLine {
  readonly pid: number;
  readonly shard: string;
  readonly ids: readonly string[];
}

function readLines(path: string): BatchLine[] {
  if (!existsSync(path)) return [];
  const text = readFileSync(path, 'utf8');
  // Only complete lines: the consumer may be appending one right now (a read can see half of it).
  return text
    .slice(0, text.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => JSON.parse(l) as BatchLine);
}

function startConsumer(stream: string, checkpoints: string, out: string): ChildProcess {
  return spawn(
    process.execPath,
    [join(ROOT, 'bin/shardline.js'), 'run', join(__dirname, 'fixtures/kill9.consumer.ts'), '--adapter', 'polling', '--stream', stream, '--endpoint', kinesisEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${checkpoints}`, '--log-level', 'warn'],
    { cwd: ROOT, env: { ...process.env, SHARDLINE_IT_OUT: out, SHARDLINE_IT_STREAM: stream }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
}

function exited(child: ChildProcess): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('polling consumer killed with kill -9 (CLI child process)', () => {
  it('loses nothing and repeats at most one batch per shard after a restart', async () => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: the test runs bin/shardline.js');
    const client = localKinesis();
    const stream = uniqueName('poll-kill9');
    await createStream(client, stream, 2);
    const dir = tempDir();
    const out = join(dir, 'batches.jsonl');
    const records = makeRecords('k', 2_000, 40);
    let stderr = '';

    const producing = (async () => {
      for (let i = 0; i < records.length; i += 40) {
        await putRecords(client, stream, records.slice(i, i + 40));
        await new Promise((r) => setTimeout(r, 40));
      }
    })();
    const first = startConsumer(stream, join(dir, 'checkpoints'), out);
    first.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => readLines(out).length >= 4, 60_000, () => `first consumer wrote ${readLines(out).length} batches; stderr: ${stderr}`);
    first.kill('SIGKILL');
    await exited(first);
    const firstRun = readLines(out);
    expect(firstRun.length).toBeGreaterThan(0);

    const second = startConsumer(stream, join(dir, 'checkpoints'), out);
    second.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await producing;
    const seen = (): Set<string> => new Set(readLines(out).flatMap((l) => l.ids));
    await waitFor(() => seen().size === records.length, 90_000, () => `${seen().size} of ${records.length}; stderr: ${stderr}`);
    second.kill('SIGTERM');
    expect(await exited(second)).toBe(0);
    client.destroy();

    const lines = readLines(out);
    expect(seen()).toEqual(new Set(records.map((r) => r.id))); // nothing lost
    const count = new Map<string, number>();
    for (const id of lines.flatMap((l) => l.ids)) count.set(id, (count.get(id) ?? 0) + 1);
    const repeated = new Set([...count].filter(([, n]) => n > 1).map(([id]) => id));
    // Every repeated record belongs to the first process's last batch of its shard (handled, not yet checkpointed).
    for (const shard of new Set(lines.map((l) => l.shard))) {
      const lastBatch = firstRun.filter((l) => l.shard === shard).at(-1);
      const repeatedHere = lines.filter((l) => l.shard === shard).flatMap((l) => l.ids).filter((id) => repeated.has(id));
      for (const id of repeatedHere) expect(lastBatch?.ids).toContain(id);
    }
    for (const [, n] of count) expect(n).toBeLessThanOrEqual(2);
  });
});
