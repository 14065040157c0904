import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDbLeaseTable } from '../../../src/leases/dynamodb-lease-table';

/** Takes a lease the way a lease coordinator takes an expired or stolen one: conditioned on the counter only. */
export async function takeAsCoordinator(client: DynamoDBClient, tableName: string, shardId: string, newOwner: string): Promise<void> {
  const table = new DynamoDbLeaseTable({ client, tableName });
  const got = await table.get(shardId);
  if (got.outcome !== 'ok' || got.lease === undefined) throw new Error(`no lease ${shardId}`);
  const taken = await table.take(got.lease, newOwner);
  if (taken.outcome !== 'ok') throw new Error(`take of ${shardId} failed: ${taken.outcome}`);
}
