import { Command, Option } from 'commander';
import { container } from 'tsyringe';
import { exploreConsumer } from '../../core/consumer-explorer';
import { ConfigurationError } from '../../core/errors';
import { createLogger } from '../../core/logger';
import { LOG_LEVELS, type LogLevel } from '../../core/log-options';
import { ShardlineApp } from '../../core/shardline-app';
import { CLI_ADAPTERS } from '../adapters';
import { type RunOptions } from '../cli-adapter';
import { loadConsumers } from '../load-consumers';
import { createSecretProvider } from '../secret-provider-factory';
import { parsePositiveInteger } from '../parse-options';

/** `shardline run <module>`: runs the module's consumers on an adapter until the source ends or a signal stops it. */
export function runCommand(): Command {
  const adapters = [...CLI_ADAPTERS.keys()];
  return new Command('run')
    .description('run the @Consumer classes a module exports on an adapter')
    .argument('<module>', 'a .ts or .js file (or a folder with index/main/app) exporting @Consumer classes')
    .addOption(new Option('-a, --adapter <name>', 'where records come from').choices(adapters).default('memory'))
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
    .option('--max-buffered-bytes <bytes>', 'polling: bound on the record bytes buffered across all shards (default 67108864 = 64 MiB)', parsePositiveInteger)
    .action(async (modulePath: string, raw: Record<string, unknown>) => {
      await run(modulePath, raw as unknown as RunOptions);
    });
}

async function run(modulePath: string, options: RunOptions): Promise<void> {
  const adapter = CLI_ADAPTERS.get(options.adapter);
  if (adapter === undefined) throw new ConfigurationError(`unknown adapter ${options.adapter} (known: ${[...CLI_ADAPTERS.keys()].join(', ')})`);
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
  const setup = await adapter.setup(definitions, options, { logger, container });
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
          ...(secretProvider ? { secretProvider } : {}),
        }),
      );
    }
    const results = await Promise.allSettled(apps.map((a) => a.done));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
  } finally {
    await Promise.allSettled(apps.map((a) => a.stop()));
    await setup.dispose?.();
    await logger.close();
  }
}
