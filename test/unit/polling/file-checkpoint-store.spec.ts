import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ConfigurationError } from '../../../src/core/errors';

/** The module object the store calls into (an `import * as` copy would not see a spy). */
const fsPromises = jest.requireActual<typeof import('node:fs/promises')>('node:fs/promises');

const dir = (): string => mkdtempSync(join(tmpdir(), 'shardline-file-store-'));

describe('FileCheckpointStore', () => {
  it('keeps one file per application and stream, written atomically, and reads it back after a restart', async () => {
    const directory = dir();
    const store = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 'arn:aws:kinesis:us-east-1:1:stream/orders' });
    expect(store.path).toBe(join(directory, 'app--orders.json'));
    await store.open();
    await store.acquire({ shardId: 'shardId-000000000001', parentShardIds: ['shardId-000000000000'], initialCheckpoint: 'TRIM_HORIZON' });
    await store.checkpoint('shardId-000000000001', { sequenceNumber: '123', subSequenceNumber: 2 });
    await store.checkpoint('shardId-000000000000', { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 }, ['shardId-000000000001']);
    await store.close();
    expect(readdirSync(directory).sort()).toEqual(['app--orders.json']); // no temporary file, lock released
    const again = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 'orders' });
    await again.open();
    const shards = await again.list();
    expect(shards.find((s) => s.shardId === 'shardId-000000000001')).toMatchObject({
      checkpoint: { sequenceNumber: '123', subSequenceNumber: 2 },
      parentShardIds: ['shardId-000000000000'],
    });
    expect(shards.find((s) => s.shardId === 'shardId-000000000000')).toMatchObject({ checkpoint: { sequenceNumber: 'SHARD_END' }, childShardIds: ['shardId-000000000001'] });
    await again.close();
  });

  it('refuses a second live process, and takes over the lock of a dead one (kill -9)', async () => {
    const directory = dir();
    const first = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's' });
    await first.open();
    const lock = `${first.path}.lock`;
    writeFileSync(lock, String(process.ppid)); // a live process that is not us
    const second = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's' });
    await expect(second.open()).rejects.toThrow(ConfigurationError);
    await expect(second.open()).rejects.toThrow(/in use by process/);
    const dead = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
    writeFileSync(lock, dead.stdout);
    await second.open();
    expect(JSON.parse(readFileSync(lock, 'utf8'))).toMatchObject({ pid: process.pid, hostname: hostname() });
    await second.close();
    expect(existsSync(lock)).toBe(false);
  });

  it('writes the checkpoints queued behind a running write together, and each settles only once it is on disk', async () => {
    const directory = dir();
    const store = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's' });
    await store.open();
    const renames = jest.spyOn(fsPromises, 'rename');
    try {
      const settledOnDisk: boolean[] = [];
      const shardIds = Array.from({ length: 50 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
      await Promise.all(
        shardIds.map(async (shardId, i) => {
          await store.checkpoint(shardId, { sequenceNumber: String(1000 + i), subSequenceNumber: 0 });
          const onDisk = JSON.parse(readFileSync(store.path, 'utf8')) as { shards: Record<string, { checkpoint?: string }> };
          settledOnDisk.push(onDisk.shards[shardId]?.checkpoint === String(1000 + i));
        }),
      );
      expect(settledOnDisk).toEqual(shardIds.map(() => true));
      // The first checkpoint's write starts at once; the 49 made meanwhile share the next one (one per disk round trip).
      expect(renames.mock.calls.length).toBeGreaterThanOrEqual(1);
      expect(renames.mock.calls.length).toBeLessThanOrEqual(3);
      await store.checkpoint(shardIds[0] as string, { sequenceNumber: '5000', subSequenceNumber: 0 });
      expect(JSON.parse(readFileSync(store.path, 'utf8')).shards[shardIds[0] as string].checkpoint).toBe('5000');
    } finally {
      renames.mockRestore();
      await store.close();
    }
  });

  it('fails every checkpoint that shared a failed write, naming its own shard', async () => {
    const directory = dir();
    const store = new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's' });
    await store.open();
    const renames = jest.spyOn(fsPromises, 'rename').mockRejectedValue(new Error('EIO: disk gone'));
    try {
      const results = await Promise.allSettled(['shardId-a', 'shardId-b', 'shardId-c'].map((id) => store.checkpoint(id, { sequenceNumber: '1', subSequenceNumber: 0 })));
      expect(results.map((r) => (r.status === 'rejected' ? [(r.reason as { shardId?: string }).shardId, (r.reason as Error).message] : 'fulfilled'))).toEqual(
        ['shardId-a', 'shardId-b', 'shardId-c'].map((id): unknown[] => [id, expect.stringMatching(/cannot write the checkpoint file .*EIO: disk gone; check the disk/) as unknown]),
      );
      renames.mockRestore();
      await store.checkpoint('shardId-a', { sequenceNumber: '2', subSequenceNumber: 0 }); // the next write works again
      expect(JSON.parse(readFileSync(store.path, 'utf8')).shards['shardId-a'].checkpoint).toBe('2');
    } finally {
      renames.mockRestore();
      await store.close();
    }
  });

  it('says what to do with a file that is not a checkpoint file', async () => {
    const directory = dir();
    writeFileSync(join(directory, 'app--s.json'), 'not json');
    await expect(new FileCheckpointStore({ directory, applicationName: 'app', streamName: 's' }).open()).rejects.toThrow(/move it away/);
  });
});
