import { DynamoDBClient, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { PutRecordsCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { DynamoDbCheckpointStore } from '../../../src/checkpoint-stores/dynamodb-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { dynamodbEndpoint, kinesaliteEndpoint } from '../../harness/endpoints';
import { collected, collectedIds, CollectorConsumer } from './collector.consumer';
import { createStream, listShards, localKinesis, makeRecords, memoryLogger, putRecords, uniqueName, waitActive, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

/** A DynamoDB client on dynalite whose UpdateItem calls listed in `failing` (1-based, counted in order) fail. */
function faultyDynamo(failing: ReadonlySet<number>): { client: DynamoDBClient; updates: () => number; injected: string[] } {
  const client = new DynamoDBClient({ endpoint: dynamodbEndpoint(), region: 'us-east-1', credentials: { accessKeyId: 'test', secretAccessKey: 'test' } });
  let updates = 0;
  const injected: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'UpdateItemCommand') {
        updates++;
        if (failing.has(updates)) {
          // Alternate a throttle and a network error (the emulator never throttles by itself).
          const error =
            injected.length % 2 === 0
              ? new ProvisionedThroughputExceededException({ message: 'Rate of requests exceeds the allowed throughput', $metadata: {} })
              : Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
          injected.push(error.name);
          throw error;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'shardlineTestDynamoFaults' },
  );
  return { client, updates: () => updates, injected };
}

async function start(stream: string, kinesis: KinesisClient, dynamo: DynamoDBClient, table: string) {
  const { logger, lines } = memoryLogger();
  const source = new PollingRecordSource({
    streamName: stream,
    client: kinesis,
    checkpointStore: new DynamoDbCheckpointStore({ tableName: table, client: dynamo, workerId: 'poller-faults' }),
    logger,
    maxRecordsPerCall: 40,
    minPollIntervalMs: 20,
    idlePollIntervalMs: 100,
    shardSyncIntervalMs: 1_000,
    retryBaseMs: 20,
    retryCapMs: 50,
    checkpointAttempts: 3,
    reopenDelayMs: 200,
  });
  const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  return { app, lines, stop: async () => { await app.stop(); await source.close(); } };
}

beforeEach(() => {
  collected.length = 0;
});

describe('checkpoint store failures in a live polling process (kinesalite + dynalite with injected faults)', () => {
  it('retries a throttled checkpoint, releases and reopens a shard whose checkpoints keep failing, and still starts the children of a split', async () => {
    const kinesis = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('poll-cpfail');
    await createStream(kinesis, stream, 1);
    // UpdateItem #1 is the first checkpoint: it fails 2 times and works on its 3rd attempt (#3).
    // Later, #5-#8 fail: 3 attempts of a checkpoint (#5-#7), then the release (#8): the shard is released and reopened.
    const faults = faultyDynamo(new Set([1, 2, 5, 6, 7, 8]));
    const table = uniqueName('leases-cpfail');
    const first = makeRecords('a', 120, 4);
    await putRecords(kinesis, stream, first);
    const run = await start(stream, kinesis, faults.client, table);
    try {
      await waitFor(() => new Set(collectedIds()).size === first.length, 30_000, () => `got ${new Set(collectedIds()).size} of ${first.length}\n${run.lines.join('\n')}`);
      await waitFor(() => faults.injected.length === 6, 30_000, () => `injected ${faults.injected.length}\n${run.lines.join('\n')}`);
      expect(run.lines.join('\n')).toMatch(/reopening it from its stored checkpoint/);
      // The shard was reopened: it is read again after the failures (a record put now is delivered).
      const second = makeRecords('b', 20, 4);
      await putRecords(kinesis, stream, second);
      await waitFor(() => second.every((r) => collectedIds().includes(r.id)), 30_000, () => `second batch missing\n${run.lines.join('\n')}`);
      expect(run.app.activeShards).toEqual(['shardId-000000000000']);

      // Split: the parent ends, SHARD_END is stored, the children start and get their records.
      const [parent] = await listShards(kinesis, stream);
      const end = BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0');
      await kinesis.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: (end / 2n).toString() }));
      await waitActive(kinesis, stream);
      await kinesis.send(
        new PutRecordsCommand({
          StreamName: stream,
          Records: [
            { Data: Buffer.from(JSON.stringify({ id: 'child-low', key: 'x', n: 0 })), PartitionKey: 'x', ExplicitHashKey: '1' },
            { Data: Buffer.from(JSON.stringify({ id: 'child-high', key: 'y', n: 0 })), PartitionKey: 'y', ExplicitHashKey: (end - 1n).toString() },
          ],
        }),
      );
      await waitFor(() => ['child-low', 'child-high'].every((id) => collectedIds().includes(id)), 60_000, () => `children not read\n${run.lines.join('\n')}`);
      const ended = collected.findIndex((e) => e.type === 'ended' && e.shardId === 'shardId-000000000000');
      const firstChild = collected.findIndex((e) => e.type === 'opened' && e.shardId !== 'shardId-000000000000');
      expect(ended).toBeGreaterThanOrEqual(0);
      expect(firstChild).toBeGreaterThan(ended);
      // Every record was delivered (some twice: the batch whose checkpoint failed is read again from the stored checkpoint).
      expect(new Set(collectedIds())).toEqual(new Set([...first, ...second].map((r) => r.id).concat(['child-low', 'child-high'])));
    } finally {
      await run.stop();
      faults.client.destroy();
    }
  });
});
