import { MemoryCheckpointStore, createLogger } from 'shardline';
import { describeRecordSourceContract } from 'shardline/testing';
import { DynamoDbStreamsRecordSource } from '../src';
import { FakeStreams, payloadOf } from './fake-streams-client';

/**
 * The RecordSource contract on a scripted DynamoDB Streams API (unit test, in addition to the moto run): here shards
 * close, children appear and the stream can be disabled, so the cases moto cannot host run too.
 */
describeRecordSourceContract(
  'dynamodb-streams (scripted API)',
  () => {
    const fake = new FakeStreams(2);
    const store = new MemoryCheckpointStore();
    const logger = createLogger({ level: 'error' });
    return {
      shardIds: fake.shardIds,
      createSource: () =>
        new DynamoDbStreamsRecordSource({
          client: fake.client,
          streamArn: fake.streamArn,
          checkpointStore: store,
          idlePollIntervalMs: 20,
          shardSyncIntervalMs: 200,
          logger,
          recordData: payloadOf,
        }),
      put: (shardId, payloads) => Promise.resolve(fake.put(shardId, payloads)),
      endShard: (shardId) => Promise.resolve(void fake.split(shardId)),
      complete: () => Promise.resolve(fake.disable()),
      storedCheckpoint: async (shardId) => (await store.list()).find((s) => s.shardId === shardId)?.checkpoint?.sequenceNumber,
      dispose: () => logger.close(),
    };
  },
  { quietMs: 300, deliveryTimeoutMs: 5_000 },
);
