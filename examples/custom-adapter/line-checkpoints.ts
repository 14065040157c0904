import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

/** What is stored per shard: the number of the last line handled, or `SHARD_END` once the whole file was. */
export type LineCheckpoint = number | 'SHARD_END';

/**
 * The file-lines adapter's checkpoint store: one JSON file mapping shard ids to checkpoints, rewritten whole on every
 * checkpoint (written to a temporary file, then renamed over the old one, so a crash never leaves half a file).
 */
export class LineCheckpoints {
  private writing: Promise<void> = Promise.resolve();

  constructor(readonly file: string) {}

  async read(shardId: string): Promise<LineCheckpoint | undefined> {
    return (await this.readAll())[shardId];
  }

  /** Stores a shard's checkpoint; writes are queued so that two shards never overwrite each other's. */
  write(shardId: string, checkpoint: LineCheckpoint): Promise<void> {
    const next = this.writing.then(async () => {
      const all = { ...(await this.readAll()), [shardId]: checkpoint };
      await mkdir(path.dirname(this.file), { recursive: true });
      const temporary = `${this.file}.${process.pid}.tmp`;
      await writeFile(temporary, `${JSON.stringify(all, null, 2)}\n`);
      await rename(temporary, this.file);
    });
    this.writing = next.catch(() => undefined);
    return next;
  }

  private async readAll(): Promise<Record<string, LineCheckpoint>> {
    try {
      return JSON.parse(await readFile(this.file, 'utf8')) as Record<string, LineCheckpoint>;
    } catch (error) {
      if ((error as { code?: unknown }).code === 'ENOENT') return {};
      throw error;
    }
  }
}
