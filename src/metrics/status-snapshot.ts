/**
 * What the status page (`GET /`) and `GET /status.json` show: the state of every shard this process has seen, and
 * the maximum lag over the last minutes. Plain data, JSON-serialisable.
 */
export interface StatusSnapshot {
  /** ISO time the snapshot was taken. */
  readonly generatedAt: string;
  /** Consumers (applications) running in this process. */
  readonly applications: readonly ApplicationStatus[];
  /** Whether `/readyz` answers ready, and why not. */
  readonly ready: ReadinessResult;
}

/** One consumer class running on one stream. */
export interface ApplicationStatus {
  readonly application: string;
  readonly stream: string;
  /** The adapter: `polling`, `kcl`, `memory`, … */
  readonly source: string;
  readonly shards: readonly ShardStatus[];
  /** Max `millisBehindLatest` over the open shards, sampled every few seconds, oldest first (at most ~10 minutes). */
  readonly lagHistory: readonly LagSample[];
}

/** Where a shard is in its life: `open` (reading), `closed` (ended, lease lost or handed back), `stopped` (failed past its error policy). */
export type ShardState = 'open' | 'closed' | 'stopped';

/** One shard as this process sees it. */
export interface ShardStatus {
  readonly shardId: string;
  readonly state: ShardState;
  /** Why it closed (`shardEnded`, `leaseLost`, `shutdownRequested`) when closed. */
  readonly closedReason?: string;
  /** Last checkpoint written by this process (`sequenceNumber` or `sequenceNumber/subSequenceNumber`). */
  readonly checkpoint?: string;
  /** Last `millisBehindLatest` the adapter reported (0 = caught up). */
  readonly millisBehindLatest?: number;
  /** Records handled per second over the last minute. */
  readonly recordsPerSecond: number;
  /** Records received since the shard opened in this process. */
  readonly recordsTotal: number;
  /** ISO time of the last batch received. */
  readonly lastBatchAt?: string;
  /** The last error on this shard (masked), with its time. */
  readonly lastError?: { readonly message: string; readonly at: string };
}

/** One point of the lag chart. */
export interface LagSample {
  /** Milliseconds since the epoch. */
  readonly t: number;
  /** Max millisBehindLatest over the open shards at that time. */
  readonly maxMillisBehindLatest: number;
}

/** The verdict of `/readyz`. */
export interface ReadinessResult {
  readonly status: 'ok' | 'error';
  /** One line per failed check, e.g. `shard shardId-000000000001 stopped: …`; empty when ready. */
  readonly reasons: readonly string[];
}
