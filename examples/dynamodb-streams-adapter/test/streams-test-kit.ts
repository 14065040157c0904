import { randomUUID } from 'node:crypto';
import {
  CreateTableCommand,
  DeleteItemCommand,
  DescribeTableCommand,
  DynamoDBClient,
  PutItemCommand,
  UpdateItemCommand,
  type AttributeValue,
} from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { Consumer, OnRecords, inject, injectable, type KinesisRecord } from 'shardline';
import { TEST_CREDENTIALS, TEST_REGION, motoEndpoint } from '../../../test/harness/endpoints';
import { type StreamChange } from '../src';

/* Helpers of the adapter's integration tests: moto clients, a table with a stream, and a consumer that logs changes. */

export const clientConfig = (): { endpoint: string; region: string; credentials: typeof TEST_CREDENTIALS } => ({
  endpoint: motoEndpoint(),
  region: TEST_REGION,
  credentials: TEST_CREDENTIALS,
});

export const localDynamoDb = (): DynamoDBClient => new DynamoDBClient(clientConfig());
export const localStreams = (): DynamoDBStreamsClient => new DynamoDBStreamsClient(clientConfig());

/** A table name no other test uses (moto keeps state for the whole run). */
export const uniqueTable = (prefix: string): string => `${prefix}-${randomUUID().slice(0, 8)}`;

/** Creates a table keyed by `id` (a string) with a NEW_AND_OLD_IMAGES stream; returns the stream's ARN. */
export async function createStreamTable(client: DynamoDBClient, tableName: string): Promise<string> {
  await client.send(
    new CreateTableCommand({
      TableName: tableName,
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  const described = await client.send(new DescribeTableCommand({ TableName: tableName }));
  const arn = described.Table?.LatestStreamArn;
  if (arn === undefined) throw new Error(`table ${tableName} has no stream`);
  return arn;
}

/** Writes a flight item `{ id, dest, seats }`. */
export async function putFlight(client: DynamoDBClient, tableName: string, id: string, dest: string, seats = 100): Promise<void> {
  const item: Record<string, AttributeValue> = { id: { S: id }, dest: { S: dest }, seats: { N: String(seats) } };
  await client.send(new PutItemCommand({ TableName: tableName, Item: item }));
}

export async function updateSeats(client: DynamoDBClient, tableName: string, id: string, seats: number): Promise<void> {
  await client.send(
    new UpdateItemCommand({
      TableName: tableName,
      Key: { id: { S: id } },
      UpdateExpression: 'SET seats = :s',
      ExpressionAttributeValues: { ':s': { N: String(seats) } },
    }),
  );
}

export async function deleteFlight(client: DynamoDBClient, tableName: string, id: string): Promise<void> {
  await client.send(new DeleteItemCommand({ TableName: tableName, Key: { id: { S: id } } }));
}

/** Collects what the consumer saw. */
export class ChangeLog {
  readonly changes: StreamChange[] = [];
  readonly sequenceNumbers: string[] = [];
  readonly shardIds = new Set<string>();
  /** When set, the handler throws (once) on the first change of the item with this id. */
  failOnItem: string | undefined;

  /** Waits (bounded) until `count` changes arrived. */
  async waitFor(count: number, timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.changes.length < count && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    if (this.changes.length < count) throw new Error(`expected ${count} changes within ${timeoutMs} ms, got ${this.changes.length}`);
  }
}

export const CHANGE_LOG = Symbol('ChangeLog');

/** The consumer of these tests: logs every change in order; fails once on the item `log.failOnItem`, when set. */
@Consumer({ streamName: 'Flights', applicationName: 'flights-changes', errors: { maxRetries: 0 } })
@injectable()
export class FlightChanges {
  constructor(@inject(CHANGE_LOG) private readonly log: ChangeLog) {}

  @OnRecords()
  handle(records: KinesisRecord[]): void {
    for (const record of records) {
      const change = record.json<StreamChange>();
      if (this.log.failOnItem !== undefined && this.log.failOnItem === change.keys.id) {
        this.log.failOnItem = undefined;
        throw new Error(`refusing ${record.sequenceNumber}`);
      }
      this.log.changes.push(change);
      this.log.sequenceNumbers.push(record.sequenceNumber);
      this.log.shardIds.add(record.shardId);
    }
  }
}
