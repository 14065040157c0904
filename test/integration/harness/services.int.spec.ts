import { DynamoDBClient, ListTablesCommand } from '@aws-sdk/client-dynamodb';
import { KinesisClient, ListStreamsCommand } from '@aws-sdk/client-kinesis';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import Redis from 'ioredis';
import { dynamodbEndpoint, kinesaliteEndpoint, kinesisEndpoint, kmsEndpoint, redisUrl, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';

const common = { region: TEST_REGION, credentials: TEST_CREDENTIALS };

describe('local servers started by the harness', () => {
  it.each([
    ['kinesis-local', kinesisEndpoint],
    ['kinesalite', kinesaliteEndpoint],
  ])('%s answers ListStreams over HTTP/1.1', async (_name, endpoint) => {
    const client = new KinesisClient({ ...common, endpoint: endpoint(), requestHandler: new NodeHttpHandler() });
    const result = await client.send(new ListStreamsCommand({}));
    expect(Array.isArray(result.StreamNames)).toBe(true);
    client.destroy();
  });

  it('dynalite answers ListTables', async () => {
    const client = new DynamoDBClient({ ...common, endpoint: dynamodbEndpoint() });
    const result = await client.send(new ListTablesCommand({}));
    expect(Array.isArray(result.TableNames)).toBe(true);
    client.destroy();
  });

  it('moto creates a KMS key', async () => {
    const client = new KMSClient({ ...common, endpoint: kmsEndpoint() });
    const result = await client.send(new CreateKeyCommand({ Description: 'harness check' }));
    expect(result.KeyMetadata?.KeyId).toMatch(/[0-9a-f-]{36}/);
    client.destroy();
  });

  it('redis-server answers PING', async () => {
    const redis = new Redis(redisUrl(), { lazyConnect: true, maxRetriesPerRequest: 1 });
    await redis.connect();
    await expect(redis.ping()).resolves.toBe('PONG');
    redis.disconnect();
  });
});
