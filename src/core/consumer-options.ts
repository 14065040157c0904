import { parseDuration, type Duration } from './duration';
import { LOG_LEVELS, type LogOptions } from './log-options';

/**
 * When a consumer checkpoints:
 * - `'batch'` (default): after every batch whose handler succeeded;
 * - `{ everyRecords: N }`: once at least N records were handled since the last checkpoint;
 * - `{ every: '5m' }` or `{ everyMs: 300000 }`: once that long has passed since the last checkpoint (checked after
 *   each batch and on a timer while the shard is idle);
 * - `'manual'`: only when the consumer calls the injected {@link ShardCheckpointer};
 * - `'never'`.
 * Whatever the policy, a checkpoint never goes past a record whose handler failed.
 */
export type CheckpointPolicyOption =
  | 'batch'
  | 'manual'
  | 'never'
  | { readonly everyRecords: number }
  | { readonly everyMs: number }
  | { readonly every: Duration };

/** The normalised checkpoint policy. */
export type CheckpointPolicy =
  | { readonly kind: 'batch' }
  | { readonly kind: 'manual' }
  | { readonly kind: 'never' }
  | { readonly kind: 'records'; readonly everyRecords: number }
  | { readonly kind: 'interval'; readonly everyMs: number };

/** What happens to a batch whose handler still fails after every retry. */
export type FailureAction = 'stop' | 'skip' | 'dead-letter';

/** Retry and failure handling for a failing `@OnRecords` handler. */
export interface ErrorPolicyOptions {
  /** Retries after the first failure. Default 3. */
  readonly maxRetries?: number;
  /** Delay before the first retry; doubles each time. Default 200. */
  readonly initialBackoffMs?: number;
  /** Upper bound of the delay between retries. Default 10,000. */
  readonly maxBackoffMs?: number;
  /**
   * After the last retry: `stop` the shard, checkpointed only up to the record before the failing one (default; the
   * rest is read again after a restart, and the app stops: `done` rejects with a `ShardStoppedError`), `skip` the
   * failed records and log them, or hand them to the `@OnDeadLetter` method (`dead-letter`). Under `skip` and
   * `dead-letter` a batch whose handler threw is bisected so only its bad records are skipped or dead-lettered.
   */
  readonly onFailure?: FailureAction;
}

/** The normalised error policy. */
export interface ErrorPolicy {
  readonly maxRetries: number;
  readonly initialBackoffMs: number;
  readonly maxBackoffMs: number;
  readonly onFailure: FailureAction;
}

/** Where a consumer with no checkpoint starts reading a shard. */
export type InitialPosition = 'TRIM_HORIZON' | 'LATEST' | { readonly atTimestamp: Date };

/** Options of `@Consumer`. */
export interface ConsumerOptions {
  /** The stream's name, or its ARN. */
  readonly streamName: string;
  /** Names the application: its checkpoints (the KCL lease table) are kept under this name. Default: the class name. */
  readonly applicationName?: string;
  /** AWS region. Default: the SDK's region chain (AWS_REGION …), else `us-east-1`. */
  readonly region?: string;
  /** Where to start on a shard that has no checkpoint. Default `TRIM_HORIZON` (nothing is skipped). */
  readonly initialPosition?: InitialPosition;
  readonly checkpoint?: CheckpointPolicyOption;
  readonly errors?: ErrorPolicyOptions;
  readonly log?: LogOptions;
}

/** Options after validation and defaults. */
export interface NormalizedConsumerOptions {
  readonly streamName: string;
  readonly applicationName: string;
  readonly region: string | undefined;
  readonly initialPosition: InitialPosition;
  readonly checkpoint: CheckpointPolicy;
  readonly errors: ErrorPolicy;
  readonly log: LogOptions;
}

/**
 * Validates and completes consumer options. Returns a list of problems instead of throwing so that the decorator can
 * name the class in one error.
 */
export function normalizeConsumerOptions(
  className: string,
  options: unknown,
): { options?: NormalizedConsumerOptions; problems: string[] } {
  const problems: string[] = [];
  if (typeof options !== 'object' || options === null) {
    return { problems: ['expected an options object such as { streamName: "my-stream" }'] };
  }
  const o = options as Record<string, unknown>;
  const known = ['streamName', 'applicationName', 'region', 'initialPosition', 'checkpoint', 'errors', 'log'];
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) problems.push(`unknown option "${key}" (known: ${known.join(', ')})`);
  }
  const streamName = o.streamName;
  if (typeof streamName !== 'string' || streamName.trim() === '') {
    problems.push('streamName must be a non-empty string (a stream name or ARN)');
  }
  const applicationName = o.applicationName ?? className;
  if (typeof applicationName !== 'string' || !/^[a-zA-Z0-9_.-]{3,255}$/.test(applicationName)) {
    problems.push(
      `applicationName ${JSON.stringify(applicationName)} must be 3-255 characters of letters, digits, "_", "-" or "." (it names the checkpoint table)`,
    );
  }
  if (o.region !== undefined && (typeof o.region !== 'string' || o.region === '')) {
    problems.push('region must be a non-empty string such as "us-east-1"');
  }
  const initialPosition = normalizeInitialPosition(o.initialPosition, problems);
  const checkpoint = normalizeCheckpoint(o.checkpoint, problems);
  const errors = normalizeErrors(o.errors, problems);
  const log = normalizeLog(o.log, problems);
  if (problems.length > 0 || checkpoint === undefined || errors === undefined || initialPosition === undefined) {
    return { problems };
  }
  return {
    problems,
    options: {
      streamName: streamName as string,
      applicationName: applicationName as string,
      region: o.region as string | undefined,
      initialPosition,
      checkpoint,
      errors,
      log,
    },
  };
}

function normalizeInitialPosition(value: unknown, problems: string[]): InitialPosition | undefined {
  if (value === undefined) return 'TRIM_HORIZON';
  if (value === 'TRIM_HORIZON' || value === 'LATEST') return value;
  if (typeof value === 'object' && value !== null && 'atTimestamp' in value) {
    const at = value.atTimestamp;
    if (at instanceof Date && !Number.isNaN(at.getTime())) return { atTimestamp: at };
  }
  problems.push(`initialPosition must be 'TRIM_HORIZON', 'LATEST' or { atTimestamp: Date }, got ${JSON.stringify(value)}`);
  return undefined;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0;
}

function normalizeCheckpoint(value: unknown, problems: string[]): CheckpointPolicy | undefined {
  if (value === undefined || value === 'batch') return { kind: 'batch' };
  if (value === 'manual' || value === 'never') return { kind: value };
  if (typeof value === 'object' && value !== null) {
    const v = value as Record<string, unknown>;
    const keys = Object.keys(v);
    if (keys.length === 1 && 'everyRecords' in v) {
      if (isPositiveInteger(v.everyRecords)) return { kind: 'records', everyRecords: v.everyRecords };
      problems.push(`checkpoint.everyRecords must be a positive integer, got ${JSON.stringify(v.everyRecords)}`);
      return undefined;
    }
    if (keys.length === 1 && ('everyMs' in v || 'every' in v)) {
      try {
        return { kind: 'interval', everyMs: parseDuration('everyMs' in v ? v.everyMs : v.every) };
      } catch (error) {
        problems.push(`checkpoint: ${(error as Error).message}`);
        return undefined;
      }
    }
  }
  problems.push(
    `checkpoint must be 'batch', 'manual', 'never', { everyRecords: N }, { everyMs: N } or { every: '5m' }, got ${JSON.stringify(value)}`,
  );
  return undefined;
}

function normalizeErrors(value: unknown, problems: string[]): ErrorPolicy | undefined {
  const defaults: ErrorPolicy = { maxRetries: 3, initialBackoffMs: 200, maxBackoffMs: 10_000, onFailure: 'stop' };
  if (value === undefined) return defaults;
  if (typeof value !== 'object' || value === null) {
    problems.push('errors must be an object such as { maxRetries: 3, onFailure: "skip" }');
    return undefined;
  }
  const v = value as Record<string, unknown>;
  const before = problems.length;
  for (const key of Object.keys(v)) {
    if (!['maxRetries', 'initialBackoffMs', 'maxBackoffMs', 'onFailure'].includes(key)) {
      problems.push(`errors: unknown option "${key}" (known: maxRetries, initialBackoffMs, maxBackoffMs, onFailure)`);
    }
  }
  const nonNegative = (key: string): number | undefined => {
    const x = v[key];
    if (x === undefined) return undefined;
    if (typeof x === 'number' && Number.isInteger(x) && x >= 0) return x;
    problems.push(`errors.${key} must be an integer >= 0, got ${JSON.stringify(x)}`);
    return undefined;
  };
  const maxRetries = nonNegative('maxRetries') ?? defaults.maxRetries;
  const initialBackoffMs = nonNegative('initialBackoffMs') ?? defaults.initialBackoffMs;
  const maxBackoffMs = nonNegative('maxBackoffMs') ?? Math.max(defaults.maxBackoffMs, initialBackoffMs);
  const onFailure = v.onFailure ?? 'stop';
  if (onFailure !== 'stop' && onFailure !== 'skip' && onFailure !== 'dead-letter') {
    problems.push(`errors.onFailure must be 'stop', 'skip' or 'dead-letter', got ${JSON.stringify(onFailure)}`);
  }
  if (maxBackoffMs < initialBackoffMs) problems.push('errors.maxBackoffMs must be >= errors.initialBackoffMs');
  if (problems.length > before) return undefined;
  return { maxRetries, initialBackoffMs, maxBackoffMs, onFailure: onFailure as FailureAction };
}

function normalizeLog(value: unknown, problems: string[]): LogOptions {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null) {
    problems.push('log must be an object such as { level: "debug", file: "/logs/app.log" }');
    return {};
  }
  const v = value as Record<string, unknown>;
  for (const key of Object.keys(v)) {
    if (!['level', 'format', 'file', 'destination'].includes(key)) {
      problems.push(`log: unknown option "${key}" (known: level, format, file, destination)`);
    }
  }
  if (v.level !== undefined && !LOG_LEVELS.includes(v.level as never)) {
    problems.push(`log.level must be one of ${LOG_LEVELS.join(', ')}, got ${JSON.stringify(v.level)}`);
  }
  if (v.format !== undefined && v.format !== 'text' && v.format !== 'json') {
    problems.push(`log.format must be 'text' or 'json', got ${JSON.stringify(v.format)}`);
  }
  if (v.file !== undefined && (typeof v.file !== 'string' || v.file === '')) {
    problems.push('log.file must be a non-empty path');
  }
  if (v.destination !== undefined && !['stderr', 'stdout', 'none'].includes(v.destination as string)) {
    problems.push(`log.destination must be 'stderr', 'stdout' or 'none', got ${JSON.stringify(v.destination)}`);
  }
  return v;
}
