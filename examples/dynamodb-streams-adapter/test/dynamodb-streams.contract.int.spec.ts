import { PutItemCommand } from '@aws-sdk/client-dynamodb';
import { DescribeStreamCommand } from '@aws-sdk/client-dynamodb-streams';
import { MemoryCheckpointStore, createLogger } from 'shardline';
import { describeRecordSourceContract } from 'shardline/testing';
import { DynamoDbStreamsRecordSource } from '../src';
import { createStreamTable, localDynamoDb, localStreams, uniqueTable } from './streams-test-kit';

/**
 * DynamoDbStreamsRecordSource against the RecordSource contract, on moto's DynamoDB Streams. Each test gets its own
 * table; the payloads the kit writes are items' `payload` attribute, and the source is told (recordData) to hand that
 * attribute of the new image to the kit. What moto cannot do is declared, so those cases show as skipped.
 */
describeRecordSourceContract(
  'dynamodb-streams (moto)',
  async () => {
    const dynamo = localDynamoDb();
    const streams = localStreams();
    const table = uniqueTable('contract');
    const streamArn = await createStreamTable(dynamo, table);
    const described = await streams.send(new DescribeStreamCommand({ StreamArn: streamArn }));
    const shardIds = (described.StreamDescription?.Shards ?? []).map((shard) => shard.ShardId ?? '');
    const store = new MemoryCheckpointStore();
    const logger = createLogger({ level: 'error' });
    let written = 0;
    return {
      shardIds,
      createSource: () =>
        new DynamoDbStreamsRecordSource({
          client: streams,
          streamArn,
          checkpointStore: store,
          idlePollIntervalMs: 100,
          logger,
          recordData: (change) => (typeof change.newImage?.payload === 'string' ? change.newImage.payload : ''),
        }),
      put: async (_shardId, payloads) => {
        // One shard per table: every item lands in it, in the order written.
        for (const payload of payloads) {
          await dynamo.send(new PutItemCommand({ TableName: table, Item: { id: { S: `item-${written++}` }, payload: { S: payload } } }));
        }
      },
      storedCheckpoint: async (shardId) => {
        const stored = (await store.list()).find((shard) => shard.shardId === shardId);
        return stored?.checkpoint?.sequenceNumber;
      },
      dispose: async () => {
        await logger.close();
        dynamo.destroy();
        streams.destroy();
      },
    };
  },
  {
    unsupported: {
      concurrentShards: "moto gives every table's stream exactly one shard",
      shardEnd: 'moto never closes a stream shard (no roll-over, no split)',
      completion: 'a stream completes once disabled, and moto fails DescribeStream (HTTP 500) on a disabled stream',
    },
    quietMs: 800,
    deliveryTimeoutMs: 10_000,
  },
);
