import { DeleteStreamCommand, PutRecordsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { createLogger } from '../../../src/core/logger';
import { describeRecordSourceContract } from '../../../src/testing/record-source-contract';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, listShards, localKinesis, uniqueName, waitActive } from '../polling/polling-test-kit';

/**
 * The polling source against the RecordSource contract, on kinesalite: a fresh 2-shard stream per case, checkpoints in
 * a memory store shared by the sources of the case (a second source is a restarted process), short poll intervals.
 */
describeRecordSourceContract(
  'polling (kinesalite)',
  async () => {
    const client = localKinesis(kinesaliteEndpoint());
    const streamName = uniqueName('contract');
    await createStream(client, streamName, 2);
    const shardIds = (await listShards(client, streamName)).map((shard) => shard.ShardId ?? '');
    const store = new MemoryCheckpointStore();
    const sources: PollingRecordSource[] = [];
    return {
      shardIds,
      createSource: () => {
        const source = new PollingRecordSource({
          streamName,
          client,
          checkpointStore: store,
          initialPosition: 'TRIM_HORIZON',
          logger: createLogger({ level: 'error', destination: 'none' }),
          minPollIntervalMs: 50,
          idlePollIntervalMs: 100,
          shardSyncIntervalMs: 500,
          reopenDelayMs: 100,
        });
        sources.push(source);
        return source;
      },
      put: async (shardId, payloads) => {
        const shard = (await listShards(client, streamName)).find((s) => s.ShardId === shardId);
        const hashKey = shard?.HashKeyRange?.StartingHashKey;
        if (hashKey === undefined) throw new Error(`no shard ${shardId} in ${streamName}`);
        // One PutRecords per payload keeps the order (a single call may store its entries in any order per shard).
        for (const payload of payloads) {
          const out = await client.send(
            new PutRecordsCommand({ StreamName: streamName, Records: [{ Data: Buffer.from(payload), PartitionKey: 'k', ExplicitHashKey: hashKey }] }),
          );
          if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`putting ${payload} failed`);
        }
      },
      endShard: async (shardId) => {
        const shard = (await listShards(client, streamName)).find((s) => s.ShardId === shardId);
        const range = shard?.HashKeyRange;
        if (range?.StartingHashKey === undefined || range.EndingHashKey === undefined) throw new Error(`no shard ${shardId} in ${streamName}`);
        const middle = (BigInt(range.StartingHashKey) + BigInt(range.EndingHashKey)) / 2n;
        await client.send(new SplitShardCommand({ StreamName: streamName, ShardToSplit: shardId, NewStartingHashKey: middle.toString() }));
        await waitActive(client, streamName);
      },
      storedCheckpoint: async (shardId) => (await store.list()).find((s) => s.shardId === shardId)?.checkpoint?.sequenceNumber,
      dispose: async () => {
        await Promise.allSettled(sources.map((source) => source.close()));
        await client.send(new DeleteStreamCommand({ StreamName: streamName })).catch(() => undefined);
        client.destroy();
      },
    };
  },
  {
    unsupported: { completion: 'the polling source reads until it is unsubscribed: a stream never runs out' },
    deliveryTimeoutMs: 15_000,
    quietMs: 1_500,
  },
);
