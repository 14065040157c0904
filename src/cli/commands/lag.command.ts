import { ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Command } from 'commander';
import { measureShardLag, type ShardLag } from '../../adapters/polling/measure-shard-lag';
import { type CheckpointStore } from '../../checkpoint-stores/checkpoint-store';
import { createCheckpointStore, parseCheckpointStoreSpec } from '../../checkpoint-stores/create-checkpoint-store';
import { formatPosition } from '../../core/checkpoint-position';
import { ConfigurationError, ShardlineError, SourceError } from '../../core/errors';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';
import { parsePositiveInteger } from '../parse-options';

interface LagOptions {
  readonly app: string;
  readonly stream: string;
  readonly checkpoints?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly json?: boolean;
  /** `true` when `--watch` is given without seconds. */
  readonly watch?: number | true;
}

/** How often `--watch` re-measures when no seconds are given. */
export const DEFAULT_LAG_WATCH_SECONDS = 5;

/** `shardline lag --app A --stream S`: per shard, the stored checkpoint and how far behind the shard's latest record it is. */
export function lagCommand(): Command {
  return new Command('lag')
    .description("show, per shard, an application's checkpoint and how far behind the stream's latest record it is")
    .requiredOption('--app <name>', 'application name (the @Consumer applicationName)')
    .requiredOption('--stream <name>', 'stream name or ARN')
    .option('--checkpoints <store>', 'where the checkpoints are: file:PATH (default file:.shardline/checkpoints) or dynamodb:TABLE')
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. http://127.0.0.1:4568 for kinesis-local')
    .option('--region <region>', 'AWS region')
    .option('--json', 'print JSON instead of a table (with --watch: one JSON line per round)')
    .option('--watch [seconds]', `measure again every N seconds (default ${DEFAULT_LAG_WATCH_SECONDS}) until Ctrl-C`, parsePositiveInteger)
    .addHelpText(
      'after',
      [
        '',
        'With --watch, the table is redrawn in place on a terminal; when the output is piped, each round prints a',
        '"--- <time>" line and the table. With --json, each round is one JSON line (NDJSON) with its time in "at".',
        'A round that fails is reported on stderr and the next round is tried; a failure in the very first round',
        '(an unknown stream, no credentials) ends the command with exit code 1.',
        '',
        'Examples:',
        '  shardline lag --app orders-app --stream orders',
        '  shardline lag --app orders-app --stream orders --checkpoints dynamodb:orders-app --json',
        '  shardline lag --app orders-app --stream orders --watch 10',
      ].join('\n'),
    )
    .action(async (options: LagOptions) => {
      await lag(options);
    });
}

/** One measurement of every shard of the stream. */
export interface LagReport {
  readonly app: string;
  readonly stream: string;
  /** Where the checkpoints were read, e.g. `file .shardline/checkpoints/…`. */
  readonly store: string;
  /** How many shards have a stored checkpoint. */
  readonly storedShards: number;
  readonly shards: readonly ShardLag[];
}

async function lag(options: LagOptions): Promise<void> {
  const spec = parseCheckpointStoreSpec(options.checkpoints);
  const store = createCheckpointStore(spec, { applicationName: options.app, streamName: options.stream, region: options.region });
  const client = createKinesisClient({ ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const measure = (): Promise<LagReport> => measureLag(client, store, options);
  try {
    if (options.watch !== undefined) {
      await watchUntilSignal(measure, options);
      return;
    }
    const report = await measure();
    if (report.storedShards === 0) process.stderr.write(`${noCheckpointsNotice(report)}\n`);
    if (options.json === true) {
      process.stdout.write(`${JSON.stringify(toJson(report), null, 2)}\n`);
      return;
    }
    process.stdout.write(renderTable(report.shards));
  } finally {
    client.destroy();
    await store.close();
  }
}

async function measureLag(client: KinesisClient, store: CheckpointStore, options: LagOptions): Promise<LagReport> {
  const stream = options.stream.startsWith('arn:') ? { StreamARN: options.stream } : { StreamName: options.stream };
  try {
    const stored = new Map((await store.list()).map((s) => [s.shardId, s]));
    const shardIds: string[] = [];
    let next: string | undefined;
    try {
      do {
        const page = await client.send(new ListShardsCommand(next === undefined ? stream : { NextToken: next }));
        for (const shard of page.Shards ?? []) if (shard.ShardId) shardIds.push(shard.ShardId);
        next = page.NextToken;
      } while (next !== undefined);
    } catch (error) {
      throw new SourceError(`cannot list the shards of ${options.stream}: ${(error as Error).message}; check --stream, --endpoint and --region`, { cause: error });
    }
    const shards: ShardLag[] = [];
    for (const shardId of shardIds) shards.push(await measureShardLag(client, stream, shardId, stored.get(shardId)?.checkpoint));
    return { app: options.app, stream: options.stream, store: store.description, storedShards: stored.size, shards };
  } catch (error) {
    if (error instanceof ShardlineError) throw error;
    throw new ConfigurationError(
      `lag failed: ${(error as Error).message}; check --app (the checkpoints' application / lease table name), --checkpoints, --stream, --region, --endpoint and the AWS credentials`,
      { cause: error },
    );
  }
}

function noCheckpointsNotice(report: LagReport): string {
  return `shardline: no checkpoints for ${report.app} in ${report.store}`;
}

function toJson(report: LagReport): Record<string, unknown> {
  return {
    app: report.app,
    stream: report.stream,
    store: report.store,
    shards: report.shards.map((l) => ({ ...l, checkpoint: l.checkpoint?.sequenceNumber ?? null, subSequenceNumber: l.checkpoint?.subSequenceNumber ?? null })),
  };
}

/** Runs {@link watchLag} on this process' stdout until SIGINT or SIGTERM. */
async function watchUntilSignal(measure: () => Promise<LagReport>, options: LagOptions): Promise<void> {
  const stop = new AbortController();
  const onSignal = (): void => stop.abort();
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    await watchLag(measure, {
      intervalMs: (options.watch === true || options.watch === undefined ? DEFAULT_LAG_WATCH_SECONDS : options.watch) * 1_000,
      json: options.json === true,
      tty: process.stdout.isTTY === true,
      signal: stop.signal,
      out: (text) => process.stdout.write(text),
      err: (text) => process.stderr.write(text),
    });
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
  }
}

/** Options of {@link watchLag}. */
export interface WatchLagOptions {
  /** Time from the start of one round to the start of the next. */
  readonly intervalMs: number;
  /** One JSON line per round instead of a table. */
  readonly json: boolean;
  /** Clear the terminal and redraw in place (ignored with `json`). */
  readonly tty: boolean;
  /** Ends the watch (Ctrl-C); the promise then resolves, even in the middle of a round. */
  readonly signal: AbortSignal;
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** The clock, for tests. */
  readonly now?: () => number;
}

/** Moves the cursor home and clears the screen. */
export const CLEAR_SCREEN = '\u001b[H\u001b[2J';

/**
 * `shardline lag --watch`: measures, prints, waits, and again, until `signal` aborts. A round that fails is reported
 * on `err` ("retrying in N s") and the watch goes on, except in the first round: there the error is thrown, since a
 * watch that never measured anything most likely has a wrong stream, store or endpoint.
 */
export async function watchLag(measure: () => Promise<LagReport>, options: WatchLagOptions): Promise<void> {
  const now = options.now ?? Date.now;
  const everyText = formatMillis(options.intervalMs).replace(/\.0 /, ' ');
  let warned = false;
  for (let round = 1; !options.signal.aborted; round++) {
    const started = now();
    const at = new Date(started);
    let report: LagReport | undefined;
    let failure: Error | undefined;
    try {
      report = await untilAborted(measure(), options.signal);
    } catch (error) {
      if (options.signal.aborted) return;
      if (round === 1) throw error;
      failure = error instanceof Error ? error : new Error(String(error));
    }
    if (options.signal.aborted || (report === undefined && failure === undefined)) return;
    const waitMs = Math.max(0, options.intervalMs - (now() - started));
    if (options.tty && !options.json) {
      const target = report === undefined ? '' : ` \u00b7 ${report.app} on ${report.stream}`;
      options.out(`${CLEAR_SCREEN}every ${everyText} \u00b7 ${at.toLocaleString()}${target} \u00b7 Ctrl-C to stop\n\n`);
    }
    if (failure !== undefined) {
      options.err(`shardline: lag round at ${at.toISOString()} failed: ${failure.message}; retrying in ${formatMillis(waitMs).replace(/\.0 /, ' ')}\n`);
    } else if (report !== undefined) {
      if (options.json) {
        options.out(`${JSON.stringify({ at: at.toISOString(), ...toJson(report) })}\n`);
      } else {
        if (!options.tty) options.out(`--- ${at.toISOString()}\n`);
        options.out(renderTable(report.shards));
      }
      if (report.storedShards === 0 && (options.tty || !warned)) options.err(`${noCheckpointsNotice(report)}\n`);
      warned ||= report.storedShards === 0;
    }
    await sleep(waitMs, options.signal);
  }
}

/** The promise's value, or undefined as soon as `signal` aborts (the promise's own failure is then ignored). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.resolve(undefined);
  }
  return new Promise<T | undefined>((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    if (signal.aborted) {
      resolve();
      return;
    }
    const done = (): void => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

/** Renders the lag table. */
export function renderTable(lags: readonly ShardLag[]): string {
  const rows = [
    ['SHARD', 'STATUS', 'CHECKPOINT', 'RECORDS BEHIND', 'TIME BEHIND'],
    ...lags.map((l) => [
      l.shardId,
      l.status,
      formatPosition(l.checkpoint),
      `${l.recordsBehind}${l.recordsBehindIsLowerBound ? '+' : ''}`,
      formatMillis(l.millisBehind),
    ]),
  ];
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows.map((r) => r.map((cell, i) => cell.padEnd(widths[i] ?? 0)).join('  ').trimEnd()).join('\n') + '\n';
}

function formatMillis(ms: number): string {
  if (ms < 1_000) return `${ms} ms`;
  if (ms < 60_000) return `${(ms / 1_000).toFixed(1)} s`;
  if (ms < 3_600_000) return `${(ms / 60_000).toFixed(1)} min`;
  return `${(ms / 3_600_000).toFixed(1)} h`;
}
