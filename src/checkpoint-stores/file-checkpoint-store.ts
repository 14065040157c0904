import { randomUUID } from 'node:crypto';
import { mkdir, open, readFile, readlink, rename, rm, stat, utimes, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
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
  /** Who this process is in the lock file. Default: the real pid, hostname and pid namespace (tests pass others). */
  readonly lockIdentity?: { readonly pid: number; readonly hostname: string; readonly pidNamespace?: string };
  /**
   * A lock whose holder has not refreshed it for this long is stale, whoever holds it (the holder refreshes it every
   * 5 s). Default 30,000.
   */
  readonly lockStaleAfterMs?: number;
}

/** The folder used when none is given. */
export const DEFAULT_CHECKPOINT_DIRECTORY = '.shardline/checkpoints';

interface FileShardEntry {
  checkpoint?: string;
  checkpointSubSequenceNumber?: number;
  parentShardIds: string[];
  childShardIds: string[];
  updatedAt: string;
  /** ISO time: where a shard without checkpoint that started at LATEST reopens (AT_TIMESTAMP). */
  latestStartedAt?: string;
}

interface FileContent {
  version: 1;
  applicationName: string;
  streamName: string;
  shards: Record<string, FileShardEntry>;
}

/** Said when a second process finds the lock: the file store is for one process, and how to run several. */
const SINGLE_PROCESS =
  'polling with a file store is one process per application and stream; to share a stream between processes use --checkpoints dynamodb:TABLE (a lease table) or --adapter kcl';

/**
 * Checkpoints in a JSON file, one per application and stream (`<directory>/<app>--<stream>.json`). Every write
 * goes to a temporary file that is fsynced and then renamed over the old one (and the folder is fsynced), so a
 * `kill -9` or a power cut leaves either the old or the new file, never a torn one. A lock file naming the holder
 * (pid, hostname, boot id and a random token) keeps a second live process away, also one in another container on the
 * same volume; a stale lock (its process is gone) is taken over by exactly one process (see `takeOverStale`).
 */
export class FileCheckpointStore implements CheckpointStore {
  readonly description: string;
  /** The checkpoint file's path. */
  readonly path: string;
  private readonly lockPath: string;
  private content: FileContent;
  private writeChain: Promise<void> = Promise.resolve();
  /** The next write, queued behind the one running: later changes join it. */
  private pendingWrite: Promise<void> | undefined;
  private opened = false;
  private readonly identity: { readonly pid: number; readonly hostname: string; readonly pidNamespace?: string };
  private lockToken: string | undefined;
  private heartbeat: NodeJS.Timeout | undefined;

  constructor(private readonly options: FileCheckpointStoreOptions) {
    const directory = options.directory ?? DEFAULT_CHECKPOINT_DIRECTORY;
    this.path = join(directory, checkpointFileName(options.applicationName, options.streamName));
    this.lockPath = `${this.path}.lock`;
    this.description = `file:${this.path}`;
    this.identity = options.lockIdentity ?? { pid: process.pid, hostname: hostname() };
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

  async rememberLatestStart(shardId: string, at: Date): Promise<void> {
    const entry = this.content.shards[shardId] ?? { parentShardIds: [], childShardIds: [], updatedAt: '' };
    entry.latestStartedAt = at.toISOString();
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
    const held = await readFile(this.lockPath, 'utf8').catch(() => undefined);
    // Remove the lock only if it is still ours (never another process's lock).
    clearInterval(this.heartbeat);
    this.heartbeat = undefined;
    if (held !== undefined && parseLockOwner(held)?.token === this.lockToken) await rm(this.lockPath, { force: true });
    if (this.lockToken !== undefined) HELD_TOKENS.delete(this.lockToken);
    this.lockToken = undefined;
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
      ...(entry.latestStartedAt === undefined ? {} : { latestStartedAt: new Date(entry.latestStartedAt) }),
    };
  }

  /**
   * Writes the whole file atomically. One write runs at a time; the changes made while it runs are written together
   * by the next one (each caller's promise settles when a write that includes its change is on disk), so a process
   * checkpointing many shards makes one write per disk round trip, not one per checkpoint.
   */
  private persist(shardId: string): Promise<void> {
    let pending = this.pendingWrite;
    if (pending === undefined) {
      const run = (): Promise<void> => {
        this.pendingWrite = undefined; // changes made from now on go into the next write
        return this.writeFile();
      };
      pending = this.writeChain.then(run, run);
      this.pendingWrite = pending;
      this.writeChain = pending.catch(() => undefined);
    }
    return pending.catch((error: unknown) => {
      throw new CheckpointError(`cannot write the checkpoint file ${this.path}: ${(error as Error).message}; check the disk and the folder's permissions`, {
        cause: error,
        shardId,
      });
    });
  }

  /** The file's content now, to a temporary file that is fsynced, renamed over the file, and the folder fsynced. */
  private async writeFile(): Promise<void> {
    const text = `${JSON.stringify(this.content, null, 2)}\n`;
    const temporary = `${this.path}.${process.pid}.tmp`;
    const handle = await open(temporary, 'w');
    try {
      await handle.writeFile(text, 'utf8');
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, this.path);
    await syncDirectory(dirname(this.path));
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
    const token = randomUUID();
    const pidNamespace = this.identity.pidNamespace ?? (await currentPidNamespace());
    const mine: LockOwner = { pid: this.identity.pid, hostname: this.identity.hostname, bootId: await bootId(), token, ...(pidNamespace !== undefined ? { pidNamespace } : {}) };
    const staleAfterMs = this.options.lockStaleAfterMs ?? LOCK_STALE_AFTER_MS;
    for (let attempt = 0; attempt < 3; attempt++) {
      try {
        await writeFile(this.lockPath, JSON.stringify(mine), { flag: 'wx' });
        this.lockToken = token;
        HELD_TOKENS.add(token);
        // The heartbeat: a live holder keeps the lock's time fresh, so that a process that cannot check our pid
        // (another host, another container's pid namespace) can still tell a live lock from one left by a crash.
        const lockPath = this.lockPath;
        this.heartbeat = setInterval(() => {
          const now = new Date();
          utimes(lockPath, now, now).catch(() => undefined);
        }, Math.min(LOCK_HEARTBEAT_MS, Math.max(50, Math.floor(staleAfterMs / 3))));
        this.heartbeat.unref();
        return;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') {
          throw new ConfigurationError(`cannot create the lock file ${this.lockPath}: ${(error as Error).message}`, { cause: error });
        }
      }
      const seen = await readFile(this.lockPath, 'utf8').catch(() => undefined);
      if (seen === undefined) continue; // removed meanwhile: try again
      const owner = parseLockOwner(seen);
      const heartbeatAgeMs = await stat(this.lockPath).then((st) => Date.now() - st.mtimeMs).catch(() => 0);
      const verdict = lockVerdict(owner, mine, heartbeatAgeMs, staleAfterMs);
      if (verdict !== 'stale') {
        const age = Math.max(0, Math.round(heartbeatAgeMs / 1_000));
        throw new ConfigurationError(
          `the checkpoints ${this.path} are in use by process ${owner?.pid ?? '?'}${owner?.hostname ? ` on ${owner.hostname}` : ''}` +
            (verdict === 'foreign'
              ? ` (its last heartbeat was ${age} s ago; a lock with no heartbeat for ${Math.round(staleAfterMs / 1_000)} s is taken over): stop it first, or start again once it is gone; ${SINGLE_PROCESS}`
              : `; stop it first (${SINGLE_PROCESS})`),
        );
      }
      await this.takeOverStale(seen);
    }
    throw new ConfigurationError(`cannot take the lock file ${this.lockPath}; remove it if no shardline process is running`);
  }

  /**
   * Removes a stale lock (its process is gone: kill -9), so that only one of several processes doing the same at
   * once can then create its own. The removal happens under a second lock file taken with O_EXCL, and only if the lock
   * still holds what was judged stale: a process that judged the same stale lock a moment later finds the winner's
   * new lock instead and leaves it alone.
   */
  private async takeOverStale(seen: string): Promise<void> {
    const mutex = `${this.lockPath}.takeover`;
    try {
      await writeFile(mutex, String(this.identity.pid), { flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw new ConfigurationError(`cannot create ${mutex}: ${(error as Error).message}`, { cause: error });
      // Another process is taking over right now; a takeover left behind by a crash is cleared after a while.
      const age = await stat(mutex).then((s) => Date.now() - s.mtimeMs).catch(() => 0);
      if (age > STALE_TAKEOVER_MS) await rm(mutex, { force: true });
      return;
    }
    try {
      const current = await readFile(this.lockPath, 'utf8').catch(() => undefined);
      if (current === seen) await rm(this.lockPath, { force: true });
    } finally {
      await rm(mutex, { force: true });
    }
  }
}

/** Who holds a lock file: process id, host name, kernel boot id and a random token (pid alone is no identity across containers). */
interface LockOwner {
  readonly pid: number;
  readonly hostname?: string;
  readonly bootId?: string;
  readonly token?: string;
  /** The holder's pid namespace: two containers on one host have different ones, so their pids cannot be compared. */
  readonly pidNamespace?: string;
}

/** How often a holder refreshes its lock's modification time. */
const LOCK_HEARTBEAT_MS = 5_000;
/** A lock not refreshed for this long is stale. */
const LOCK_STALE_AFTER_MS = 30_000;

/** A takeover lock older than this was left by a crash during a takeover. */
const STALE_TAKEOVER_MS = 10_000;

/** Tokens of the locks this process holds (to tell our own live locks from a dead process that had our pid). */
const HELD_TOKENS = new Set<string>();

/** Reads a lock file: JSON, or a bare process id (written by earlier versions). */
function parseLockOwner(text: string): LockOwner | undefined {
  const trimmed = text.trim();
  if (/^\d+$/.test(trimmed)) return { pid: Number(trimmed) };
  try {
    const parsed = JSON.parse(trimmed) as Partial<LockOwner>;
    return typeof parsed.pid === 'number' ? (parsed as LockOwner) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * `held`: a live process holds the lock; `foreign`: a process on another host (or container) holds it and its
 * liveness cannot be checked from here; `stale`: its process is gone.
 */
export function lockVerdict(owner: LockOwner | undefined, me: LockOwner, heartbeatAgeMs = 0, staleAfterMs = LOCK_STALE_AFTER_MS): 'held' | 'foreign' | 'stale' {
  if (owner === undefined || !Number.isInteger(owner.pid) || owner.pid <= 0) return 'stale'; // unreadable: a torn write of a dead process
  const sameHost = owner.hostname === undefined || owner.hostname === me.hostname;
  if (!sameHost) return heartbeatAgeMs > staleAfterMs ? 'stale' : 'foreign';
  if (owner.token !== undefined && HELD_TOKENS.has(owner.token)) return 'held';
  if (heartbeatAgeMs > staleAfterMs) return 'stale'; // nobody refreshed it: its holder is gone
  if (owner.bootId !== undefined && me.bootId !== undefined && owner.bootId !== me.bootId) return 'stale'; // written before a reboot
  // A pid says something only inside one pid namespace: same host, same boot and the same namespace (or a lock of an
  // earlier version, which named the pid alone). Another container on this host, even one with the same hostname
  // and pid 1, has another namespace: only the heartbeat can tell, and it is fresh.
  const samePidNamespace = owner.hostname === undefined || (owner.pidNamespace !== undefined && owner.pidNamespace === me.pidNamespace);
  if (!samePidNamespace) return 'foreign';
  if (owner.pid === me.pid) return 'stale'; // our pid in our namespace, but not one of our locks: a previous process
  return isAlive(owner.pid) ? 'held' : 'stale';
}

/** The pid namespace of this process (`pid:[4026531836]`), or undefined where /proc does not say. */
async function currentPidNamespace(): Promise<string | undefined> {
  return readlink('/proc/self/ns/pid').catch(() => undefined);
}

async function bootId(): Promise<string | undefined> {
  return (await readFile('/proc/sys/kernel/random/boot_id', 'utf8').catch(() => '')).trim() || undefined;
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
