import { type KinesisClient } from '@aws-sdk/client-kinesis';
import { EnhancedFanOut, type EnhancedFanOutOptions } from '../../../src/adapters/efo/enhanced-fan-out';
import { PollingRecordSource, type PollingRecordSourceOptions } from '../../../src/adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { type SubscribeResult } from '../../../src/metrics/metrics-recorder';
import { memoryLogger } from '../polling/polling-test-kit';

/** A polling source reading by enhanced fan-out, with a file checkpoint store in `dir`, its log lines and its subscription results. */
export function fanOutSource(
  stream: string,
  dir: string,
  clients: { readonly client: KinesisClient; readonly subscribeClient: KinesisClient },
  options: { readonly consumerName: string; readonly fanOut?: Partial<EnhancedFanOutOptions>; readonly source?: Partial<PollingRecordSourceOptions> },
) {
  const { logger, lines } = memoryLogger('debug');
  const subscribes: SubscribeResult[] = [];
  const store = new FileCheckpointStore({ directory: dir, applicationName: 'efo-it-app', streamName: stream });
  const fanOut = new EnhancedFanOut({ streamName: stream, consumerName: options.consumerName, ...clients, logger, ...options.fanOut });
  const source = new PollingRecordSource({
    streamName: stream,
    client: clients.client,
    checkpointStore: store,
    logger,
    shardSyncIntervalMs: 1_000,
    shardFetcher: fanOut.fetcher,
    metrics: { recorder: { subscribeToShardCalled: (_shard, result) => subscribes.push(result.result) }, application: 'efo-it-app' },
    ...options.source,
  });
  return { source, store, logger, lines, subscribes };
}
