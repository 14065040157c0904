import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { KinesisStandIn } from '../../../bench/capacity/stand-in/kinesis-stand-in';
import { Consumer, OnRecords, type KinesisRecord } from '../../../src';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { createLogger } from '../../../src/core/logger';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';
import { TEST_PORT_BASE } from '../../harness/endpoints';

/** Smoke test of bench/capacity's Kinesis stand-in (the only part of the capacity benchmark that runs in CI). */

const seen: Array<{ shardId: string; sequenceNumber: string; subSequenceNumber: number; bytes: number }> = [];

@Consumer({ streamName: 'capacity', applicationName: 'capacity-smoke', checkpoint: 'batch' })
class SmokeConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    for (const r of records) seen.push({ shardId: r.shardId, sequenceNumber: r.sequenceNumber, subSequenceNumber: r.subSequenceNumber, bytes: r.data.length });
  }
}

async function readAll(standIn: KinesisStandIn, expected: number): Promise<void> {
  seen.length = 0;
  const client = createKinesisClient({ endpoint: standIn.endpoint, region: 'us-east-1' });
  const logger = createLogger({ level: 'error' });
  const source = new PollingRecordSource({ streamName: 'capacity', client, checkpointStore: new MemoryCheckpointStore(), logger, idlePollIntervalMs: 100 });
  const app = await ShardlineApp.start({ consumer: SmokeConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  try {
    for (let i = 0; i < 100 && seen.length < expected; i++) await new Promise((resolve) => setTimeout(resolve, 100));
  } finally {
    await app.stop();
    await source.close();
    client.destroy();
  }
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
    expect(seen).toHaveLength(1_200);
    expect(unknown).toEqual([]);
    expect(seen.every((r) => r.bytes === 1024)).toBe(true);
    for (let shard = 0; shard < 4; shard++) {
      const sequence = seen.filter((r) => r.shardId === `shardId-00000000000${shard}`).map((r) => BigInt(r.sequenceNumber));
      expect(sequence).toHaveLength(300);
      expect(sequence.every((s, i) => i === 0 || s > (sequence[i - 1] as bigint))).toBe(true);
    }
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
});
