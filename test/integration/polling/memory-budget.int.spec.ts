import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Consumer, OnRecords, type KinesisRecord } from '../../../src';
import { MemoryBudget } from '../../../src/adapters/polling/memory-budget';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, makeRecords, memoryLogger, tempDir, uniqueName, waitFor, type TestRecord } from './polling-test-kit';

jest.setTimeout(120_000);

const SHARDS = 4;
const RECORDS = 8_000;
const MAX_BUFFERED_BYTES = 1024 * 1024;
const SLOW_MS = 20;

/** What the slow consumer saw, across its instances (one per shard). */
const seen = { handled: [] as Array<{ id: string; key: string; n: number }>, inFlightBytes: 0, maxInFlightBytes: 0, largestBatch: 0 };

/** A slow handler: 20 ms per batch, counting the payload bytes of the batches it holds at once (across shards). */
@Consumer({ streamName: 'budget-it', applicationName: 'budget-it-app', checkpoint: 'batch' })
class SlowConsumer {
  @OnRecords()
  async handle(records: readonly KinesisRecord[]): Promise<void> {
    const bytes = records.reduce((sum, r) => sum + r.data.length, 0);
    seen.inFlightBytes += bytes;
    seen.maxInFlightBytes = Math.max(seen.maxInFlightBytes, seen.inFlightBytes);
    seen.largestBatch = Math.max(seen.largestBatch, records.length);
    await new Promise((resolve) => setTimeout(resolve, SLOW_MS));
    for (const record of records) {
      const { id, key, n } = record.json<TestRecord>();
      seen.handled.push({ id, key, n });
    }
    seen.inFlightBytes -= bytes;
  }
}

/** Puts records of 1 KiB each (the JSON of the test record, padded), in order per key. */
async function putPadded(client: KinesisClient, stream: string, records: readonly TestRecord[]): Promise<void> {
  for (let i = 0; i < records.length; i += 500) {
    const chunk = records.slice(i, i + 500);
    const out = await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: chunk.map((r) => {
          const text = JSON.stringify({ ...r, pad: '' });
          return { Data: Buffer.from(JSON.stringify({ ...r, pad: 'x'.repeat(1024 - text.length) })), PartitionKey: r.key };
        }),
      }),
    );
    if ((out.FailedRecordCount ?? 0) > 0) throw new Error(`${out.FailedRecordCount} records failed`);
  }
}

describe('the polling memory budget on kinesalite (issue 11, defect 10)', () => {
  it('keeps a 4-shard backlog behind a slow handler within maxBufferedBytes, and delivers every record in order', async () => {
    const client = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('budget');
    const { logger, lines } = memoryLogger();
    try {
      await createStream(client, stream, SHARDS);
      const records = makeRecords('m', RECORDS, 64);
      await putPadded(client, stream, records);
      const budget = new MemoryBudget(MAX_BUFFERED_BYTES);
      const source = new PollingRecordSource({
        streamName: stream,
        client,
        checkpointStore: new FileCheckpointStore({ directory: tempDir(), applicationName: 'budget-it-app', streamName: stream }),
        logger,
        memoryBudget: budget,
        minPollIntervalMs: 20,
        idlePollIntervalMs: 100,
      });
      const app = await ShardlineApp.start({ consumer: SlowConsumer, source, logger, shutdownTimeoutMs: 5_000 });
      try {
        await waitFor(() => seen.handled.length >= RECORDS, 90_000, () => `${seen.handled.length} of ${RECORDS} records handled; log:\n${lines.slice(-10).join('\n')}`);
      } finally {
        await app.stop();
        await source.close();
      }

      // Every record, once, in order within its partition key.
      expect(new Set(seen.handled.map((r) => r.id))).toEqual(new Set(records.map((r) => r.id)));
      expect(seen.handled).toHaveLength(RECORDS);
      const lastByKey = new Map<string, number>();
      for (const r of seen.handled) {
        expect(r.n).toBeGreaterThan(lastByKey.get(r.key) ?? -1);
        lastByKey.set(r.key, r.n);
      }
      // Without a budget each shard reads its whole backlog (2,000 records, 2 MiB) in one page: 8 MiB at once.
      expect(seen.maxInFlightBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
      expect(source.highWaterBytes).toBeGreaterThan(0);
      expect(source.highWaterBytes).toBeLessThanOrEqual(MAX_BUFFERED_BYTES);
      expect(source.bufferedBytes).toBe(0);
      expect(budget.shardCount).toBe(0);
    } finally {
      client.destroy();
    }
  });
});
