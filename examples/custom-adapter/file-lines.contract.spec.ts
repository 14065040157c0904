import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describeRecordSourceContract } from 'shardline/testing';
import { FileLinesSource, shardIdOf } from './file-lines-source';

/** The example adapter passes the RecordSource conformance kit (following its files, so shards never end). */
describeRecordSourceContract(
  'file-lines (example plug-in)',
  async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'file-lines-'));
    const files = ['a.log', 'b.log'].map((name) => path.join(dir, name));
    for (const file of files) await writeFile(file, '');
    const checkpointFile = path.join(dir, 'checkpoints.json');
    const byShard = new Map(files.map((file) => [shardIdOf(file), file]));
    return {
      shardIds: [...byShard.keys()],
      createSource: () => new FileLinesSource({ files, checkpointFile, follow: true, pollIntervalMs: 20, maxBatchLines: 100, streamName: 'lines' }),
      put: (shardId, payloads) => appendFile(byShard.get(shardId) ?? '', payloads.map((line) => `${line}\n`).join('')),
      storedCheckpoint: async (shardId) => {
        const stored = await readFile(checkpointFile, 'utf8').then((text) => (JSON.parse(text) as Record<string, unknown>)[shardId], () => undefined);
        return typeof stored === 'number' || typeof stored === 'string' ? String(stored) : undefined;
      },
      dispose: () => rm(dir, { recursive: true, force: true }),
    };
  },
  {
    unsupported: {
      shardEnd: 'a followed file never ends (without follow, each file ends once read, before the kit could append to it)',
      completion: 'a followed file never runs out',
    },
    quietMs: 300,
    deliveryTimeoutMs: 5_000,
  },
);
