import { secretMask } from '../core/secret-mask';
import { type AppRef, type MetricsRecorder, type ShardCloseReason, type ShardRef } from './metrics-recorder';
import { type ApplicationStatus, type LagSample, type ReadinessResult, type ShardState, type ShardStatus, type StatusSnapshot } from './status-snapshot';

/** Options of {@link ShardStatusBoard}. */
export interface ShardStatusBoardOptions {
  /** `/readyz` fails while the largest lag of an open shard is above this. Default: lag does not affect readiness. */
  readonly readyMaxLagMs?: number;
  /** How often the lag chart takes a sample. Default 5,000. */
  readonly lagSampleIntervalMs?: number;
  /** How many samples the chart keeps. Default 120 (10 minutes at the default interval). */
  readonly lagSamples?: number;
  /** The window of the records/s rate. Default 60,000. */
  readonly rateWindowMs?: number;
  /** The clock. Default `Date.now`. */
  readonly now?: () => number;
}

interface ShardEntry {
  state: ShardState;
  closedReason?: string;
  checkpoint?: string;
  millisBehindLatest?: number;
  recordsTotal: number;
  /** [time, records] of recent batches, oldest first, within the rate window. */
  recent: Array<[number, number]>;
  lastBatchAt?: number;
  lastError?: { message: string; at: number };
}

interface AppEntry {
  readonly app: AppRef;
  source: string;
  stopping: boolean;
  readonly shards: Map<string, ShardEntry>;
  readonly lag: LagSample[];
}

/**
 * What this process knows about its shards, for people and orchestrators: the status page and `/status.json`
 * (position, lag, records/s, last error per shard, a lag history) and `/readyz` (ready while no shard is stopped, the
 * app is not stopping and lag is under the threshold).
 */
export class ShardStatusBoard implements MetricsRecorder {
  private readonly apps = new Map<string, AppEntry>();
  private readonly now: () => number;
  private readonly rateWindowMs: number;
  private readonly maxSamples: number;
  private readonly sampler: NodeJS.Timeout;

  constructor(private readonly options: ShardStatusBoardOptions = {}) {
    this.now = options.now ?? Date.now;
    this.rateWindowMs = options.rateWindowMs ?? 60_000;
    this.maxSamples = options.lagSamples ?? 120;
    this.sampler = setInterval(() => this.sampleLag(), options.lagSampleIntervalMs ?? 5_000);
    this.sampler.unref();
  }

  /** Stops the lag sampler. */
  close(): void {
    clearInterval(this.sampler);
  }

  applicationStarted(app: AppRef, source: string): void {
    const entry = this.appEntry(app);
    entry.source = source;
    entry.stopping = false;
  }

  applicationStopping(app: AppRef): void {
    this.appEntry(app).stopping = true;
  }

  shardOpened(shard: ShardRef): void {
    const entries = this.appEntry(shard).shards;
    const previous = entries.get(shard.shardId);
    entries.set(shard.shardId, { state: 'open', recordsTotal: 0, recent: [], ...(previous?.checkpoint !== undefined ? { checkpoint: previous.checkpoint } : {}) });
  }

  shardClosed(shard: ShardRef, reason: ShardCloseReason): void {
    const entry = this.shardEntry(shard);
    entry.state = 'closed';
    entry.closedReason = reason;
  }

  shardStopped(shard: ShardRef, error: Error): void {
    const entry = this.shardEntry(shard);
    entry.state = 'stopped';
    entry.lastError = { message: secretMask.maskText(error.message), at: this.now() };
  }

  batchReceived(shard: ShardRef, batch: { readonly records: number; readonly millisBehindLatest?: number }): void {
    const entry = this.shardEntry(shard);
    const now = this.now();
    entry.recordsTotal += batch.records;
    entry.lastBatchAt = now;
    entry.recent.push([now, batch.records]);
    this.trim(entry, now);
    if (batch.millisBehindLatest !== undefined) entry.millisBehindLatest = batch.millisBehindLatest;
  }

  lagObserved(shard: ShardRef, millisBehindLatest: number): void {
    this.shardEntry(shard).millisBehindLatest = millisBehindLatest;
  }

  checkpointWritten(shard: ShardRef, result: { readonly ok: boolean; readonly position: string }): void {
    if (result.ok) this.shardEntry(shard).checkpoint = result.position;
  }

  errorReported(app: AppRef, shardId: string | undefined, error: Error): void {
    if (shardId === undefined) return;
    this.shardEntry({ ...app, shardId }).lastError = { message: secretMask.maskText(error.message), at: this.now() };
  }

  /** The readiness verdict: one reason per failed check. */
  readiness(): ReadinessResult {
    const reasons: string[] = [];
    if (this.apps.size === 0) reasons.push('no consumer has started yet');
    for (const { app, stopping, shards } of this.apps.values()) {
      const name = `${app.application} (${app.stream})`;
      if (stopping) reasons.push(`${name} is shutting down`);
      for (const [shardId, entry] of shards) {
        if (entry.state === 'stopped') reasons.push(`${name}: shard ${shardId} stopped${entry.lastError ? `: ${entry.lastError.message}` : ''}`);
      }
      const threshold = this.options.readyMaxLagMs;
      const lag = maxOpenLag(shards);
      if (threshold !== undefined && lag !== undefined && lag > threshold) reasons.push(`${name}: ${lag} ms behind the latest record (over ${threshold} ms)`);
    }
    return { status: reasons.length === 0 ? 'ok' : 'error', reasons };
  }

  /** Everything the status page shows. */
  snapshot(): StatusSnapshot {
    const now = this.now();
    const applications: ApplicationStatus[] = [...this.apps.values()].map(({ app, source, shards, lag }) => ({
      application: app.application,
      stream: app.stream,
      source,
      lagHistory: [...lag],
      shards: [...shards].map(([shardId, entry]): ShardStatus => {
        this.trim(entry, now);
        const windowRecords = entry.recent.reduce((n, [, count]) => n + count, 0);
        return {
          shardId,
          state: entry.state,
          recordsTotal: entry.recordsTotal,
          recordsPerSecond: Math.round((windowRecords / (this.rateWindowMs / 1_000)) * 100) / 100,
          ...(entry.closedReason !== undefined ? { closedReason: entry.closedReason } : {}),
          ...(entry.checkpoint !== undefined ? { checkpoint: entry.checkpoint } : {}),
          ...(entry.millisBehindLatest !== undefined ? { millisBehindLatest: entry.millisBehindLatest } : {}),
          ...(entry.lastBatchAt !== undefined ? { lastBatchAt: new Date(entry.lastBatchAt).toISOString() } : {}),
          ...(entry.lastError !== undefined ? { lastError: { message: entry.lastError.message, at: new Date(entry.lastError.at).toISOString() } } : {}),
        };
      }),
    }));
    return { generatedAt: new Date(now).toISOString(), applications, ready: this.readiness() };
  }

  /** Takes one lag sample per application now (the timer does this every `lagSampleIntervalMs`). */
  sampleLag(): void {
    const t = this.now();
    for (const entry of this.apps.values()) {
      entry.lag.push({ t, maxMillisBehindLatest: maxOpenLag(entry.shards) ?? 0 });
      if (entry.lag.length > this.maxSamples) entry.lag.splice(0, entry.lag.length - this.maxSamples);
    }
  }

  private appEntry(app: AppRef): AppEntry {
    const key = `${app.application}\u0000${app.stream}`;
    let entry = this.apps.get(key);
    if (entry === undefined) {
      entry = { app: { application: app.application, stream: app.stream }, source: 'unknown', stopping: false, shards: new Map(), lag: [] };
      this.apps.set(key, entry);
    }
    return entry;
  }

  private shardEntry(shard: ShardRef): ShardEntry {
    const shards = this.appEntry(shard).shards;
    let entry = shards.get(shard.shardId);
    if (entry === undefined) {
      entry = { state: 'open', recordsTotal: 0, recent: [] };
      shards.set(shard.shardId, entry);
    }
    return entry;
  }

  private trim(entry: ShardEntry, now: number): void {
    const from = now - this.rateWindowMs;
    let drop = 0;
    while (drop < entry.recent.length && entry.recent[drop]![0] < from) drop++;
    if (drop > 0) entry.recent.splice(0, drop);
  }
}

function maxOpenLag(shards: ReadonlyMap<string, ShardEntry>): number | undefined {
  let max: number | undefined;
  for (const entry of shards.values()) {
    if (entry.state !== 'open' || entry.millisBehindLatest === undefined) continue;
    max = Math.max(max ?? 0, entry.millisBehindLatest);
  }
  return max;
}
