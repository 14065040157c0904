import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { type ShardEvent } from '../../../src/core/shard-event';
import { dynamodbEndpoint, kinesaliteEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { createStream, localKinesis, memoryLogger, uniqueName, waitFor } from '../polling/polling-test-kit';
import { leaseOwners } from './fleet-kit';


jest.setTimeout(90_000);

/**
 * A library user who only unsubscribes (ShardlineApp does; `close()` is the CLI's) must not leave a lease coordinator
 * renewing leases that nobody reads: once its readers stopped, the fleet source releases its leases.
 */
describe('polling fleet source (kinesalite + dynalite): unsubscribing', () => {
  it('releases every lease it held, without close()', async () => {
    const kinesis = localKinesis(kinesaliteEndpoint());
    const dynamo = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const stream = uniqueName('fleet-unsub');
    const table = uniqueName('fleet-unsub-leases');
    await createStream(kinesis, stream, 2);
    const store = new DynamoDbCheckpointStore({ tableName: table, client: dynamo });
    const source = new PollingRecordSource({
      streamName: stream,
      client: kinesis,
      checkpointStore: store,
      logger: memoryLogger().logger,
      leases: { failoverTimeMs: 3_000, workerId: 'shardline:unsub' },
      idlePollIntervalMs: 50,
    });
    const opened = new Set<string>();
    const subscription = source.events().subscribe((event: ShardEvent) => {
      if (event.type === 'opened') opened.add(event.shardId);
      event.ack({ status: 'ok' });
    });
    try {
      await waitFor(() => opened.size === 2, 30_000, () => `shards opened: ${[...opened].join(', ')}`);
      expect((await leaseOwners(dynamo, table)).get('shardline:unsub')).toHaveLength(2);
      subscription.unsubscribe();
      await waitFor(async () => !(await leaseOwners(dynamo, table)).has('shardline:unsub'), 15_000, () => 'the leases are still held after unsubscribing');
      expect((await leaseOwners(dynamo, table)).get('')).toHaveLength(2);
    } finally {
      subscription.unsubscribe();
      await source.close();
      kinesis.destroy();
      dynamo.destroy();
    }
  });
});
