import { DynamoDBClient, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { takeAsCoordinator } from '../fleet/fleet-kit';
import { LeaseLostError } from '../../../src/core/errors';
import { dynamodbEndpoint } from '../../harness/endpoints';
import { uniqueName } from './polling-test-kit';

/**
 * Review finding: a checkpoint write that DynamoDB applied but whose answer was lost is retried by the SDK with the
 * same expected counter, and that retry fails its condition. It must count as written (our own write), not as a lost
 * lease; a write that another worker really beat must still be a lost lease.
 */
function clientLosingFirstAnswer(): { client: DynamoDBClient; lost: string[] } {
  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' }, maxAttempts: 3 });
  const lost: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      const result = await next(args);
      if (context.commandName === 'UpdateItemCommand' && lost.length === 0 && process.env.LOSE_ANSWER === '1') {
        lost.push('UpdateItem');
        // The write is applied; the answer is lost on the way back (a reset connection): the SDK retries.
        throw Object.assign(new Error('socket hang up'), { name: 'TimeoutError', code: 'ECONNRESET', $metadata: {} });
      }
      return result;
    },
    { step: 'deserialize', name: 'loseFirstUpdateAnswer' },
  );
  return { client, lost };
}

describe('DynamoDbCheckpointStore: an applied write whose answer was lost (dynalite)', () => {
  afterEach(() => {
    delete process.env.LOSE_ANSWER;
  });

  it('counts the retried checkpoint as written, and the next checkpoint still works', async () => {
    const { client, lost } = clientLosingFirstAnswer();
    const table = uniqueName('ambiguous');
    const store = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'poller-a' });
    await store.open();
    await store.acquire({ shardId: 'shardId-000000000000', parentShardIds: [], initialCheckpoint: 'TRIM_HORIZON' });
    process.env.LOSE_ANSWER = '1';
    await store.checkpoint('shardId-000000000000', { sequenceNumber: '100', subSequenceNumber: 0 });
    expect(lost).toEqual(['UpdateItem']);
    await store.checkpoint('shardId-000000000000', { sequenceNumber: '200', subSequenceNumber: 0 });
    const item = await client.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'shardId-000000000000' } }, ConsistentRead: true }));
    expect(item.Item?.checkpoint?.S).toBe('200');
    expect(item.Item?.leaseOwner?.S).toBe('poller-a');
    await store.close();
    client.destroy();
  });

  it('a lease really taken by another worker is still a lost lease', async () => {
    const { client } = clientLosingFirstAnswer();
    const table = uniqueName('taken');
    const a = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'poller-a' });
    const b = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'poller-b' });
    await a.open();
    await b.open();
    await a.acquire({ shardId: 'shardId-000000000000', parentShardIds: [], initialCheckpoint: 'TRIM_HORIZON' });
    // A coordinator's take (the store itself never takes a held lease).
    await takeAsCoordinator(client, table, 'shardId-000000000000', 'poller-b');
    await expect(a.checkpoint('shardId-000000000000', { sequenceNumber: '100', subSequenceNumber: 0 })).rejects.toBeInstanceOf(LeaseLostError);
    await b.close();
    await a.close();
    client.destroy();
  });
});
