import { mkdir, open, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { type CheckpointPosition } from '../core/checkpoint-position';
import { CheckpointError, ConfigurationError } from '../core/errors';
import { type CheckpointStore, type LeaseRequest, type StoredShard } from './checkpoint-store';

/** Options of {@link FileCheckpointStore}. */
export interface FileCheckpointStoreOptions {
  /** The folder holding one JSON file per application and stream. Default `.shardline/checkpoints`. */
  readonly directory?: string;
  readonly applicationName: string;
  /** The stream's name or ARN (an ARN is reduced to its name for the file name). */
  readonly streamName: string;
}

/** The folder used when none is given. */
export const DEFAULT_CHECKPOINT_DIRECTORY = '.shardline/checkpoints';

interface FileShardEntry {
  checkpoint?: string;
  checkpointSubSequenceNumber?: number;
  parentShardIds: string[];
  childShardIds: string[];
  updatedAt: string;
}

interface FileContent {
  version: 1;
  applicationName: string;
  streamName: string;
  shards: Record<string, FileShardEntry>;
}

/**
 * Checkpoints in a JSON file, one per application and stream (`<directory>/<app>--<stream>.json`). Every write
 * goes to a temporary file that is fsynced and then renamed over the old one (and the folder is fsynced), so a
 * `kill -9` or a power cut leaves either the old or the new file, never a torn one. A lock file holding the process
 * id keeps a second live process away; a stale lock (its process is gone) is taken over.
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly description: string;
  /** The checkpoint file's path. */
  readonly path: string;
  private readonly lockPath: string;
  private content: FileContent;
  private writeChain: Promise<void> = Promise.resolve();
  private opened = false;

  constructor(private readonly options: FileCheckpointStoreOptions) {
    const directory = options.directory ?? DEFAULT_CHECKPOINT_DIRECTORY;
    this.path = join(directory, checkpointFileName(options.applicationName, options.streamName));
    this.lockPath = `${this.path}.lock`;
    this.description = `file:${this.path}`;
    this.content = { version: 1, applicationName: options.applicationName, streamName: options.streamName, shards: {} };
  }

  async open(): Promise<void> {
    if (this.opened) return;
    try {
      await mkdir(dirname(this.path), { recursive: true });
    } catch (error) {
      throw new ConfigurationError(`cannot create the checkpoint folder ${dirname(this.path)}: ${(error as Error).message}; pick another with --checkpoints file:PATH`, { cause: error });
    }
    await this.lock();
    this.content = await this.read();
    this.opened = true;
  }

  /** Every shard in the file. Before {@link open} it reads the file without taking the lock (for `shardline lag`). */
  async list(): Promise<readonly StoredShard[]> {
    if (!this.opened) this.content = await this.read();
    return Object.keys(this.content.shards).map((id) => this.toStored(id));
  }

  async acquire(request: LeaseRequest): Promise<StoredShard> {
    const entry = this.content.shards[request.shardId];
    if (entry === undefined) {
      this.content.shards[request.shardId] = {
        parentShardIds: [...request.parentShardIds],
        childShardIds: [],
        updatedAt: new Date().toISOString(),
      };
      await this.persist(request.shardId);
    }
    return this.toStored(request.shardId);
  }

  async checkpoint(shardId: string, position: CheckpointPosition, childShardIds?: readonly string[]): Promise<void> {
    const entry = this.content.shards[shardId] ?? { parentShardIds: [], childShardIds: [], updatedAt: '' };
    entry.checkpoint = position.sequenceNumber;
    entry.checkpointSubSequenceNumber = position.subSequenceNumber;
    if (childShardIds !== undefined && childShardIds.length > 0) entry.childShardIds = [...childShardIds];
    entry.updatedAt = new Date().toISOString();
    this.content.shards[shardId] = entry;
    await this.persist(shardId);
  }

  release(): Promise<void> {
    return Promise.resolve();
  }

  async close(): Promise<void> {
    if (!this.opened) return;
    this.opened = false;
    await this.writeChain;
    await rm(this.lockPath, { force: true });
  }

  private toStored(shardId: string): StoredShard {
    const entry = this.content.shards[shardId];
    if (entry === undefined) return { shardId, checkpoint: undefined, parentShardIds: [], childShardIds: [] };
    return {
      shardId,
      checkpoint:
        entry.checkpoint === undefined ? undefined : { sequenceNumber: entry.checkpoint, subSequenceNumber: entry.checkpointSubSequenceNumber ?? 0 },
      parentShardIds: entry.parentShardIds,
      childShardIds: entry.childShardIds,
      updatedAt: new Date(entry.updatedAt),
    };
  }

  /** Writes the whole file atomically; writes are queued so the file always holds the latest state. */
  private persist(shardId: string): Promise<void> {
    const run = async (): Promise<void> => {
      const text = `${JSON.stringify(this.content, null, 2)}\n`;
      const temporary = `${this.path}.${process.pid}.tmp`;
      try {
        const handle = await open(temporary, 'w');
        try {
          await handle.writeFile(text, 'utf8');
          await handle.sync();
        } finally {
          await handle.close();
        }
        await rename(temporary, this.path);
        await syncDirectory(dirname(this.path));
      } catch (error) {
        throw new CheckpointError(`cannot write the checkpoint file ${this.path}: ${(error as Error).message}; check the disk and the folder's permissions`, {
          cause: error,
          shardId,
        });
      }
    };
    const next = this.writeChain.then(run, run);
    this.writeChain = next.catch(() => undefined);
    return next;
  }

  private async read(): Promise<FileContent> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.content;
      throw new ConfigurationError(`cannot read the checkpoint file ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    try {
      const parsed = JSON.parse(text) as FileContent;
      if (parsed.version !== 1 || typeof parsed.shards !== 'object' || parsed.shards === null) throw new Error('unknown layout');
      return parsed;
    } catch (error) {
      throw new ConfigurationError(
        `the checkpoint file ${this.path} is not a shardline checkpoint file (${(error as Error).message}); move it away to start from the initial position`,
        { cause: error },
      );
    }
  }

  private async lock(): Promise<void> {
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        await writeFile(this.lockPath, String(process.pid), { flag: 'wx' });
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ConfigurationError(`cannot create the lock file ${this.lockPath}: ${(error as Error).message}`, { cause: error });
        }
      }
      const owner = Number((await readFile(this.lockPath, 'utf8').catch(() => '')).trim());
      if (Number.isInteger(owner) && owner > 0 && owner !== process.pid && isAlive(owner)) {
        throw new ConfigurationError(
          `the checkpoints ${this.path} are in use by process ${owner}; stop it first (one polling process per application and stream)`,
        );
      }
      await rm(this.lockPath, { force: true }); // stale: its process is gone (kill -9)
    }
    throw new ConfigurationError(`cannot take the lock file ${this.lockPath}; remove it if no shardline process is running`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

async function syncDirectory(directory: string): Promise<void> {
  try {
    const handle = await open(directory, 'r');
    try {
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch {
    // Some platforms cannot fsync a folder; the rename is still atomic.
  }
}

/** The file of one application and stream: `<app>--<stream>.json` (other characters than letters, digits, `_.-` become `_`). */
export function checkpointFileName(applicationName: string, streamName: string): string {
  return `${safeName(applicationName)}--${safeName(streamNameOf(streamName))}.json`;
}

/** `arn:aws:kinesis:us-east-1:123:stream/orders` → `orders`. */
export function streamNameOf(streamNameOrArn: string): string {
  return streamNameOrArn.startsWith('arn:') ? basename(streamNameOrArn.split('/').slice(1).join('/') || streamNameOrArn) : streamNameOrArn;
}

function safeName(name: string): string {
  return name.replace(/[^a-zA-Z0-9_.-]/g, '_');
}
