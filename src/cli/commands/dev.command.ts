import { CreateStreamCommand, DescribeStreamSummaryCommand, PutRecordCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Command, Option } from 'commander';
import { existsSync, readFileSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { container } from 'tsyringe';
import { PollingRecordSource } from '../../adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../checkpoint-stores/file-checkpoint-store';
import { exploreConsumer } from '../../core/consumer-explorer';
import { ConfigurationError, SourceError } from '../../core/errors';
import { createLogger } from '../../core/logger';
import { LOG_LEVELS, type LogLevel } from '../../core/log-options';
import { ShardlineApp } from '../../core/shardline-app';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';
import { startLocalKinesis, type LocalKinesisServer } from '../../kinesis/local-kinesis-server';
import { loadProducerModule, type ProducedData, type PutFunction } from '../../kinesis/producer-module';
import { loadConsumers, resolveModulePath } from '../load-consumers';
import { parsePositiveInteger } from '../parse-options';
import { createSecretProvider } from '../secret-provider-factory';

interface DevOptions {
  readonly produce?: string;
  readonly port: number;
  readonly consumer?: string;
  readonly shards: number;
  readonly logLevel?: LogLevel;
  readonly shutdownTimeoutMs: number;
}

/** Folder under which `shardline dev` keeps its checkpoints and logs. */
export const DEV_STATE_DIRECTORY = '.shardline';

/**
 * `shardline dev <module>`: the local development loop. Starts kinesis-local (no AWS account, no Java), creates the
 * consumers' streams if missing, runs the consumers on the polling adapter with checkpoints in `.shardline/`, and
 * with `--produce <module>` runs a producer module too. Ctrl-C stops everything.
 */
export function devCommand(): Command {
  return new Command('dev')
    .description('run consumers against a local Kinesis (kinesis-local: no AWS account, no Java), creating their streams')
    .argument('<module>', 'a .ts or .js file exporting @Consumer classes')
    .option('--produce <module>', 'also run this producer module: it exports produce(put, signal)')
    .option('--port <port>', 'kinesis-local plain HTTP port; it also opens the port below for TLS (reused when something already listens there)', parsePositiveInteger, 4568)
    .option('-c, --consumer <class>', 'run only this exported consumer class')
    .option('--shards <n>', 'shard count of streams created here', parsePositiveInteger, 2)
    .addOption(new Option('--log-level <level>', 'lowest level logged').choices(LOG_LEVELS))
    .option('--shutdown-timeout-ms <ms>', 'bound on a graceful stop', parsePositiveInteger, 10_000)
    .addHelpText(
      'after',
      `
The producer module contract:
  export async function produce(put, signal) {      // put(data, partitionKey?) -> Promise<{ shardId, sequenceNumber }>
    while (!signal.aborted) { await put({ hello: 'world' }, 'key-1'); await new Promise((r) => setTimeout(r, 1000)); }
  }

Checkpoints go to .shardline/checkpoints, kinesis-local's log to .shardline/logs/kinesis-local.log.
Example:
  shardline dev app.ts --produce producer.ts`,
    )
    .action(async (modulePath: string, options: DevOptions) => {
      await dev(modulePath, options);
    });
}

function say(line: string): void {
  process.stdout.write(`shardline dev: ${line}\n`);
}

async function dev(modulePath: string, options: DevOptions): Promise<void> {
  const classes = loadConsumers(modulePath, options.consumer);
  const definitions = classes.map(exploreConsumer);
  const first = definitions[0];
  if (first === undefined) throw new ConfigurationError(`${modulePath} exports no consumer`);
  const produce = options.produce === undefined ? undefined : loadProducerModule(resolveModulePath(options.produce));
  const logger = createLogger({ ...first.options.log, ...(options.logLevel ? { level: options.logLevel } : {}) });

  let server: LocalKinesisServer | undefined;
  let client: KinesisClient | undefined;
  const apps: ShardlineApp[] = [];
  const sources: PollingRecordSource[] = [];
  const producerAbort = new AbortController();
  let producing: Promise<void> | undefined;
  let stopping = false;
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((resolve) => {
    wake = resolve;
  });
  const onSignal = (): void => {
    if (stopping) {
      say('second Ctrl-C: exiting now');
      process.exit(130);
    }
    stopping = true;
    say('stopping (Ctrl-C again to exit at once)');
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    server = await startLocalKinesis({ port: options.port, logFile: join(DEV_STATE_DIRECTORY, 'logs', 'kinesis-local.log') });
    say(server.pid === undefined ? `reusing the Kinesis endpoint already on ${server.endpoint}` : `kinesis-local on ${server.endpoint} (log: ${server.logFile})`);
    client = createKinesisClient({ endpoint: server.endpoint });
    const streams = [...new Set(definitions.map((d) => d.options.streamName))];
    const created = new Set<string>();
    for (const stream of streams) if (await ensureStream(client, stream, options.shards)) created.add(stream);

    const secretProvider = createSecretProvider({ adapter: 'polling', shutdownTimeoutMs: options.shutdownTimeoutMs });
    for (const [index, consumer] of classes.entries()) {
      const definition = definitions[index];
      if (definition === undefined) continue;
      const { streamName, applicationName } = definition.options;
      const store = new FileCheckpointStore({ directory: join(DEV_STATE_DIRECTORY, 'checkpoints'), applicationName, streamName });
      if (created.has(streamName) && existsSync(store.path) && !lockedByLiveProcess(`${store.path}.lock`)) {
        // The stream is new (kinesis-local keeps nothing between runs): checkpoints of an earlier run point into a
        // stream that no longer exists, and resuming from them would skip the new stream's records.
        await rm(store.path, { force: true });
        say(`discarded the checkpoints of an earlier run in ${store.path} (the stream ${streamName} was just created)`);
      }
      const source = new PollingRecordSource({ streamName, client, checkpointStore: store, initialPosition: definition.options.initialPosition, logger, idlePollIntervalMs: 500 });
      sources.push(source);
      apps.push(
        await ShardlineApp.start({
          consumer,
          source,
          logger,
          container,
          handleSignals: false,
          shutdownTimeoutMs: options.shutdownTimeoutMs,
          ...(secretProvider ? { secretProvider } : {}),
        }),
      );
      say(`${consumer.name} reads ${streamName} (checkpoints: ${store.path})`);
    }
    if (produce !== undefined) {
      const stream = first.options.streamName;
      const put = makePut(client, stream);
      say(`producer ${options.produce ?? ''} writes to ${stream}`);
      producing = produce(put, producerAbort.signal).then(
        () => say('the producer finished'),
        (error: unknown) => {
          if (!producerAbort.signal.aborted) logger.error(`The producer failed: ${(error as Error).message}`);
        },
      );
    }
    say('running; press Ctrl-C to stop');
    const failed = Promise.race(apps.map((app) => app.done)).then(
      () => undefined,
      (error: unknown) => error,
    );
    const outcome = await Promise.race([stopped.then(() => undefined), failed]);
    if (outcome !== undefined) throw outcome instanceof Error ? outcome : new SourceError('a consumer failed');
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    producerAbort.abort();
    await producing;
    await Promise.allSettled(apps.map((app) => app.stop()));
    await Promise.allSettled(sources.map((source) => source.close()));
    client?.destroy();
    await server?.stop();
    await logger.close();
    say('stopped');
  }
}

/** Whether a checkpoint lock file names a running process (another `shardline dev` in this folder): leave its file alone. */
function lockedByLiveProcess(lockPath: string): boolean {
  if (!existsSync(lockPath)) return false;
  // The lock names its holder as JSON ({ pid, hostname, … }); earlier versions wrote the bare pid.
  const text = readFileSync(lockPath, 'utf8').trim();
  let pid: number;
  try {
    pid = /^\d+$/.test(text) ? Number(text) : Number((JSON.parse(text) as { pid?: unknown }).pid);
  } catch {
    return false; // unreadable: a torn write of a dead process
  }
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Creates the stream when missing; returns true when it was created now. */
async function ensureStream(client: KinesisClient, stream: string, shards: number): Promise<boolean> {
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    say(`stream ${stream} exists`);
    return false;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw new SourceError(`cannot describe stream ${stream}: ${(error as Error).message}`, { cause: error });
  }
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: shards }));
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') {
      say(`created stream ${stream} (${shards} shards)`);
      return true;
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new SourceError(`stream ${stream} did not become ACTIVE`);
}

function makePut(client: KinesisClient, stream: string): PutFunction {
  let counter = 0;
  return async (data: ProducedData, partitionKey?: string) => {
    const out = await client.send(
      new PutRecordCommand({ StreamName: stream, Data: toBytes(data), PartitionKey: partitionKey ?? `key-${counter++}` }),
    );
    return { shardId: out.ShardId ?? '', sequenceNumber: out.SequenceNumber ?? '' };
  };
}

function toBytes(data: ProducedData): Uint8Array {
  if (data instanceof Uint8Array) return data;
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  return Buffer.from(JSON.stringify(data), 'utf8');
}
