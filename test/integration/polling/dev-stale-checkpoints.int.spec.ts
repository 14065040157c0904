import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Review finding: `shardline dev` starts a fresh, in-memory kinesis-local and creates the stream, yet it kept the
 * checkpoints a previous run (against another kinesis-local) left in `.shardline/checkpoints`. A stale checkpoint
 * ahead of the new stream's records silently skipped them (or stopped the shard as "gone").
 * This spawns the real CLI (it starts its own kinesis-local), so it needs `npm run build` first.
 */
jest.setTimeout(90_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const FIXTURES = join(ROOT, 'test/integration/polling/fixtures');
const PORT = Number(process.env.SHARDLINE_TEST_PORT_BASE ?? '14500') + 91;
const FAR_AHEAD = '49999999999999999999999999999999999999999999999999999999';

async function waitFor(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out: ${describe()}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

describe('shardline dev with checkpoints left by an earlier run', () => {
  beforeAll(() => {
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: this test runs bin/shardline.js');
  });

  it('reads every record of the stream it just created, whatever the old checkpoint file says', async () => {
    const cwd = mkdtempSync(join(tmpdir(), 'shardline-review-dev-'));
    const checkpoints = join(cwd, '.shardline/checkpoints');
    mkdirSync(checkpoints, { recursive: true });
    const stale = { parentShardIds: [], childShardIds: [], updatedAt: '2026-01-01T00:00:00.000Z', checkpoint: FAR_AHEAD, checkpointSubSequenceNumber: 0 };
    writeFileSync(
      join(checkpoints, 'dev-it-app--review-dev-stream.json'),
      JSON.stringify({ version: 1, applicationName: 'dev-it-app', streamName: 'review-dev-stream', shards: { 'shardId-000000000000': stale, 'shardId-000000000001': stale } }),
    );
    const out = join(cwd, 'ids.txt');
    const child = spawn(
      process.execPath,
      [CLI, 'dev', join(FIXTURES, 'dev.consumer.ts'), '--produce', join(FIXTURES, 'dev-producer.ts'), '--port', String(PORT), '--log-level', 'warn'],
      { cwd, env: { ...process.env, SHARDLINE_IT_OUT: out, SHARDLINE_IT_STREAM: 'review-dev-stream', SHARDLINE_IT_COUNT: '12' }, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    const ids = (): Set<string> => new Set(existsSync(out) ? readFileSync(out, 'utf8').split('\n').filter(Boolean) : []);
    try {
      await waitFor(() => ids().size === 12, 45_000, () => `${ids().size} of 12 ids; stdout: ${stdout}; stderr: ${stderr}`);
      expect(stdout).toContain('created stream review-dev-stream (2 shards)');
      expect(stdout).toMatch(/discarded the checkpoints of an earlier run/);
    } finally {
      child.kill('SIGINT');
      expect(await exited).toBe(0);
    }
  });
});
