import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { DynamoDbLeaseTable } from '../../../src/leases/dynamodb-lease-table';
import { type ShardEvent } from '../../../src/core/shard-event';
import { dynamodbEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { memoryLogger, uniqueName, waitFor } from '../polling/polling-test-kit';


jest.setTimeout(90_000);

/**
 * A shard that is gone from the stream (past the retention period, after a long outage) while its child is listed:
 * in a fleet, the other workers learn that it is done only from the lease table, so its lease must be marked
 * SHARD_END, or the child's lease is never workable anywhere. Kinesis is scripted (no emulator trims a shard on
 * demand); the lease table is real (dynalite).
 */
describe('polling fleet (dynalite lease table, scripted Kinesis): a vanished parent shard', () => {
  const kinesis = mockClient(KinesisClient);
  afterAll(() => kinesis.restore());

  it('is marked SHARD_END in the lease table, so that its child is read', async () => {
    const range = { HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } };
    kinesis.on(DescribeStreamSummaryCommand).resolves({ StreamDescriptionSummary: { StreamName: 's', StreamARN: 'arn', StreamStatus: 'ACTIVE', RetentionPeriodHours: 24, StreamCreationTimestamp: new Date(), EnhancedMonitoring: [], OpenShardCount: 1 } });
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...range, ShardId: 'shard-0' }, { ...range, ShardId: 'shard-1', ParentShardId: 'shard-0' }] });
    kinesis.on(GetShardIteratorCommand, { ShardId: 'shard-0' }).rejects(new ResourceNotFoundException({ message: 'Shard shard-0 not found', $metadata: {} }));
    kinesis.on(GetShardIteratorCommand, { ShardId: 'shard-1' }).resolves({ ShardIterator: 'c-0' });
    kinesis
      .on(GetRecordsCommand, { ShardIterator: 'c-0' })
      .resolves({ Records: [{ SequenceNumber: '7', PartitionKey: 'k', Data: Buffer.from('child') }], NextShardIterator: 'c-1', MillisBehindLatest: 0 })
      .on(GetRecordsCommand, { ShardIterator: 'c-1' })
      .resolves({ Records: [], NextShardIterator: 'c-1', MillisBehindLatest: 0 });
    const dynamo = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS });
    const table = uniqueName('fleet-vanished');
    const source = new PollingRecordSource({
      streamName: 's',
      client: new KinesisClient({ region: TEST_REGION, credentials: TEST_CREDENTIALS }),
      checkpointStore: new DynamoDbCheckpointStore({ tableName: table, client: dynamo }),
      logger: memoryLogger().logger,
      leases: { failoverTimeMs: 3_000 },
      idlePollIntervalMs: 50,
      retryBaseMs: 1,
      retryCapMs: 5,
    });
    const events: ShardEvent[] = [];
    const subscription = source.events().subscribe((event: ShardEvent) => {
      events.push(event);
      event.ack({ status: 'ok' });
    });
    try {
      await waitFor(() => events.some((e) => e.type === 'records' && e.shardId === 'shard-1'), 30_000, () => `events: ${events.map((e) => `${e.type}:${e.shardId}`).join(', ')}`);
      expect(events.filter((e) => e.shardId === 'shard-0').map((e) => e.type)).toEqual(['opened', 'leaseLost']);
      const parent = await new DynamoDbLeaseTable({ client: dynamo, tableName: table }).get('shard-0');
      expect(parent.outcome === 'ok' && parent.lease?.checkpoint).toBe('SHARD_END');
    } finally {
      subscription.unsubscribe();
      await source.close();
      dynamo.destroy();
    }
  });
});
