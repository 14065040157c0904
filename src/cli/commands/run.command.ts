import { Command, Option } from 'commander';
import { container } from 'tsyringe';
import { exploreConsumer } from '../../core/consumer-explorer';
import { ConfigurationError } from '../../core/errors';
import { createLogger } from '../../core/logger';
import { LOG_LEVELS, type LogLevel } from '../../core/log-options';
import { ShardlineApp } from '../../core/shardline-app';
import { CLI_ADAPTERS } from '../adapters';
import { loadAdapter } from '../adapter-loader';
import { type RunOptions } from '../cli-adapter';
import { loadConsumers } from '../load-consumers';
import { createSecretProvider } from '../secret-provider-factory';
import { startObservability } from '../observability';
import { parsePort, parsePositiveInteger } from '../parse-options';
import { collectAdapterOption } from '../adapter-loader-options';
import { shardlineVersion } from '../shardline-version';

/** `shardline run <module>`: runs the module's consumers on an adapter until the source ends or a signal stops it. */
export function runCommand(): Command {
  const adapters = [...CLI_ADAPTERS.values()];
  return new Command('run')
    .description('run the @Consumer classes a module exports on an adapter')
    .argument('<module>', 'a .ts or .js file (or a folder with index/main/app) exporting @Consumer classes')
    .addOption(
      new Option(
        '-a, --adapter <name|path|package>',
        `where records come from: a built-in (${adapters.map((a) => a.name).join(', ')}; default memory, the lines of stdin), a module path (./my-adapter.ts) or an installed package exporting an adapter (docs/adapters.md)`,
      ),
    )
    .option('--adapter-option <key=value>', "an option of a plug-in adapter (repeatable), passed to it as RunOptions.adapterOptions", collectAdapterOption, {})
    .option('-c, --consumer <class>', 'run only this exported consumer class')
    .option('--stream <name>', 'stream name or ARN (overrides @Consumer streamName)')
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. http://127.0.0.1:4568 for a local emulator')
    .option('--region <region>', 'AWS region')
    .option('--from <position>', "where to start without a checkpoint: trim-horizon, latest or an ISO time")
    .option('--checkpoints <store>', 'checkpoint store: file:PATH or dynamodb:TABLE')
    .addOption(new Option('--log-level <level>', 'lowest level logged').choices(LOG_LEVELS))
    .option('--log-file <path>', 'append log lines to this file')
    .option('--shutdown-timeout-ms <ms>', 'bound on a graceful stop', parsePositiveInteger, 30_000)
    .option('--startup-timeout-ms <ms>', 'polling: give up (exit 1) when the stream cannot be reached within this time (default 30000)', parsePositiveInteger)
    .option('--max-buffered-bytes <bytes>', 'polling: bound on the record bytes buffered across all shards (default 6291456 = 6 MiB)', parsePositiveInteger)
    .option('--failover-time-ms <ms>', 'polling with dynamodb: checkpoints: a lease not renewed for this long moves to another process (default 10000)', parsePositiveInteger)
    .option('--lease-renewal-interval-ms <ms>', 'polling with dynamodb: checkpoints: how often held leases are renewed (default failover / 3 - 25)', parsePositiveInteger)
    .option('--lease-taker-interval-ms <ms>', 'polling with dynamodb: checkpoints: how often the lease table is scanned to take a fair share (default failover / 2)', parsePositiveInteger)
    .option('--worker-id <id>', 'polling with dynamodb: checkpoints: this process in the lease table (default shardline:<host>:<pid>:<random>)')
    .option('--consumer-name <name>', "efo: the stream consumer to read as, registered if missing (default: the consumer's applicationName)")
    .option('--metrics-port <port>', 'serve /metrics (Prometheus), /healthz, /readyz and a live status page at / on this port', parsePort)
    .option('--metrics-host <host>', 'interface of --metrics-port (default 127.0.0.1; 0.0.0.0 to be scraped from outside the container)')
    .option('--metrics-emf [file]', 'write CloudWatch Embedded Metric Format lines every minute, to stderr or to this file')
    .option('--metrics-emf-namespace <namespace>', 'CloudWatch namespace of the EMF metrics (default shardline)')
    .option('--ready-max-lag-ms <ms>', '/readyz fails while a shard is further behind its latest record than this', parsePositiveInteger)
    .addHelpText(
      'after',
      `
Adapters:
${adapters.map((a) => `  ${a.name.padEnd(10)}${a.description ?? ''}`).join('\n')}
  <path>    a module (.ts, .js, .mjs, .cjs) or a folder exporting \`adapter\`: --adapter ./adapters/my-source.ts --adapter-option url=http://…
  <package> a package installed in this project exporting \`adapter\`: --adapter shardline-adapter-foo

Examples:
  printf '{"dest":"LAX"}\\n' | shardline run app.ts                       # memory adapter: each stdin line is a record
  shardline run app.ts --adapter polling --region eu-west-1 --checkpoints file:.shardline/checkpoints
  shardline kcl properties app.ts -o app.properties && shardline kcl start app.properties   # the daemon runs --adapter kcl
  shardline run app.ts --adapter polling --checkpoints dynamodb:   # start it on several machines: they share the stream's shards
  shardline run app.ts --adapter efo --consumer-name billing   # enhanced fan-out (see docs/efo.md)
  shardline run app.ts --adapter polling --metrics-port 9464   # then: curl 127.0.0.1:9464/metrics, /healthz, /readyz; open http://127.0.0.1:9464/`,
    )
    .action(async (modulePath: string, raw: Record<string, unknown>) => {
      const adapterGiven = typeof raw['adapter'] === 'string';
      // commander names the repeatable --adapter-option after its flag (adapterOption); RunOptions holds the collected map.
      const { adapterOption, ...rest } = raw;
      const options = { ...(rest as unknown as RunOptions), adapterOptions: (adapterOption ?? {}) as Readonly<Record<string, string>> };
      await run(modulePath, { ...options, adapter: adapterGiven ? (raw['adapter'] as string) : 'memory' }, adapterGiven);
    });
}

async function run(modulePath: string, options: RunOptions, adapterGiven: boolean): Promise<void> {
  const adapter = await loadAdapter(options.adapter, CLI_ADAPTERS);
  adapter.prepare?.();
  const classes = loadConsumers(modulePath, options.consumer);
  if (adapter.maxConsumers !== undefined && classes.length > adapter.maxConsumers) {
    throw new ConfigurationError(
      `${modulePath} exports ${classes.length} consumers (${classes.map((c) => c.name).join(', ')}) but the ${adapter.name} adapter runs one per process: pick one with --consumer`,
    );
  }
  const definitions = classes.map(exploreConsumer);
  const first = definitions[0];
  if (first === undefined) throw new ConfigurationError(`${modulePath} exports no consumer`);
  const logOptions = {
    ...first.options.log,
    ...(options.logLevel ? { level: options.logLevel as LogLevel } : {}),
    ...(options.logFile ? { file: options.logFile } : {}),
  };
  const probeSetup = adapter.name === 'kcl';
  const logger = createLogger(logOptions, { stdoutReserved: probeSetup });
  const observability = await startObservability(options, adapter.name, shardlineVersion(), logger);
  let setup: Awaited<ReturnType<typeof adapter.setup>>;
  try {
    setup = await adapter.setup(definitions, options, { logger, container, ...(observability.recorder ? { metrics: observability.recorder } : {}) });
  } catch (error) {
    await observability.dispose();
    throw error;
  }
  const secretProvider = createSecretProvider(options);
  const apps: ShardlineApp[] = [];
  try {
    for (const [index, consumer] of classes.entries()) {
      const source = setup.sources[index];
      if (source === undefined) throw new ConfigurationError(`the ${adapter.name} adapter gave no source for ${consumer.name}`);
      apps.push(
        await ShardlineApp.start({
          consumer,
          source,
          logger,
          handleSignals: setup.handleSignals,
          shutdownTimeoutMs: options.shutdownTimeoutMs,
          ...(options.stream === undefined ? {} : { streamName: options.stream }),
          ...(secretProvider ? { secretProvider } : {}),
          ...(observability.recorder ? { metrics: observability.recorder } : {}),
        }),
      );
    }
    // Said once the consumers started, so that a failed start stays one line.
    if (!adapterGiven) logger.info(`No --adapter given: running on the ${adapter.name} adapter: ${adapter.description ?? ''}`);
    const results = await Promise.allSettled(apps.map((a) => a.done));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } finally {
    await Promise.allSettled(apps.map((a) => a.stop()));
    await setup.dispose?.();
    await observability.dispose();
    await logger.close();
  }
}
