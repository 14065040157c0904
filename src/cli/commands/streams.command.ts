import { Command, InvalidArgumentError, Option } from 'commander';
import { type KinesisClient } from '@aws-sdk/client-kinesis';
import { StreamAdmin } from '../../admin/stream-admin';
import { formatTable } from '../../admin/format-table';
import { type StreamDescription, type StreamListEntry } from '../../admin/stream-description';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';
import { parsePositiveInteger } from '../parse-options';
import { consumerNameProblem } from '../../adapters/efo/consumer-name';
import { StreamConsumers, type StreamConsumerInfo } from '../../adapters/efo/stream-consumers';
import { UsageError } from '../usage-error';

/** Options every Kinesis command shares: where to connect and how to print. */
export interface ConnectionCliOptions {
  readonly region?: string;
  readonly endpoint?: string;
  readonly profile?: string;
  readonly json?: boolean;
}

/** Adds `--region`, `--endpoint`, `--profile` and `--json` to a command. */
export function addConnectionOptions(command: Command): Command {
  return command
    .option('--region <region>', 'AWS region (default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1)')
    .option('--endpoint <url>', 'Kinesis endpoint URL, e.g. http://127.0.0.1:4568 for kinesis-local')
    .option('--profile <name>', 'AWS profile from ~/.aws/config and ~/.aws/credentials')
    .option('--json', 'print JSON instead of a table');
}

/** A KinesisClient for the connection options (`--profile` selects the profile of this client's default credential chain). */
export function kinesisClientFor(options: ConnectionCliOptions): KinesisClient {
  return createKinesisClient({
    ...(options.region !== undefined ? { region: options.region } : {}),
    ...(options.endpoint !== undefined ? { endpoint: options.endpoint } : {}),
    ...(options.profile !== undefined ? { profile: options.profile } : {}),
  });
}

/** Accepts `shardId-000000000003` or `3`. */
function parseShardId(value: string): string {
  if (/^\d+$/.test(value)) return `shardId-${value.padStart(12, '0')}`;
  if (/^shardId-\d+$/.test(value)) return value;
  throw new InvalidArgumentError(`expected a shard id such as shardId-000000000001 (or just 1), got "${value}"`);
}

function parseHashKey(value: string): string {
  if (!/^\d+$/.test(value) || BigInt(value) >= 1n << 128n) throw new InvalidArgumentError(`expected a decimal hash key between 0 and 2^128 - 1, got "${value}"`);
  return value;
}

function parseRetentionHours(value: string): number {
  const hours = parsePositiveInteger(value);
  if (hours < 24 || hours > 8760) throw new InvalidArgumentError(`expected a retention period of 24 to 8760 hours, got "${value}"`);
  return hours;
}

function write(text: string): void {
  process.stdout.write(text);
}

/** Renders a description as a summary and a shard table, or as JSON. */
export function renderDescription(description: StreamDescription, json: boolean | undefined): string {
  if (json === true) return `${JSON.stringify(description, null, 2)}\n`;
  const head =
    `stream     ${description.streamName}\n` +
    `status     ${description.status}\n` +
    `mode       ${description.mode}\n` +
    `shards     ${description.openShardCount} open, ${description.shards.length - description.openShardCount} closed\n` +
    `retention  ${description.retentionHours} h\n` +
    `arn        ${description.streamArn || '-'}\n\n`;
  return (
    head +
    formatTable(description.shards, [
      { header: 'SHARD', value: (s) => s.shardId },
      { header: 'STATE', value: (s) => (s.open ? 'open' : 'closed') },
      { header: 'PARENT', value: (s) => s.parentShardId },
      { header: 'ADJACENT PARENT', value: (s) => s.adjacentParentShardId },
      { header: 'STARTING HASH KEY', value: (s) => s.startingHashKey, alignRight: true },
      { header: 'ENDING HASH KEY', value: (s) => s.endingHashKey, alignRight: true },
      { header: 'SEQUENCE RANGE', value: (s) => `${s.startingSequenceNumber}..${s.endingSequenceNumber ?? ''}` },
    ])
  );
}

function renderList(entries: readonly StreamListEntry[], json: boolean | undefined): string {
  if (json === true) return `${JSON.stringify(entries, null, 2)}\n`;
  if (entries.length === 0) return 'no streams\n';
  return formatTable(entries, [
    { header: 'STREAM', value: (e) => e.streamName },
    { header: 'STATUS', value: (e) => e.status },
    { header: 'MODE', value: (e) => e.mode },
  ]);
}

function renderConsumers(consumers: readonly StreamConsumerInfo[], json: boolean | undefined): string {
  if (json === true) return `${JSON.stringify(consumers, null, 2)}\n`;
  if (consumers.length === 0) return 'no stream consumers (enhanced fan-out)\n';
  return formatTable(consumers, [
    { header: 'CONSUMER', value: (c) => c.name },
    { header: 'STATUS', value: (c) => c.status },
    { header: 'CREATED', value: (c) => c.createdAt?.toISOString() },
    { header: 'ARN', value: (c) => c.arn },
  ]);
}

function sub(name: string, description: string): Command {
  return addConnectionOptions(new Command(name).description(description));
}

type Opts<T> = ConnectionCliOptions & T;

/** `shardline streams create|describe|list|delete|merge|split|scale|retention|consumers|deregister-consumer`. */
export function streamsCommand(): Command {
  const streams = new Command('streams').description('create, describe, list, delete, merge, split and scale streams');

  streams.addCommand(
    sub('create', 'create a stream and wait until it is ACTIVE')
      .argument('<stream>', 'stream name')
      .addOption(new Option('--shards <count>', 'number of shards (provisioned mode)').argParser(parsePositiveInteger).default(1).conflicts('onDemand'))
      .option('--on-demand', 'on-demand capacity mode instead of provisioned shards')
      .option('--retention-hours <hours>', 'retention period, 24 to 8760 hours', parseRetentionHours)
      .option('--no-wait', 'return without waiting for ACTIVE')
      .action(async (stream: string, o: Opts<{ shards: number; onDemand?: boolean; retentionHours?: number; wait: boolean }>) => {
        const admin = new StreamAdmin(kinesisClientFor(o));
        const description = await admin.createStream(stream, {
          shardCount: o.shards,
          onDemand: o.onDemand === true,
          wait: o.wait,
          ...(o.retentionHours !== undefined ? { retentionHours: o.retentionHours } : {}),
        });
        write(renderDescription(description, o.json));
      }),
  );

  streams.addCommand(
    sub('describe', 'show a stream: status, mode, retention and every shard with hash-key range, parents and sequence range')
      .argument('<stream>', 'stream name')
      .action(async (stream: string, o: Opts<object>) => {
        write(renderDescription(await new StreamAdmin(kinesisClientFor(o)).describeStream(stream), o.json));
      }),
  );

  streams.addCommand(
    sub('list', 'list the streams of the account and region').action(async (o: Opts<object>) => {
      write(renderList(await new StreamAdmin(kinesisClientFor(o)).listStreams(), o.json));
    }),
  );

  streams.addCommand(
    sub('delete', 'delete a stream and wait until it is gone')
      .argument('<stream>', 'stream name')
      .option('--force', 'also delete its registered enhanced fan-out consumers')
      .option('--no-wait', 'return without waiting for the deletion')
      .action(async (stream: string, o: Opts<{ force?: boolean; wait: boolean }>) => {
        await new StreamAdmin(kinesisClientFor(o)).deleteStream(stream, { wait: o.wait, enforceConsumerDeletion: o.force === true });
        write(o.json === true ? `${JSON.stringify({ streamName: stream, deleted: true })}\n` : `deleted stream ${stream}\n`);
      }),
  );

  streams.addCommand(
    sub('merge', 'merge two adjacent open shards into one, then show the stream')
      .argument('<stream>', 'stream name')
      .argument('<shard>', 'a shard id (shardId-000000000001 or 1)', parseShardId)
      .argument('<adjacent-shard>', 'the shard whose hash-key range touches it', parseShardId)
      .option('--no-wait', 'return without waiting for ACTIVE')
      .action(async (stream: string, shard: string, adjacent: string, o: Opts<{ wait: boolean }>) => {
        write(renderDescription(await new StreamAdmin(kinesisClientFor(o)).mergeShards(stream, shard, adjacent, { wait: o.wait }), o.json));
      }),
  );

  streams.addCommand(
    sub('split', 'split an open shard in two (at the midpoint of its hash-key range unless --hash-key), then show the stream')
      .argument('<stream>', 'stream name')
      .argument('<shard>', 'a shard id (shardId-000000000001 or 1)', parseShardId)
      .option('--hash-key <key>', 'first hash key of the upper child (decimal)', parseHashKey)
      .option('--no-wait', 'return without waiting for ACTIVE')
      .action(async (stream: string, shard: string, o: Opts<{ hashKey?: string; wait: boolean }>) => {
        const admin = new StreamAdmin(kinesisClientFor(o));
        write(renderDescription(await admin.splitShard(stream, shard, { wait: o.wait, ...(o.hashKey !== undefined ? { newStartingHashKey: o.hashKey } : {}) }), o.json));
      }),
  );

  streams.addCommand(
    sub('scale', 'set the number of open shards (uniform scaling), then show the stream')
      .argument('<stream>', 'stream name')
      .argument('<shards>', 'target number of open shards', parsePositiveInteger)
      .option('--no-wait', 'return without waiting for ACTIVE')
      .action(async (stream: string, shards: number, o: Opts<{ wait: boolean }>) => {
        write(renderDescription(await new StreamAdmin(kinesisClientFor(o)).updateShardCount(stream, shards, { wait: o.wait }), o.json));
      }),
  );

  streams.addCommand(
    sub('retention', 'change the retention period (24 to 8760 hours), then show the stream')
      .argument('<stream>', 'stream name')
      .argument('<hours>', 'retention period in hours', parseRetentionHours)
      .action(async (stream: string, hours: number, o: Opts<object>) => {
        write(renderDescription(await new StreamAdmin(kinesisClientFor(o)).setRetention(stream, hours), o.json));
      }),
  );

  streams.addCommand(
    sub('consumers', 'list the stream consumers of enhanced fan-out (each is billed per shard-hour while registered)')
      .argument('<stream>', 'stream name or ARN')
      .action(async (stream: string, o: Opts<object>) => {
        write(renderConsumers(await new StreamConsumers(kinesisClientFor(o)).list(stream), o.json));
      }),
  );

  streams.addCommand(
    sub('deregister-consumer', 'deregister a stream consumer of enhanced fan-out (its subscriptions end; its billing stops)')
      .argument('<stream>', 'stream name or ARN')
      .argument('<name>', 'consumer name (see shardline streams consumers)')
      .action(async (stream: string, name: string, o: Opts<object>) => {
        const problem = consumerNameProblem(name);
        if (problem !== undefined) throw new UsageError(problem);
        await new StreamConsumers(kinesisClientFor(o)).deregister(stream, name);
        write(o.json === true ? `${JSON.stringify({ stream, consumer: name, status: 'DELETING' })}\n` : `consumer ${name} of ${stream} deregistered (DELETING)\n`);
      }),
  );

  return streams;
}
