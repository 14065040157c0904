import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { readFileSync } from 'node:fs';
import { createFanOutClient } from '../../../src/adapters/efo/fan-out-client';
import { StreamConsumers } from '../../../src/adapters/efo/stream-consumers';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { KplAggregator } from '../../../src/kpl/aggregator';
import { kinesisEndpoint } from '../../harness/endpoints';
import { collected, collectedIds, CollectorConsumer } from '../polling/collector.consumer';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName, waitFor } from '../polling/polling-test-kit';
import { fanOutSource } from './efo-test-kit';

jest.setTimeout(90_000);

let client: KinesisClient;
let subscribeClient: KinesisClient;
let getRecordsCalls = 0;
beforeAll(() => {
  client = localKinesis();
  // The test proves reading goes by SubscribeToShard: GetRecords must never be called.
  client.middlewareStack.add(
    (next, context) => (args) => {
      if (context.commandName === 'GetRecordsCommand') getRecordsCalls++;
      return next(args);
    },
    { step: 'initialize', name: 'countGetRecords' },
  );
  // An http:// endpoint gets HTTP/1.1: kinesis-local breaks SubscribeToShard over HTTP/2 (docs/efo.md, emulator gaps).
  subscribeClient = createFanOutClient({ endpoint: kinesisEndpoint(), region: 'us-east-1' });
});
afterAll(() => {
  client.destroy();
  subscribeClient.destroy();
});
beforeEach(() => {
  collected.length = 0;
});

async function startApp(stream: string, dir: string, consumerName: string) {
  const { source, store, logger, lines, subscribes } = fanOutSource(stream, dir, { client, subscribeClient }, { consumerName, fanOut: { subscribeRetryBaseMs: 200, subscribeRetryCapMs: 1_000 } });
  const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  const stop = async (): Promise<void> => {
    await app.stop();
    await source.close();
  };
  return { app, source, store, lines, subscribes, stop };
}

describe('enhanced fan-out on kinesis-local', () => {
  it('registers the consumer, reads every record of 2 shards by SubscribeToShard, checkpoints, and resumes after a restart', async () => {
    const stream = uniqueName('efo-basic');
    await createStream(client, stream, 2);
    const records = makeRecords('e', 200, 12);
    await putRecords(client, stream, records.slice(0, 100));
    const dir = tempDir('shardline-efo-');
    let run = await startApp(stream, dir, 'efo-it');
    await putRecords(client, stream, records.slice(100));
    await waitFor(() => new Set(collectedIds()).size === records.length, 45_000, () => `${new Set(collectedIds()).size} of ${records.length}`);
    await run.stop();
    expect(getRecordsCalls).toBe(0);
    expect(collectedIds()).toHaveLength(records.length);
    expect(run.subscribes.filter((r) => r === 'ok').length).toBeGreaterThanOrEqual(2);
    const consumers = await new StreamConsumers(client).list(stream);
    expect(consumers.map((c) => [c.name, c.status])).toEqual([['efo-it', 'ACTIVE']]);
    const file = JSON.parse(readFileSync(run.store.path, 'utf8')) as { shards: Record<string, { checkpoint: string }> };
    for (const shardId of ['shardId-000000000000', 'shardId-000000000001']) {
      const lastSeq = collected.filter((e) => e.shardId === shardId).flatMap((e) => e.records ?? []).at(-1)?.seq;
      expect(file.shards[shardId]?.checkpoint).toBe(lastSeq);
    }

    // Restart: the new subscriptions start after the checkpoints (the emulator may refuse them for a moment while it
    // notices the old connections closed: ResourceInUseException, retried).
    collected.length = 0;
    const more = makeRecords('m', 40, 8, 1_000);
    await putRecords(client, stream, more);
    run = await startApp(stream, dir, 'efo-it');
    await waitFor(() => new Set(collectedIds()).size >= more.length, 45_000, () => `${new Set(collectedIds()).size} of ${more.length}`);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // anything re-read would show up by now
    await run.stop();
    expect(collectedIds().sort()).toEqual(more.map((r) => r.id).sort());
    expect(getRecordsCalls).toBe(0);
  });

  it('resumes from a checkpoint inside a KPL aggregate at the next user record', async () => {
    const stream = uniqueName('efo-kpl');
    await createStream(client, stream, 1);
    const aggregator = new KplAggregator();
    for (let i = 0; i < 6; i++) aggregator.add({ partitionKey: `user-${i}`, data: Buffer.from(JSON.stringify({ id: `u${i}`, key: 'user', n: i })) });
    const aggregate = aggregator.flush();
    if (aggregate === undefined) throw new Error('no aggregate');
    const put = await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: [
          { Data: aggregate.data, PartitionKey: aggregate.partitionKey },
          { Data: Buffer.from(JSON.stringify({ id: 'plain', key: 'p', n: 0 })), PartitionKey: 'p' },
        ],
      }),
    );
    const aggregateSeq = put.Records?.[0]?.SequenceNumber ?? '';
    const dir = tempDir('shardline-efo-');
    // A previous run processed the aggregate's user records 0..2 and checkpointed there.
    const store = new FileCheckpointStore({ directory: dir, applicationName: 'efo-it-app', streamName: stream });
    await store.open();
    await store.acquire({ shardId: 'shardId-000000000000', parentShardIds: [], initialCheckpoint: 'TRIM_HORIZON' });
    await store.checkpoint('shardId-000000000000', { sequenceNumber: aggregateSeq, subSequenceNumber: 2 });
    await store.release();
    await store.close();

    const run = await startApp(stream, dir, 'efo-it-kpl');
    await waitFor(() => collectedIds().length >= 4, 30_000, () => `${collectedIds().length} of 4`);
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await run.stop();
    const all = collected.flatMap((e) => e.records ?? []);
    expect(all.map((r) => r.id)).toEqual(['u3', 'u4', 'u5', 'plain']);
    expect(all.slice(0, 3).map((r) => [r.seq, r.sub])).toEqual([
      [aggregateSeq, 3],
      [aggregateSeq, 4],
      [aggregateSeq, 5],
    ]);
    expect(run.lines.some((l) => l.includes(`Subscribed (AT_SEQUENCE_NUMBER ${aggregateSeq})`))).toBe(true);
  });
});
