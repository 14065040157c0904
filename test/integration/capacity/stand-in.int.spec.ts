import {
  GetRecordsCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  RegisterStreamConsumerCommand,
  SubscribeToShardCommand,
  type KinesisClient,
  type SubscribeToShardEventStream,
} from '@aws-sdk/client-kinesis';
import { KinesisStandIn } from '../../../bench/capacity/stand-in/kinesis-stand-in';
import { sequenceNumber } from '../../../bench/capacity/stand-in/page-builder';
import { Consumer, createFanOutClient, EnhancedFanOut, OnRecords, type KinesisRecord } from '../../../src';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { createLogger } from '../../../src/core/logger';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';
import { TEST_PORT_BASE } from '../../harness/endpoints';

/** Smoke test of bench/capacity's Kinesis stand-in (the only part of the capacity benchmark that runs in CI). */

jest.setTimeout(60_000); // the project's testTimeout is not applied to integration files

const seen: Array<{ shardId: string; sequenceNumber: string; subSequenceNumber: number; bytes: number }> = [];

@Consumer({ streamName: 'capacity', applicationName: 'capacity-smoke', checkpoint: 'batch' })
class SmokeConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    for (const r of records) seen.push({ shardId: r.shardId, sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber, bytes: r.data.length });
  }
}

/** Reads the stand-in with the polling adapter (GetRecords), or with its fan-out fetcher (SubscribeToShard), until `expected` records came. */
async function readAll(standIn: KinesisStandIn, expected: number, mode: 'polling' | 'fan-out' = 'polling'): Promise<void> {
  seen.length = 0;
  const client = createKinesisClient({ endpoint: standIn.endpoint, region: 'us-east-1' });
  const subscribeClient = createFanOutClient({ endpoint: standIn.endpoint, region: 'us-east-1' });
  const logger = createLogger({ level: 'error' });
  const fanOut = mode === 'fan-out' ? new EnhancedFanOut({ streamName: 'capacity', consumerName: 'smoke', client, subscribeClient, logger }) : undefined;
  const source = new PollingRecordSource({
    streamName: 'capacity',
    client,
    checkpointStore: new MemoryCheckpointStore(),
    logger,
    idlePollIntervalMs: 100,
    ...(fanOut === undefined ? {} : { shardFetcher: fanOut.fetcher }),
  });
  const app = await ShardlineApp.start({ consumer: SmokeConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  try {
    for (let i = 0; i < 100 && seen.length < expected; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await app.stop();
    await source.close();
    client.destroy();
    subscribeClient.destroy();
  }
}

/** Asserts that each of `shards` shards delivered `perShard` records of 1 KiB, in increasing sequence-number order. */
function expectInOrder(shards: number, perShard: number): void {
  expect(seen).toHaveLength(shards * perShard);
  expect(seen.every((r) => r.bytes === 1024)).toBe(true);
  for (let shard = 0; shard < shards; shard++) {
    const sequence = seen.filter((r) => r.shardId === `shardId-00000000000${shard}`).map((r) => BigInt(r.sequenceNumber));
    expect(sequence).toHaveLength(perShard);
    expect(sequence.every((s, i) => i === 0 || s > (sequence[i - 1] as bigint))).toBe(true);
  }
}

/** Opens a SubscribeToShard stream on shard 0 (the consumer `smoke` must be registered). */
async function subscribe(client: KinesisClient, consumerArn: string, position: { Type: 'TRIM_HORIZON' } | { Type: 'AFTER_SEQUENCE_NUMBER'; SequenceNumber: string }, signal: AbortSignal): Promise<AsyncIterator<SubscribeToShardEventStream>> {
  const out = await client.send(new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: 'shardId-000000000000', StartingPosition: position }), { abortSignal: signal });
  const stream = out.EventStream;
  if (stream === undefined) throw new Error('no event stream');
  return stream[Symbol.asyncIterator]();
}

describe('capacity stand-in', () => {
  let standIn: KinesisStandIn | undefined;
  afterEach(async () => {
    await standIn?.stop();
    standIn = undefined;
  });

  it('serves 4 shards of 1 KiB records to the polling adapter, in order, and stops', async () => {
    const unknown: string[] = [];
    standIn = new KinesisStandIn({
      streamName: 'capacity',
      shardCount: 4,
      bytesPerSecondPerShard: 0,
      recordsPerShard: 300,
      port: TEST_PORT_BASE + 110,
      onUnknown: (operation) => unknown.push(operation),
    });
    await standIn.start();
    await readAll(standIn, 1_200);
    expect(unknown).toEqual([]);
    expectInOrder(4, 300);
    const stats = standIn.stats();
    expect(stats.served).toBe(1_200);
    expect(stats.operations).toEqual(expect.objectContaining({ DescribeStreamSummary: expect.any(Number), ListShards: 1, GetShardIterator: 4 }));
    const endpoint = standIn.endpoint;
    await standIn.stop();
    const client = createKinesisClient({ endpoint, region: 'us-east-1', maxAttempts: 1, requestTimeoutMs: 2_000 });
    await expect(client.send(new ListShardsCommand({ StreamName: 'capacity' }))).rejects.toThrow(); // stopped: nothing listens
    client.destroy();
  });

  it('pages ListShards, honours Limit, throttles the sixth GetRecords of a second, and splits KPL aggregates', async () => {
    standIn = new KinesisStandIn({ streamName: 'capacity', shardCount: 3, bytesPerSecondPerShard: 0, recordsPerShard: 50, userRecordsPerRecord: 4, port: TEST_PORT_BASE + 111 });
    await standIn.start();
    const client = createKinesisClient({ endpoint: standIn.endpoint, region: 'us-east-1', maxAttempts: 1 });
    try {
      const first = await client.send(new ListShardsCommand({ StreamName: 'capacity', MaxResults: 2 }));
      expect(first.Shards).toHaveLength(2);
      const second = await client.send(new ListShardsCommand({ NextToken: first.NextToken }));
      expect(second.Shards?.map((s) => s.ShardId)).toEqual(['shardId-000000000002']);
      expect(second.NextToken).toBeUndefined();
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: 'capacity', ShardId: 'shardId-000000000001', ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      for (let call = 0; call < 5; call++) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 7 }));
        expect(page.Records).toHaveLength(7);
        expect(page.MillisBehindLatest).toBeGreaterThan(0);
        iterator = page.NextShardIterator;
      }
      await expect(client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 7 }))).rejects.toMatchObject({ name: 'ProvisionedThroughputExceededException' });
    } finally {
      client.destroy();
    }
    await readAll(standIn, 3 * 50 * 4);
    expect(seen).toHaveLength(600);
    expect(new Set(seen.map((r) => r.subSequenceNumber))).toEqual(new Set([0, 1, 2, 3]));
  });

  it('serves enhanced fan-out: 2 shards in order through the fan-out fetcher, AFTER_SEQUENCE_NUMBER, backpressure, and a closed port after stop', async () => {
    const unknown: string[] = [];
    standIn = new KinesisStandIn({
      streamName: 'capacity',
      shardCount: 2,
      bytesPerSecondPerShard: 0,
      recordsPerShard: 30_000,
      fanOutBytesPerSecondPerShard: 0, // events of up to 10,000 records: three would be written at once without backpressure
      port: TEST_PORT_BASE + 112,
      onUnknown: (operation) => unknown.push(operation),
    });
    await standIn.start();
    const client = createFanOutClient({ endpoint: standIn.endpoint, region: 'us-east-1' });
    const admin = createKinesisClient({ endpoint: standIn.endpoint, region: 'us-east-1' });
    const controller = new AbortController();
    try {
      const consumer = await admin.send(
        new RegisterStreamConsumerCommand({ StreamARN: 'arn:aws:kinesis:us-east-1:000000000000:stream/capacity', ConsumerName: 'smoke' }),
      );
      const arn = consumer.Consumer?.ConsumerARN ?? '';
      expect(consumer.Consumer?.ConsumerStatus).toBe('ACTIVE');
      // An unread subscription: the stand-in writes the next event only once the socket took the previous one.
      const events = await subscribe(client, arn, { Type: 'TRIM_HORIZON' }, controller.signal);
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      expect(standIn.stats().fanOut.events).toBeLessThanOrEqual(2);
      const first = (await events.next()).value as SubscribeToShardEventStream;
      const records = first.SubscribeToShardEvent?.Records ?? [];
      expect(records).toHaveLength(10_000);
      expect(records[0]?.SequenceNumber).toBe(sequenceNumber(0, 0));
      expect(first.SubscribeToShardEvent?.ContinuationSequenceNumber).toBe(sequenceNumber(0, 9_999));
      expect(first.SubscribeToShardEvent?.MillisBehindLatest).toBe(20_000); // records behind, without an arrival rate
      controller.abort();
      // Resuming after a continuation (the next subscription of the pair, 1 s later as Kinesis allows) starts right after it.
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      const resumed = await subscribe(client, arn, { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequenceNumber(0, 12_345) }, new AbortController().signal);
      const next = (await resumed.next()).value as SubscribeToShardEventStream;
      expect(next.SubscribeToShardEvent?.Records?.[0]?.SequenceNumber).toBe(sequenceNumber(0, 12_346));
    } finally {
      controller.abort();
      client.destroy();
      admin.destroy();
    }
    const endpoint = standIn.endpoint;
    await standIn.stop();
    const after = createKinesisClient({ endpoint, region: 'us-east-1', maxAttempts: 1, requestTimeoutMs: 2_000 });
    await expect(after.send(new ListShardsCommand({ StreamName: 'capacity' }))).rejects.toThrow(); // stopped: nothing listens
    after.destroy();

    standIn = new KinesisStandIn({ streamName: 'capacity', shardCount: 2, bytesPerSecondPerShard: 0, recordsPerShard: 500, port: TEST_PORT_BASE + 113, onUnknown: (operation) => unknown.push(operation) });
    await standIn.start();
    await readAll(standIn, 1_000, 'fan-out');
    expectInOrder(2, 500);
    expect(unknown).toEqual([]);
    expect(standIn.stats().operations).toEqual(expect.objectContaining({ SubscribeToShard: 2, RegisterStreamConsumer: 1 }));
    expect(standIn.stats().getRecordsCalls).toBe(0);
  });

  it('reads more shards by fan-out than the 50 connections of the SDK\'s default HTTP/1.1 agent (each subscription holds one)', async () => {
    standIn = new KinesisStandIn({ streamName: 'capacity', shardCount: 64, bytesPerSecondPerShard: 0, recordsPerShard: 20, port: TEST_PORT_BASE + 114 });
    await standIn.start();
    await readAll(standIn, 64 * 20, 'fan-out');
    const perShard = new Map<string, number>();
    for (const r of seen) perShard.set(r.shardId, (perShard.get(r.shardId) ?? 0) + 1);
    expect({ shards: perShard.size, records: seen.length }).toEqual({ shards: 64, records: 1_280 });
    expect([...perShard.values()].every((n) => n === 20)).toBe(true);
  });
});
