import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ConfigurationError } from '../../../src/core/errors';

const dir = (): string => mkdtempSync(join(tmpdir(), 'shardline-lock-'));
const deadPid = (): number => Number(spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' }).stdout);

describe('FileCheckpointStore lock', () => {
  it('lets exactly one of two processes take over a stale lock at once (many rounds)', async () => {
    const dead = deadPid();
    let bothWon = 0;
    let noneWon = 0;
    for (let round = 0; round < 60; round++) {
      const directory = dir();
      // Two "processes": both alive (this process and its parent), on this host.
      const a = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's', lockIdentity: { pid: process.pid, hostname: hostname() } });
      const b = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's', lockIdentity: { pid: process.ppid, hostname: hostname() } });
      writeFileSync(`${a.path}.lock`, String(dead)); // left by a kill -9
      const results = await Promise.allSettled([a.open(), b.open()]);
      const won = results.filter((r) => r.status === 'fulfilled').length;
      if (won === 2) bothWon++;
      if (won === 0) noneWon++;
      for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(ConfigurationError);
      await Promise.all([a.close(), b.close()]);
    }
    expect(bothWon).toBe(0);
    expect(noneWon).toBe(0);
  });

  it('does not take a lock held by pid 1 of another host (a second container on the same volume), and names it', async () => {
    const directory = dir();
    const other = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's', lockIdentity: { pid: 1, hostname: 'container-a' } });
    await other.open();
    const me = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's', lockIdentity: { pid: 1, hostname: 'container-b' } });
    await expect(me.open()).rejects.toThrow(/in use by process 1 on container-a.*remove .*\.lock if it is gone/);
    await other.close();
    expect(existsSync(`${other.path}.lock`)).toBe(false);
    await me.open();
    expect(JSON.parse(readFileSync(`${me.path}.lock`, 'utf8'))).toMatchObject({ pid: 1, hostname: 'container-b' });
    await me.close();
  });

  it('takes over a lock with our own pid that is not ours (a restarted container whose process is pid 1 again)', async () => {
    const directory = dir();
    const first = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's', lockIdentity: { pid: 1, hostname: 'box' } });
    writeFileSync(`${first.path}.lock`, JSON.stringify({ pid: 1, hostname: 'box', token: 'left-by-the-previous-run' }));
    await first.open();
    // A live lock of this process is never taken over, even with the same pid.
    const second = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's', lockIdentity: { pid: 1, hostname: 'box' } });
    await expect(second.open()).rejects.toThrow(ConfigurationError);
    await first.close();
  });
});
