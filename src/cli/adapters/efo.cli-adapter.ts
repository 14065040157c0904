import { consumerNameProblem } from '../../adapters/efo/consumer-name';
import { EnhancedFanOut } from '../../adapters/efo/enhanced-fan-out';
import { createFanOutClient } from '../../adapters/efo/fan-out-client';
import { type CliAdapter } from '../cli-adapter';
import { UsageError } from '../usage-error';
import { pollingSetup } from './polling.cli-adapter';

/**
 * `--adapter efo`: the polling adapter (discovery, checkpoints, resharding, memory budget, `--checkpoints`,
 * `--max-buffered-bytes`, `--startup-timeout-ms`) reading each shard by enhanced fan-out: SubscribeToShard over
 * HTTP/2, as the stream consumer `--consumer-name` (default: each consumer's applicationName), registered if missing
 * and awaited until ACTIVE before any consumer starts. An invalid name exits 2; a missing permission exits 1 naming it.
 */
export const efoCliAdapter: CliAdapter = {
  name: 'efo',
  description: 'the polling adapter reading by enhanced fan-out (SubscribeToShard, a registered stream consumer; billed per shard-hour)',
  setup: pollingSetup({
    checkOptions: (consumers, options) => {
      const names = consumers.map((consumer) => options.consumerName ?? consumer.options.applicationName);
      for (const name of names) {
        const problem = consumerNameProblem(name);
        if (problem !== undefined) throw new UsageError(`--consumer-name: ${problem}`);
      }
      const streams = consumers.map((consumer) => options.stream ?? consumer.options.streamName);
      const seen = new Set<string>();
      streams.forEach((stream, i) => {
        const key = `${stream}\u0000${names[i] ?? ''}`;
        if (seen.has(key)) {
          throw new UsageError(
            `two consumers would read ${stream} as the same stream consumer ${names[i] ?? ''} (they would take each other's subscriptions): ` +
              'drop --consumer-name (each then uses its applicationName) or run them with --consumer in separate processes',
          );
        }
        seen.add(key);
      });
    },
    forSource: (consumer, { streamName, region, client }, options, logger) => {
      const subscribeClient = createFanOutClient({ ...(region ? { region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
      const fanOut = new EnhancedFanOut({ streamName, consumerName: options.consumerName ?? consumer.options.applicationName, client, subscribeClient, logger });
      return { shardFetcher: fanOut.fetcher, sourceName: 'efo', check: () => fanOut.prepare(), dispose: () => subscribeClient.destroy() };
    },
  }),
};
