/**
 * `shardline lag --watch` as a user runs it (the built CLI) against kinesalite: it measures again every second,
 * one JSON line per round with --json or a timestamped table when piped, sees a checkpoint move between rounds, and
 * ends with exit code 0 on Ctrl-C; an unknown stream ends it at once with one line and exit code 1.
 */
import { DeleteStreamCommand, GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const APP = 'watch-app';

interface Watch {
  readonly child: ChildProcessWithoutNullStreams;
  stdout: string;
  stderr: string;
  readonly exited: Promise<number | null>;
}

function startCli(args: readonly string[]): Watch {
  const child = spawn(process.execPath, [CLI, ...args], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
  const watch: Watch = { child, stdout: '', stderr: '', exited: new Promise((resolve) => child.once('exit', (code) => resolve(code))) };
  child.stdout.on('data', (d: Buffer) => (watch.stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (watch.stderr += d.toString()));
  return watch;
}

/** A one-shard stream on kinesalite with 25 records, and a checkpoint store with the 10th as the checkpoint. */
async function streamWithCheckpoint(): Promise<{ stream: string; dir: string; sequenceNumbers: string[] }> {
  const client = localKinesis(kinesaliteEndpoint());
  const stream = uniqueName('lag-watch');
  try {
    await createStream(client, stream, 1);
    await putRecords(client, stream, makeRecords('w', 25, 5));
    const it = await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    const page = await client.send(new GetRecordsCommand({ ShardIterator: it.ShardIterator, Limit: 25 }));
    const sequenceNumbers = (page.Records ?? []).map((r) => r.SequenceNumber ?? '');
    expect(sequenceNumbers).toHaveLength(25);
    const dir = tempDir('shardline-lag-watch-');
    await checkpoint(dir, stream, sequenceNumbers[9]!);
    return { stream, dir, sequenceNumbers };
  } finally {
    client.destroy();
  }
}

async function checkpoint(dir: string, stream: string, sequenceNumber: string): Promise<void> {
  const store = new FileCheckpointStore({ directory: dir, applicationName: APP, streamName: stream });
  await store.open();
  await store.checkpoint('shardId-000000000000', { sequenceNumber, subSequenceNumber: 0 });
  await store.close();
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: these tests run bin/shardline.js');
});

describe('shardline lag --watch (CLI, kinesalite)', () => {
  it('--watch 1 --json prints one JSON line per round, follows a moving checkpoint, and exits 0 on Ctrl-C', async () => {
    const { stream, dir, sequenceNumbers } = await streamWithCheckpoint();
    const watch = startCli(['lag', '--app', APP, '--stream', stream, '--endpoint', kinesaliteEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${dir}`, '--watch', '1', '--json']);
    try {
      const rounds = (): Array<{ at: string; app: string; stream: string; shards: Array<{ shardId: string; recordsBehind: number; checkpoint: string }> }> =>
        watch.stdout
          .split('\n')
          .slice(0, -1) // the last piece is an unfinished line (or empty)
          .map((line) => JSON.parse(line) as ReturnType<typeof rounds>[number]);
      await waitFor(() => rounds().length >= 1, 30_000, () => `stdout: ${watch.stdout}; stderr: ${watch.stderr}`);
      expect(rounds()[0]).toMatchObject({ app: APP, stream, shards: [{ shardId: 'shardId-000000000000', recordsBehind: 15, checkpoint: sequenceNumbers[9] }] });

      // The consumer moves on: the next rounds see the new checkpoint.
      await checkpoint(dir, stream, sequenceNumbers[21]!);
      await waitFor(() => rounds().some((r) => r.shards[0]?.recordsBehind === 3), 30_000, () => `stdout: ${watch.stdout}; stderr: ${watch.stderr}`);
      const all = rounds();
      expect(all.length).toBeGreaterThanOrEqual(2);
      expect(all.at(-1)?.shards[0]?.checkpoint).toBe(sequenceNumbers[21]);
      const times = all.map((r) => Date.parse(r.at));
      for (let i = 1; i < times.length; i++) expect(times[i]! - times[i - 1]!).toBeGreaterThanOrEqual(900);

      watch.child.kill('SIGINT');
      expect(await watch.exited).toBe(0);
      expect(watch.stderr).toBe('');
    } finally {
      watch.child.kill('SIGKILL');
    }
  });

  it('--watch 1 piped prints a timestamp line and the table each round', async () => {
    const { stream, dir } = await streamWithCheckpoint();
    const watch = startCli(['lag', '--app', APP, '--stream', stream, '--endpoint', kinesaliteEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${dir}`, '--watch', '1']);
    try {
      await waitFor(() => (watch.stdout.match(/shardId-000000000000/g) ?? []).length >= 2, 30_000, () => `stdout: ${watch.stdout}; stderr: ${watch.stderr}`);
      watch.child.kill('SIGINT');
      expect(await watch.exited).toBe(0);
      const blocks = watch.stdout.split(/^--- /m).filter(Boolean);
      expect(blocks.length).toBeGreaterThanOrEqual(2);
      for (const block of blocks.slice(0, 2)) {
        expect(block).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\nSHARD\s+STATUS\s+CHECKPOINT\s+RECORDS BEHIND\s+TIME BEHIND\n/);
        expect(block).toMatch(/shardId-000000000000\s+reading\s+\d+\s+15\s/);
      }
      expect(watch.stdout).not.toContain('\u001b');
    } finally {
      watch.child.kill('SIGKILL');
    }
  });

  it('keeps watching when a later round fails (the stream was deleted), saying it retries, and still exits 0 on Ctrl-C', async () => {
    const { stream, dir } = await streamWithCheckpoint();
    const watch = startCli(['lag', '--app', APP, '--stream', stream, '--endpoint', kinesaliteEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${dir}`, '--watch', '1', '--json']);
    try {
      await waitFor(() => watch.stdout.includes('\n'), 30_000, () => `stdout: ${watch.stdout}; stderr: ${watch.stderr}`);
      const client = localKinesis(kinesaliteEndpoint());
      await client.send(new DeleteStreamCommand({ StreamName: stream }));
      client.destroy();
      await waitFor(() => (watch.stderr.match(/retrying in/g) ?? []).length >= 2, 30_000, () => `stdout: ${watch.stdout}; stderr: ${watch.stderr}`);
      expect(watch.stderr.split('\n')[0]).toMatch(new RegExp(`^shardline: lag round at \\S+Z failed: cannot list the shards of ${stream}: .+; retrying in (\\d+ ms|1 s)$`));
      watch.child.kill('SIGINT');
      expect(await watch.exited).toBe(0);
    } finally {
      watch.child.kill('SIGKILL');
    }
  });

  it('an unknown stream ends the watch at the first round with one line and exit code 1', async () => {
    const watch = startCli(['lag', '--app', APP, '--stream', 'no-such-stream', '--endpoint', kinesaliteEndpoint(), '--region', 'us-east-1', '--checkpoints', `file:${tempDir()}`, '--watch', '1', '--json']);
    try {
      expect(await watch.exited).toBe(1);
      expect(watch.stdout).toBe('');
      const lines = watch.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^shardline: cannot list the shards of no-such-stream: .+; check --stream, --endpoint and --region$/);
    } finally {
      watch.child.kill('SIGKILL');
    }
  });

  it('--help documents --watch', () => {
    const help = startCli(['lag', '--help']);
    return help.exited.then((code) => {
      expect(code).toBe(0);
      expect(help.stdout).toMatch(/--watch \[seconds\]\s+measure again every N seconds \(default 5\) until Ctrl-C/);
      expect(help.stdout).toContain('one JSON line (NDJSON)');
    });
  });
});
