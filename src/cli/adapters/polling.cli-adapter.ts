import { MemoryBudget } from '../../adapters/polling/memory-budget';
import { PollingRecordSource } from '../../adapters/polling/polling-record-source';
import { parseInitialPosition } from '../../adapters/polling/parse-initial-position';
import { assertSeparateCheckpoints, createCheckpointStore, parseCheckpointStoreSpec } from '../../checkpoint-stores/create-checkpoint-store';
import { type ShardFetcherFactory } from '../../adapters/polling/shard-fetcher';
import { type AppLogger } from '../../core/logger';
import { type ConsumerDefinition } from '../../decorators/metadata-types';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';
import { resolveLeaseTiming } from '../../leases/lease-coordinator-options';
import { type PollingLeaseOptions } from '../../adapters/polling/polling-record-source';
import { type CliAdapter, type RunOptions } from '../cli-adapter';
import { UsageError } from '../usage-error';

/** How a CLI adapter built on the polling one reads each shard (enhanced fan-out: `--adapter efo`). */
export interface CliReadMode {
  /** Checks the options before anything starts (a usage error exits 2). */
  checkOptions?(consumers: readonly ConsumerDefinition[], options: RunOptions): void;
  /** The fetcher of one consumer's source, and a check run with the stream check before any consumer starts. */
  forSource(
    consumer: ConsumerDefinition,
    source: { readonly streamName: string; readonly region: string | undefined; readonly client: ReturnType<typeof createKinesisClient> },
    options: RunOptions,
    logger: AppLogger,
  ): { readonly shardFetcher: ShardFetcherFactory; readonly sourceName?: string; check(): Promise<unknown>; dispose(): void };
}

/**
 * `--adapter polling`: reads every shard of the stream directly with GetRecords (no Java), one reader per shard,
 * checkpoints in a file (`.shardline/checkpoints` by default) or in a KCL lease table (`--checkpoints dynamodb:TABLE`).
 * Each consumer keeps its own checkpoints (a file per application and stream, a lease table per application): a value
 * under which two consumers would share them is refused.
 *
 * Before any consumer starts, each stream is checked within `--startup-timeout-ms` (default 30 s): an unreachable
 * endpoint, an unknown host or a missing stream ends the run with one line saying what to check (exit 1).
 *
 * With `--checkpoints dynamodb:…` the process is a member of a fleet: start several with the same table and they
 * share the shards through the KCL lease table (`--failover-time-ms`, `--lease-renewal-interval-ms`,
 * `--lease-taker-interval-ms`, `--worker-id`; see docs/leases.md). A file store serves one process.
 *
 * All the consumers of the process share one memory budget of `--max-buffered-bytes` (default 6 MiB): the records
 * read and not yet acknowledged, across every shard of every consumer, stay within it.
 */
export const pollingCliAdapter: CliAdapter = {
  name: 'polling',
  description: 'reads every shard directly with GetRecords (no Java)',
  setup: pollingSetup(),
};

/** The polling adapter's setup, reading with `readMode` when given (GetRecords otherwise). */
export function pollingSetup(readMode?: CliReadMode): CliAdapter['setup'] {
  return async (consumers, options, { logger, metrics }) => {
    readMode?.checkOptions?.(consumers, options);
    const spec = parseCheckpointStoreSpec(options.checkpoints);
    assertSeparateCheckpoints(
      spec,
      consumers.map((consumer) => ({ consumerName: consumer.name, applicationName: consumer.options.applicationName, streamName: options.stream ?? consumer.options.streamName })),
    );
    const leases = fleetLeaseOptions(options);
    const from = options.from === undefined ? undefined : parseInitialPosition(options.from);
    const budget = new MemoryBudget(options.maxBufferedBytes);
    const clients = new Map<string, ReturnType<typeof createKinesisClient>>();
    const modes: Array<ReturnType<CliReadMode['forSource']>> = [];
    const sources = consumers.map((consumer) => {
      const region = options.region ?? consumer.options.region;
      const key = `${region ?? ''}|${options.endpoint ?? ''}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = createKinesisClient({ ...(region ? { region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
        clients.set(key, client);
      }
      const streamName = options.stream ?? consumer.options.streamName;
      const mode = readMode?.forSource(consumer, { streamName, region, client }, options, logger);
      if (mode !== undefined) modes.push(mode);
      return new PollingRecordSource({
        streamName,
        client,
        checkpointStore: createCheckpointStore(spec, { applicationName: consumer.options.applicationName, streamName, region }),
        initialPosition: from ?? consumer.options.initialPosition,
        logger,
        memoryBudget: budget,
        ...(spec.kind === 'dynamodb' ? { leases } : {}),
        ...(options.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: options.startupTimeoutMs }),
        ...(options.endpoint === undefined ? {} : { endpointDescription: `--endpoint ${options.endpoint}` }),
        ...(metrics === undefined ? {} : { metrics: { recorder: metrics, application: consumer.options.applicationName } }),
        ...(mode === undefined ? {} : { shardFetcher: mode.shardFetcher }),
        ...(mode?.sourceName === undefined ? {} : { sourceName: mode.sourceName }),
      });
    });
    const dispose = async (): Promise<void> => {
      await Promise.allSettled(sources.map((source) => source.close()));
      for (const client of clients.values()) client.destroy();
      for (const mode of modes) mode.dispose();
    };
    try {
      await Promise.all(sources.map((source) => source.checkStream()));
      await Promise.all(modes.map((mode) => mode.check()));
    } catch (error) {
      await dispose();
      throw error;
    }
    return { sources, handleSignals: true, stdoutReserved: false, dispose };
  };
}

/** The lease flags, checked at once (a timing that breaks the safety invariant is a usage error, exit 2). */
function fleetLeaseOptions(options: RunOptions): PollingLeaseOptions {
  const leases: PollingLeaseOptions = {
    ...(options.failoverTimeMs === undefined ? {} : { failoverTimeMs: options.failoverTimeMs }),
    ...(options.leaseRenewalIntervalMs === undefined ? {} : { leaseRenewalIntervalMs: options.leaseRenewalIntervalMs }),
    ...(options.leaseTakerIntervalMs === undefined ? {} : { leaseTakerIntervalMs: options.leaseTakerIntervalMs }),
    ...(options.workerId === undefined ? {} : { workerId: options.workerId }),
  };
  const given = Object.keys(leases).length > 0;
  if (given && !(options.checkpoints ?? '').startsWith('dynamodb:')) {
    throw new UsageError('--failover-time-ms, --lease-renewal-interval-ms, --lease-taker-interval-ms and --worker-id need --checkpoints dynamodb:TABLE (a file store serves one process)');
  }
  try {
    resolveLeaseTiming(leases);
  } catch (error) {
    throw new UsageError((error as Error).message.replace('lease timing: ', 'lease flags: '));
  }
  return leases;
}
