/** Log levels, most severe first. */
export type LogLevel = 'error' | 'warn' | 'info' | 'debug' | 'trace';

/** Where and how shardline logs. stdout is never used unless `destination` says so: in KCL mode it belongs to the protocol. */
export interface LogOptions {
  /** Lowest level written. Default `info`. */
  readonly level?: LogLevel;
  /** `text` (the seed's `INFO [2017-03-05 03:35:23 UTC] shardId-000000000000 Received 2 records`) or `json` lines. Default `text`. */
  readonly format?: 'text' | 'json';
  /** Append log lines to this file (several shard processes may share one file: each line carries its shard id). */
  readonly file?: string;
  /** Also write to a stream: `stderr` (default when no file is given), `stdout` (never in KCL mode), or `none`. */
  readonly destination?: 'stderr' | 'stdout' | 'none';
}

export const LOG_LEVELS: readonly LogLevel[] = ['error', 'warn', 'info', 'debug', 'trace'];
