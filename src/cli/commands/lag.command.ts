import { ListShardsCommand } from '@aws-sdk/client-kinesis';
import { Command } from 'commander';
import { measureShardLag, type ShardLag } from '../../adapters/polling/measure-shard-lag';
import { createCheckpointStore, parseCheckpointStoreSpec } from '../../checkpoint-stores/create-checkpoint-store';
import { formatPosition } from '../../core/checkpoint-position';
import { ConfigurationError, ShardlineError, SourceError } from '../../core/errors';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';

interface LagOptions {
  readonly app: string;
  readonly stream: string;
  readonly checkpoints?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly json?: boolean;
}

/** `shardline lag --app A --stream S`: per shard, the stored checkpoint and how far behind the shard's latest record it is. */
export function lagCommand(): Command {
  return new Command('lag')
    .description("show, per shard, an application's checkpoint and how far behind the stream's latest record it is")
    .requiredOption('--app <name>', 'application name (the @Consumer applicationName)')
    .requiredOption('--stream <name>', 'stream name or ARN')
    .option('--checkpoints <store>', 'where the checkpoints are: file:PATH (default file:.shardline/checkpoints) or dynamodb:TABLE')
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. http://127.0.0.1:4568 for kinesis-local')
    .option('--region <region>', 'AWS region')
    .option('--json', 'print JSON instead of a table')
    .addHelpText('after', '\nExamples:\n  shardline lag --app orders-app --stream orders\n  shardline lag --app orders-app --stream orders --checkpoints dynamodb:orders-app --json')
    .action(async (options: LagOptions) => {
      await lag(options);
    });
}

async function lag(options: LagOptions): Promise<void> {
  const spec = parseCheckpointStoreSpec(options.checkpoints);
  const store = createCheckpointStore(spec, { applicationName: options.app, streamName: options.stream, region: options.region });
  const client = createKinesisClient({ ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
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
    const lags: ShardLag[] = [];
    for (const shardId of shardIds) lags.push(await measureShardLag(client, stream, shardId, stored.get(shardId)?.checkpoint));
    if (stored.size === 0) process.stderr.write(`shardline: no checkpoints for ${options.app} in ${store.description}\n`);
    if (options.json === true) {
      process.stdout.write(
        `${JSON.stringify({ app: options.app, stream: options.stream, store: store.description, shards: lags.map((l) => ({ ...l, checkpoint: l.checkpoint?.sequenceNumber ?? null, subSequenceNumber: l.checkpoint?.subSequenceNumber ?? null })) }, null, 2)}\n`,
      );
      return;
    }
    process.stdout.write(renderTable(lags));
  } catch (error) {
    if (error instanceof ShardlineError) throw error;
    throw new ConfigurationError(
      `lag failed: ${(error as Error).message}; check --app (the checkpoints' application / lease table name), --checkpoints, --stream, --region, --endpoint and the AWS credentials`,
      { cause: error },
    );
  } finally {
    client.destroy();
    await store.close();
  }
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
