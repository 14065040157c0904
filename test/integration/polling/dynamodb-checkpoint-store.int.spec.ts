import { DescribeTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, type AttributeValue } from '@aws-sdk/client-dynamodb';
import { GetRecordsCommand, GetShardIteratorCommand } from '@aws-sdk/client-kinesis';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { DynamoDbCheckpointStore, LEASE_OWNER_INDEX } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { takeAsCoordinator } from '../fleet/fleet-kit';
import { CheckpointError, LeaseLostError } from '../../../src/core/errors';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { dynamodbEndpoint } from '../../harness/endpoints';
import { collected, collectedIds, CollectorConsumer } from './collector.consumer';
import { createStream, localKinesis, makeRecords, memoryLogger, putRecords, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

const dynamo = (): DynamoDBClient =>
  new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });

async function item(client: DynamoDBClient, table: string, shardId: string): Promise<Record<string, AttributeValue>> {
  const out = await client.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: shardId } }, ConsistentRead: true }));
  if (out.Item === undefined) throw new Error(`no lease item for ${shardId}`);
  return out.Item;
}

describe('DynamoDbCheckpointStore (KCL lease table schema) on dynalite', () => {
  it('creates the KCL table layout and writes lease items with the KCL attribute names and types', async () => {
    const client = dynamo();
    const table = uniqueName('leases');
    const store = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'poller-a' });
    await store.open();
    const described = await client.send(new DescribeTableCommand({ TableName: table }));
    expect(described.Table?.KeySchema).toEqual([{ AttributeName: 'leaseKey', KeyType: 'HASH' }]);
    expect(described.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe(LEASE_OWNER_INDEX);

    await store.acquire({
      shardId: 'shardId-000000000002',
      parentShardIds: ['shardId-000000000000'],
      hashKeyRange: { startingHashKey: '0', endingHashKey: '85070591730234615865843651857942052862' },
      initialCheckpoint: 'TRIM_HORIZON',
    });
    expect(await item(client, table, 'shardId-000000000002')).toEqual({
      leaseKey: { S: 'shardId-000000000002' },
      leaseOwner: { S: 'poller-a' },
      leaseCounter: { N: '1' },
      ownerSwitchesSinceCheckpoint: { N: '0' },
      checkpoint: { S: 'TRIM_HORIZON' },
      checkpointSubSequenceNumber: { N: '0' },
      parentShardId: { SS: ['shardId-000000000000'] },
      startingHashKey: { S: '0' },
      endingHashKey: { S: '85070591730234615865843651857942052862' },
    });
    await store.checkpoint('shardId-000000000002', { sequenceNumber: '49590338271490256608559692538361571095921575989136588898', subSequenceNumber: 3 });
    const after = await item(client, table, 'shardId-000000000002');
    expect(after.checkpoint).toEqual({ S: '49590338271490256608559692538361571095921575989136588898' });
    expect(after.checkpointSubSequenceNumber).toEqual({ N: '3' });
    expect(after.leaseCounter).toEqual({ N: '2' });
    await store.checkpoint('shardId-000000000002', { sequenceNumber: 'SHARD_END', subSequenceNumber: 0 }, ['shardId-000000000004']);
    const ended = await item(client, table, 'shardId-000000000002');
    expect(ended.checkpoint).toEqual({ S: 'SHARD_END' });
    expect(ended.childShardIds).toEqual({ SS: ['shardId-000000000004'] });
    await store.close();
    expect((await item(client, table, 'shardId-000000000002')).leaseOwner).toBeUndefined(); // released on close
    client.destroy();
  });

  it('fences: never takes a lease another worker holds; once another worker takes it (as a coordinator does), the old owner cannot checkpoint', async () => {
    const client = dynamo();
    const table = uniqueName('fence');
    const a = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'worker-a' });
    const b = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'worker-b' });
    await a.open();
    await a.acquire({ shardId: 'shardId-000000000000', parentShardIds: [], initialCheckpoint: 'TRIM_HORIZON' });
    await a.checkpoint('shardId-000000000000', { sequenceNumber: '100', subSequenceNumber: 0 });
    // The old single-process store took every lease unconditionally; now a held lease is refused.
    await expect(b.acquire({ shardId: 'shardId-000000000000', parentShardIds: [], initialCheckpoint: 'TRIM_HORIZON' })).rejects.toThrow(/held by worker-a: taking it only once/);
    await takeAsCoordinator(client, table, 'shardId-000000000000', 'worker-b');
    await expect(a.checkpoint('shardId-000000000000', { sequenceNumber: '200', subSequenceNumber: 0 })).rejects.toBeInstanceOf(CheckpointError);
    const stored = await item(client, table, 'shardId-000000000000');
    expect(stored.checkpoint).toEqual({ S: '100' });
    expect(stored.leaseOwner).toEqual({ S: 'worker-b' });
    expect(stored.ownerSwitchesSinceCheckpoint).toEqual({ N: '1' });
    client.destroy();
  });

  it('takes a lease whose holder died (its counter unchanged for failoverTimeMs), and not one that is renewed meanwhile', async () => {
    const client = dynamo();
    const table = uniqueName('stale');
    let nowMs = 0;
    const shard = { shardId: 'shardId-000000000000', parentShardIds: [], initialCheckpoint: 'TRIM_HORIZON' } as const;
    const dead = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'worker-dead' });
    const next = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'worker-next', failoverTimeMs: 1_000, nowMs: () => nowMs });
    await dead.open();
    await dead.acquire(shard);
    await dead.checkpoint(shard.shardId, { sequenceNumber: '100', subSequenceNumber: 0 });
    // kill -9: the lease keeps worker-dead as its owner. A restarted process has a new worker id.
    await expect(next.acquire(shard)).rejects.toBeInstanceOf(LeaseLostError);
    nowMs = 600;
    // The holder is alive and checkpoints (the counter moves): the clock starts again.
    await dead.checkpoint(shard.shardId, { sequenceNumber: '150', subSequenceNumber: 0 });
    await expect(next.acquire(shard)).rejects.toThrow(/held by worker-dead/);
    nowMs = 1_500;
    await expect(next.acquire(shard)).rejects.toThrow(/held by worker-dead/);
    nowMs = 2_700;
    const taken = await next.acquire(shard);
    expect(taken.checkpoint).toEqual({ sequenceNumber: '150', subSequenceNumber: 0 });
    expect((await item(client, table, shard.shardId)).leaseOwner).toEqual({ S: 'worker-next' });
    await expect(dead.checkpoint(shard.shardId, { sequenceNumber: '200', subSequenceNumber: 0 })).rejects.toBeInstanceOf(CheckpointError);
    client.destroy();
  });

  it('resumes from a lease item written by the KCL daemon, and writes its checkpoint back in the same schema', async () => {
    const kinesis = localKinesis();
    const client = dynamo();
    const stream = uniqueName('poll-kcl');
    const table = uniqueName('kcl-app');
    await createStream(kinesis, stream, 1);
    const records = makeRecords('d', 30, 3);
    await putRecords(kinesis, stream, records);
    // The 10th record's sequence number, as a KCL worker would have checkpointed it.
    const iterator = await kinesis.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: 'shardId-000000000000', ShardIteratorType: 'TRIM_HORIZON' }));
    const page = await kinesis.send(new GetRecordsCommand({ ShardIterator: iterator.ShardIterator, Limit: 10 }));
    const tenth = page.Records?.[9]?.SequenceNumber ?? '';
    const store = new DynamoDbCheckpointStore({ tableName: table, client, workerId: 'poller' });
    await store.open();
    // The item exactly as a KCL 3 daemon leaves it (docs/kcl-local-findings.md, "Lease item after checkpoints").
    await client.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          leaseKey: { S: 'shardId-000000000000' },
          leaseOwner: { S: 'worker-a' },
          leaseCounter: { N: '36' },
          ownerSwitchesSinceCheckpoint: { N: '0' },
          checkpoint: { S: tenth },
          checkpointSubSequenceNumber: { N: '0' },
          startingHashKey: { S: '0' },
          endingHashKey: { S: '340282366920938463463374607431768211455' },
          throughputKBps: { N: '0.0' },
        },
      }),
    );
    collected.length = 0;
    const { logger } = memoryLogger();
    const source = new PollingRecordSource({ streamName: stream, client: kinesis, checkpointStore: store, logger, minPollIntervalMs: 50, idlePollIntervalMs: 100 });
    const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger });
    await waitFor(() => collectedIds().length >= 20, 30_000, () => `${collectedIds().length} of 20`);
    await new Promise((r) => setTimeout(r, 300));
    await app.stop();
    await source.close();
    expect(collectedIds()).toEqual(records.slice(10).map((r) => r.id));
    const stored = await item(client, table, 'shardId-000000000000');
    const lastSeq = collected.flatMap((e) => e.records ?? []).at(-1)?.seq;
    expect(stored.checkpoint).toEqual({ S: lastSeq });
    expect(stored.checkpointSubSequenceNumber).toEqual({ N: '0' });
    expect(stored.ownerSwitchesSinceCheckpoint).toEqual({ N: '0' });
    expect(Number(stored.leaseCounter?.N)).toBeGreaterThan(36);
    expect(Number(stored.throughputKBps?.N)).toBe(0); // KCL-only attributes are left alone
    expect(stored.leaseOwner).toBeUndefined(); // given back on close, so a KCL worker can take it at once
    kinesis.destroy();
    client.destroy();
  });
});
