import { ProducerError } from '../../../src/core/errors';
import { deaggregate } from '../../../src/kpl/deaggregate';
import { KinesisProducer, type ProducerRecord } from '../../../src/producer/kinesis-producer';
import { type KinesisProducerOptions } from '../../../src/producer/producer-options';
import { FakeKinesis } from './fake-kinesis';

function producer(fake: FakeKinesis, options: Partial<KinesisProducerOptions> = {}): KinesisProducer {
  return new KinesisProducer(fake.client, { streamName: 's', lingerMs: 5, retryBaseMs: 1, retryCapMs: 5, ...options });
}

function records(n: number, prefix = 'r'): ProducerRecord[] {
  return Array.from({ length: n }, (_, i) => ({ data: `${prefix}${i}`, partitionKey: `k${i}` }));
}

function putRecordsSizes(fake: FakeKinesis): number[] {
  return fake.calls.filter((c) => c.name === 'PutRecords').map((c) => (c.input.Records as unknown[]).length);
}

describe('KinesisProducer.putMany', () => {
  it('batches the records and returns each one its sequence number and shard, in input order', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { maxInFlightCalls: 1 });
    const result = await p.putMany(records(1200));
    expect(putRecordsSizes(fake)).toEqual([500, 500, 200]);
    expect(result).toMatchObject({ deliveredCount: 1200, failedCount: 0 });
    expect(result.errors.every((e) => e === undefined)).toBe(true);
    for (let i = 0; i < 1200; i++) {
      const stored = fake.stored.find((s) => s.sequenceNumber === result.sequenceNumbers[i])!;
      expect(stored.data.toString()).toBe(`r${i}`);
      expect(stored.partitionKey).toBe(`k${i}`);
      expect(result.shardIds[i]).toBe(stored.shardId);
      expect(stored.shardId).toBe(fake.shardOf(FakeKinesis.hashOf(`k${i}`)));
    }
    expect(p.stats()).toMatchObject({ deliveredRecords: 1200, queuedRecords: 0 });
    await p.close();
  });

  it('honours explicitHashKey and accepts Buffers, strings and objects', async () => {
    const fake = new FakeKinesis(4);
    const p = producer(fake);
    const last = ((1n << 128n) - 1n).toString();
    const result = await p.putMany([
      { data: Buffer.from([1, 2]), partitionKey: 'a', explicitHashKey: last },
      { data: { x: 1 }, partitionKey: 'b', explicitHashKey: '0' },
      { data: 'text', partitionKey: 'c' },
    ]);
    expect(result.shardIds.slice(0, 2)).toEqual(['shardId-000000000003', 'shardId-000000000000']);
    const byKey = new Map(fake.stored.map((s) => [s.partitionKey, s.data.toString('hex')]));
    expect(byKey.get('a')).toBe('0102');
    expect(Buffer.from(byKey.get('b')!, 'hex').toString()).toBe('{"x":1}');
    expect(Buffer.from(byKey.get('c')!, 'hex').toString()).toBe('text');
  });

  it('retries only the failed entries of a partial failure', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = (_entry, attempt, index) => (attempt <= 2 && index % 3 === 0 ? 'ProvisionedThroughputExceededException' : undefined);
    const p = producer(fake, { maxInFlightCalls: 1 });
    const result = await p.putMany(records(1000));
    expect(result).toMatchObject({ deliveredCount: 1000, failedCount: 0 });
    expect(fake.stored).toHaveLength(1000);
    expect(new Set(fake.stored.map((s) => s.data.toString())).size).toBe(1000);
    const sent = putRecordsSizes(fake).reduce((a, b) => a + b, 0);
    expect(sent).toBeGreaterThan(1000);
    expect(p.stats().retriedRecords).toBe(sent - 1000);
    // Every entry that went again had failed: a retry call carries only failed entries of earlier calls.
    const first = fake.calls[0]!.input.Records as { PartitionKey: string }[];
    const second = fake.calls.find((c, i) => i > 0 && (c.input.Records as { PartitionKey: string }[]).some((r) => first.some((f) => f.PartitionKey === r.PartitionKey)))!;
    const retried = (second.input.Records as { PartitionKey: string }[]).filter((r) => first.some((f) => f.PartitionKey === r.PartitionKey));
    expect(retried.every((r) => first.findIndex((f) => f.PartitionKey === r.PartitionKey) % 3 === 0)).toBe(true);
    for (let i = 0; i < 1000; i++) expect(fake.stored.find((s) => s.sequenceNumber === result.sequenceNumbers[i])!.data.toString()).toBe(`r${i}`);
  });

  it('puts a record that finally fails as an error in its slot while the others succeed', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = (entry) => (entry.PartitionKey === 'k7' ? 'InternalFailure' : entry.PartitionKey === 'k9' ? 'KMSAccessDeniedException' : undefined);
    const p = producer(fake, { maxAttempts: 3 });
    const input = records(20);
    input[4] = { data: 'bad', partitionKey: '' }; // invalid: never sent
    const result = await p.putMany(input);
    expect(result).toMatchObject({ deliveredCount: 17, failedCount: 3 });
    expect(result.errors.map((e, i) => (e === undefined ? -1 : i)).filter((i) => i >= 0)).toEqual([4, 7, 9]);
    expect(result.errors[7]).toBeInstanceOf(ProducerError);
    expect(result.errors[7]!.errorCode).toBe('InternalFailure');
    expect(result.errors[7]!.message).toMatch(/after 3 attempts/);
    expect(result.errors[9]!.message).toMatch(/after 1 attempt: KMSAccessDeniedException.*not retried/);
    expect(result.errors[4]!.message).toMatch(/1 to 256 characters/);
    expect(result.sequenceNumbers[7]).toBeUndefined();
    expect(result.shardIds[7]).toBeUndefined();
    for (const i of [0, 5, 8, 19]) expect(result.sequenceNumbers[i]).toMatch(/^\d+$/);
    expect(fake.stored.map((s) => s.partitionKey).sort()).toEqual(input.map((r) => r.partitionKey).filter((k) => !['', 'k7', 'k9'].includes(k)).sort());
    expect(p.stats()).toMatchObject({ deliveredRecords: 17, failedRecords: 2, queuedRecords: 0 });
  });

  it('a call larger than the queue completes without ever holding more than the queue bound', async () => {
    const fake = new FakeKinesis();
    fake.hold = true;
    const p = producer(fake, { maxQueuedRecords: 10, maxBatchRecords: 5, maxInFlightCalls: 1 });
    const many = p.putMany(records(95));
    const single = p.put('after', 'k-after'); // waits behind the putMany (FIFO)
    await new Promise((r) => setTimeout(r, 30));
    expect(p.stats().queuedRecords).toBe(10);
    expect(fake.stored).toHaveLength(0);
    let maxQueued = 0;
    const watch = setInterval(() => (maxQueued = Math.max(maxQueued, p.stats().queuedRecords)), 0);
    fake.release();
    const result = await many;
    await single;
    clearInterval(watch);
    expect(maxQueued).toBeLessThanOrEqual(10);
    expect(result).toMatchObject({ deliveredCount: 95, failedCount: 0 });
    // In input order; the single put took its turn among the putMany's waits (FIFO), it did not wait for the whole call.
    const sent = fake.stored.map((s) => s.data.toString());
    expect(sent.filter((d) => d !== 'after')).toEqual(records(95).map((r) => r.data));
    expect(sent.indexOf('after')).toBeLessThan(94);
    expect(fake.calls.every((c) => (c.input.Records as unknown[]).length <= 5)).toBe(true);
  });

  it('the queue bound holds at every call: what is in flight plus queued never exceeds it', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { maxQueuedRecords: 7, maxBatchRecords: 3, maxInFlightCalls: 2 });
    const seen: number[] = [];
    fake.callFault = () => {
      seen.push(p.stats().queuedRecords);
      return undefined;
    };
    const result = await p.putMany(records(200));
    expect(result.deliveredCount).toBe(200);
    expect(Math.max(...seen)).toBeLessThanOrEqual(7);
  });

  it('keeps per-key order across a putMany with retries', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = (entry, attempt) => (attempt === 1 && Buffer.from(entry.Data!).toString().endsWith('-0') ? 'InternalFailure' : undefined);
    const p = producer(fake, { ordering: 'per-key' });
    const input = ['a', 'b', 'c'].flatMap((k) => Array.from({ length: 20 }, (_, i) => ({ data: `${k}-${i}`, partitionKey: k })));
    await p.putMany(input);
    for (const k of ['a', 'b', 'c']) {
      expect(fake.stored.filter((s) => s.partitionKey === k).map((s) => s.data.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `${k}-${i}`));
    }
  });

  it('aggregated mode: results carry the aggregate sequence number and the sub-sequence number', async () => {
    const fake = new FakeKinesis(4);
    const p = producer(fake, { aggregate: true, maxAggregateBytes: 8 * 1024 });
    const result = await p.putMany(Array.from({ length: 500 }, (_, i) => ({ data: Buffer.alloc(100, i % 256), partitionKey: `key-${i}` })));
    expect(result.deliveredCount).toBe(500);
    for (const outer of fake.stored) {
      deaggregate(outer.data).forEach((user, sub) => {
        const i = Number(user.partitionKey.slice(4));
        expect([result.sequenceNumbers[i], result.shardIds[i], result.subSequenceNumbers[i]]).toEqual([outer.sequenceNumber, outer.shardId, sub]);
      });
    }
  });

  it('flush() covers putMany records, those still waiting for room included', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { lingerMs: 60_000, maxQueuedRecords: 4, maxBatchRecords: 500 });
    let settled = false;
    void p.putMany(records(30)).then(() => (settled = true));
    await p.flush();
    expect(fake.stored).toHaveLength(30);
    await Promise.resolve();
    expect(settled).toBe(true);
  });

  it('close() delivers pending putMany records, waiting ones included, then refuses new calls', async () => {
    const fake = new FakeKinesis();
    fake.hold = true;
    const p = producer(fake, { lingerMs: 60_000, maxQueuedRecords: 10, maxBatchRecords: 5 });
    const many = p.putMany(records(40));
    const closing = p.close();
    await new Promise((r) => setTimeout(r, 10));
    fake.release();
    await closing;
    await expect(many).resolves.toMatchObject({ deliveredCount: 40, failedCount: 0 });
    expect(fake.stored).toHaveLength(40);
    await expect(p.putMany(records(1))).rejects.toThrow(/closed/);
  });

  it('close() puts an error in the slot of every record it could not deliver within closeTimeoutMs', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = (entry) => (entry.PartitionKey === 'k0' || entry.PartitionKey === 'k1' ? 'InternalFailure' : undefined);
    const p = producer(fake, { closeTimeoutMs: 80, retryBaseMs: 30, retryCapMs: 30, maxQueuedRecords: 2, maxBatchRecords: 2 });
    const many = p.putMany(records(6)); // k0, k1 fill the queue and keep failing; k2..k5 wait for room
    await p.close();
    const result = await many;
    expect(result).toMatchObject({ deliveredCount: 0, failedCount: 6 });
    for (const error of result.errors) expect(error?.message).toMatch(/closeTimeoutMs/);
    expect(p.stats().queuedRecords).toBe(0);
    expect(fake.stored).toHaveLength(0);
  });

  it('resolves an empty call at once', async () => {
    const p = producer(new FakeKinesis());
    await expect(p.putMany([])).resolves.toEqual({ deliveredCount: 0, failedCount: 0, sequenceNumbers: [], shardIds: [], subSequenceNumbers: [], errors: [] });
  });
});
