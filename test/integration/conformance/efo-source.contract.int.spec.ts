import { DeleteStreamCommand, PutRecordsCommand } from '@aws-sdk/client-kinesis';
import { EnhancedFanOut } from '../../../src/adapters/efo/enhanced-fan-out';
import { createFanOutClient } from '../../../src/adapters/efo/fan-out-client';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { createLogger } from '../../../src/core/logger';
import { describeRecordSourceContract } from '../../../src/testing/record-source-contract';
import { kinesisEndpoint } from '../../harness/endpoints';
import { createStream, listShards, localKinesis, uniqueName } from '../polling/polling-test-kit';

/**
 * The polling source reading by enhanced fan-out, against the RecordSource contract on kinesis-local (SubscribeToShard
 * over HTTP/1.1 there: docs/efo.md, emulator gaps). A fresh 2-shard stream and consumer per case; a second source of
 * a case is a restarted process (same checkpoints, same consumer).
 */
describeRecordSourceContract(
  'enhanced fan-out (kinesis-local)',
  async () => {
    const client = localKinesis();
    const subscribeClient = createFanOutClient({ endpoint: kinesisEndpoint(), region: 'us-east-1' });
    const streamName = uniqueName('contract-efo');
    await createStream(client, streamName, 2);
    const shards = await listShards(client, streamName);
    const store = new MemoryCheckpointStore();
    const sources: PollingRecordSource[] = [];
    const logger = createLogger({ level: 'error', destination: 'none' });
    return {
      shardIds: shards.map((shard) => shard.ShardId ?? ''),
      createSource: () => {
        const fanOut = new EnhancedFanOut({ streamName, consumerName: 'contract', client, subscribeClient, logger, subscribeRetryBaseMs: 200, subscribeRetryCapMs: 1_000 });
        const source = new PollingRecordSource({ streamName, client, checkpointStore: store, initialPosition: 'TRIM_HORIZON', logger, shardSyncIntervalMs: 500, reopenDelayMs: 100, shardFetcher: fanOut.fetcher });
        sources.push(source);
        return source;
      },
      put: async (shardId, payloads) => {
        const hashKey = shards.find((s) => s.ShardId === shardId)?.HashKeyRange?.StartingHashKey;
        if (hashKey === undefined) throw new Error(`no shard ${shardId} in ${streamName}`);
        for (const payload of payloads) {
          await client.send(new PutRecordsCommand({ StreamName: streamName, Records: [{ Data: Buffer.from(payload), PartitionKey: 'k', ExplicitHashKey: hashKey }] }));
        }
      },
      storedCheckpoint: async (shardId) => (await store.list()).find((s) => s.shardId === shardId)?.checkpoint?.sequenceNumber,
      dispose: async () => {
        await Promise.allSettled(sources.map((source) => source.close()));
        await client.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => undefined);
        subscribeClient.destroy();
        client.destroy();
      },
    };
  },
  {
    unsupported: {
      completion: 'the source reads until it is unsubscribed: a stream never runs out',
      shardEnd: 'kinesis-local never sends ChildShards on SubscribeToShard (docs/efo.md, emulator gaps); tested with a fake server in test/integration/efo',
    },
    deliveryTimeoutMs: 15_000,
    quietMs: 2_500,
  },
);
