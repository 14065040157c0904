import { ConfigurationError, ProducerError } from '../../../src/core/errors';
import { deaggregate, isAggregated } from '../../../src/kpl/deaggregate';
import { KinesisProducer, type PutResult } from '../../../src/producer/kinesis-producer';
import { type KinesisProducerOptions } from '../../../src/producer/producer-options';
import { FakeKinesis } from './fake-kinesis';

function producer(fake: FakeKinesis, options: Partial<KinesisProducerOptions> = {}): KinesisProducer {
  return new KinesisProducer(fake.client, { streamName: 's', lingerMs: 5, retryBaseMs: 1, retryCapMs: 5, ...options });
}

function putRecordsSizes(fake: FakeKinesis): number[] {
  return fake.calls.filter((c) => c.name === 'PutRecords').map((c) => (c.input.Records as unknown[]).length);
}

describe('KinesisProducer', () => {
  it('batches into PutRecords of at most 500 records and resolves each put with its sequence number and shard', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { maxInFlightCalls: 1 });
    const results = await Promise.all(Array.from({ length: 1200 }, (_, i) => p.put({ i }, `key-${i}`)));
    expect(putRecordsSizes(fake)).toEqual([500, 500, 200]);
    expect(new Set(results.map((r) => r.sequenceNumber)).size).toBe(1200);
    for (let i = 0; i < 1200; i++) {
      const stored = fake.stored.find((s) => s.sequenceNumber === results[i]!.sequenceNumber)!;
      expect(JSON.parse(stored.data.toString('utf8'))).toEqual({ i });
      expect(stored.shardId).toBe(results[i]!.shardId);
      expect(stored.shardId).toBe(fake.shardOf(FakeKinesis.hashOf(`key-${i}`)));
    }
    await p.close();
  });

  it('keeps each call under 5 MiB', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { maxInFlightCalls: 1 });
    const big = Buffer.alloc(900 * 1024, 7);
    await Promise.all(Array.from({ length: 12 }, (_, i) => p.put(big, `k${i}`)));
    const sizes = putRecordsSizes(fake);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(12);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(5); // 5 × (900 KiB + key) < 5 MiB < 6 ×
    await p.close();
  });

  it('accepts Buffers, strings and objects', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake);
    await Promise.all([p.put(Buffer.from([1, 2, 3]), 'a'), p.put('héllo', 'b'), p.put({ x: [1] }, 'c'), p.put(new Uint8Array([9]), 'd')]);
    const byKey = new Map(fake.stored.map((s) => [s.partitionKey, s.data]));
    expect([...byKey.get('a')!]).toEqual([1, 2, 3]);
    expect(byKey.get('b')!.toString('utf8')).toBe('héllo');
    expect(byKey.get('c')!.toString('utf8')).toBe('{"x":[1]}');
    expect([...byKey.get('d')!]).toEqual([9]);
  });

  it('retries only the failed entries of a partial failure until every record lands', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = (_entry, attempt, index) => (attempt <= 2 && index % 3 === 0 ? 'ProvisionedThroughputExceededException' : undefined);
    const p = producer(fake);
    const results = await Promise.all(Array.from({ length: 1000 }, (_, i) => p.put(`r${i}`, `k${i}`)));
    expect(fake.stored).toHaveLength(1000);
    expect(new Set(fake.stored.map((s) => s.data.toString())).size).toBe(1000);
    const sentEntries = putRecordsSizes(fake).reduce((a, b) => a + b, 0);
    expect(sentEntries).toBeGreaterThan(1000);
    expect(sentEntries).toBeLessThan(1000 + 2 * 340 + 1); // only failed entries go again
    expect(results.some((r) => r.attempts > 1)).toBe(true);
    expect(p.stats().retriedRecords).toBe(sentEntries - 1000);
    expect(p.stats().deliveredRecords).toBe(1000);
  });

  it('retries a whole call that failed with a retryable error', async () => {
    const fake = new FakeKinesis();
    fake.callFault = (_name, index) => (index < 2 ? Object.assign(new Error('slow down'), { name: 'ProvisionedThroughputExceededException' }) : undefined);
    const p = producer(fake);
    const result = await p.put('x', 'k');
    expect(result.attempts).toBe(3);
    expect(fake.stored).toHaveLength(1);
  });

  it('rejects with a ProducerError after maxAttempts, naming the error code', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = () => 'InternalFailure';
    const p = producer(fake, { maxAttempts: 3 });
    const error = (await p.put('x', 'k').catch((e: unknown) => e)) as ProducerError;
    expect(error).toBeInstanceOf(ProducerError);
    expect(error.errorCode).toBe('InternalFailure');
    expect(error.message).toMatch(/after 3 attempts/);
    expect(fake.calls).toHaveLength(3);
    expect(p.stats().failedRecords).toBe(1);
  });

  it('does not retry a call that cannot succeed (unknown stream) and says what to do', async () => {
    const fake = new FakeKinesis();
    fake.callFault = () => Object.assign(new Error('Stream s not found'), { name: 'ResourceNotFoundException' });
    const p = producer(fake);
    await expect(p.put('x', 'k')).rejects.toThrow(/ResourceNotFoundException.*shardline streams create s/);
    expect(fake.calls).toHaveLength(1);
  });

  it('rejects invalid records at once', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake);
    await expect(p.put('x', '')).rejects.toBeInstanceOf(ProducerError);
    await expect(p.put('x', 'k'.repeat(257))).rejects.toThrow(/1 to 256 characters/);
    await expect(p.put(Buffer.alloc(1024 * 1024), 'k')).rejects.toThrow(/over the Kinesis limit/);
    await expect(p.put('x', 'k', { explicitHashKey: '-1' })).rejects.toThrow(/explicitHashKey/);
    expect(p.stats().queuedRecords).toBe(0);
  });

  it('checks its options', () => {
    const fake = new FakeKinesis();
    expect(() => new KinesisProducer(fake.client, {})).toThrow(ConfigurationError);
    expect(() => producer(fake, { maxBatchRecords: 501 })).toThrow(/maxBatchRecords/);
    expect(() => producer(fake, { aggregate: true, ordering: 'per-key' })).toThrow(/cannot combine/);
  });

  it('waits (never drops) when the queue is full, then drains', async () => {
    const fake = new FakeKinesis();
    fake.hold = true;
    const p = producer(fake, { maxQueuedRecords: 10, maxBatchRecords: 5, maxInFlightCalls: 1 });
    const accepted: number[] = [];
    const puts = Array.from({ length: 25 }, (_, i) => p.put(`r${i}`, `k${i}`).then((r) => { accepted.push(i); return r; }));
    await new Promise((r) => setTimeout(r, 30));
    expect(p.stats().queuedRecords).toBe(10);
    expect(accepted).toHaveLength(0);
    expect(fake.stored).toHaveLength(0);
    fake.release();
    await Promise.all(puts);
    expect(fake.stored.map((s) => s.data.toString())).toEqual(Array.from({ length: 25 }, (_, i) => `r${i}`));
    expect(p.stats().queuedRecords).toBe(0);
  });

  it('flush() sends at once and resolves when nothing is pending', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { lingerMs: 60_000 });
    const put = p.put('x', 'k');
    await p.flush();
    expect(p.stats().queuedRecords).toBe(0);
    await expect(put).resolves.toMatchObject({ shardId: expect.stringMatching(/^shardId-/) });
  });

  it('close() delivers pending records and refuses new ones', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { lingerMs: 60_000 });
    const puts = Array.from({ length: 50 }, (_, i) => p.put(`r${i}`, `k${i}`));
    await p.close();
    expect(fake.stored).toHaveLength(50);
    await expect(Promise.all(puts)).resolves.toHaveLength(50);
    await expect(p.put('late', 'k')).rejects.toThrow(/closed/);
  });

  it('close() rejects what it could not deliver within closeTimeoutMs', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = () => 'InternalFailure';
    const p = producer(fake, { closeTimeoutMs: 50, retryBaseMs: 20, retryCapMs: 20 });
    const puts = Array.from({ length: 3 }, (_, i) => p.put(`r${i}`, `k${i}`).catch((e: unknown) => e));
    await p.close();
    for (const outcome of await Promise.all(puts)) expect(outcome).toBeInstanceOf(ProducerError);
    expect(p.stats().queuedRecords).toBe(0);
  });

  it('sends at most maxInFlightCalls calls at once', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { maxBatchRecords: 10, maxInFlightCalls: 2 });
    await Promise.all(Array.from({ length: 200 }, (_, i) => p.put(`r${i}`, `k${i}`)));
    expect(fake.maxInFlight).toBe(2);
  });

  it('per-key ordering: one record per key in flight, order kept through retries', async () => {
    const fake = new FakeKinesis();
    fake.entryFault = (entry, attempt) => (attempt === 1 && Buffer.from(entry.Data!).toString().endsWith('-0') ? 'InternalFailure' : undefined);
    const p = producer(fake, { ordering: 'per-key' });
    const keys = ['a', 'b', 'c'];
    await Promise.all(keys.flatMap((k) => Array.from({ length: 20 }, (_, i) => p.put(`${k}-${i}`, k))));
    for (const call of fake.calls) {
      const callKeys = (call.input.Records as { PartitionKey: string }[]).map((r) => r.PartitionKey);
      expect(new Set(callKeys).size).toBe(callKeys.length);
    }
    for (const k of keys) {
      expect(fake.stored.filter((s) => s.partitionKey === k).map((s) => s.data.toString())).toEqual(Array.from({ length: 20 }, (_, i) => `${k}-${i}`));
    }
  });

  it('strict ordering: PutRecord with SequenceNumberForOrdering of the previous record of the key', async () => {
    const fake = new FakeKinesis();
    const p = producer(fake, { ordering: 'strict' });
    const results = await Promise.all(Array.from({ length: 5 }, (_, i) => p.put(`a-${i}`, 'a')));
    expect(fake.calls.every((c) => c.name === 'PutRecord')).toBe(true);
    const stored = fake.stored.filter((s) => s.partitionKey === 'a');
    expect(stored.map((s) => s.data.toString())).toEqual(['a-0', 'a-1', 'a-2', 'a-3', 'a-4']);
    expect(stored[0]!.sequenceNumberForOrdering).toBeUndefined();
    for (let i = 1; i < 5; i++) expect(stored[i]!.sequenceNumberForOrdering).toBe(results[i - 1]!.sequenceNumber);
  });

  it('aggregates per predicted shard with the shard ExplicitHashKey, so every record stays on its key shard', async () => {
    const fake = new FakeKinesis(4);
    const p = producer(fake, { aggregate: true, maxAggregateBytes: 8 * 1024 });
    const n = 2000;
    const results: PutResult[] = await Promise.all(Array.from({ length: n }, (_, i) => p.put(Buffer.alloc(200, i % 256), `key-${i}`)));
    expect(fake.stored.length).toBeLessThan(n / 10);
    const seen = new Set<string>();
    for (const outer of fake.stored) {
      expect(isAggregated(outer.data)).toBe(true);
      expect(outer.data.length).toBeLessThanOrEqual(8 * 1024);
      deaggregate(outer.data).forEach((user, index) => {
        expect(fake.shardOf(FakeKinesis.hashOf(user.partitionKey))).toBe(outer.shardId);
        seen.add(user.partitionKey);
        const i = Number(user.partitionKey.slice(4));
        expect(results[i]).toMatchObject({ sequenceNumber: outer.sequenceNumber, shardId: outer.shardId, subSequenceNumber: index });
      });
    }
    expect(seen.size).toBe(n);
  });

  it('aggregated put on a partial failure: a retried aggregate settles each member once with its own position, a failed one rejects each member, none is dropped', async () => {
    const fake = new FakeKinesis(4);
    const [, retried, failing] = fake.shards.map((s) => s.start.toString());
    // Shard 1's aggregates fail once (retried), shard 2's fail for good (KMS access denied is not retried).
    fake.entryFault = (entry, attempt) => {
      if (entry.ExplicitHashKey === retried && attempt === 1) return 'ProvisionedThroughputExceededException';
      if (entry.ExplicitHashKey === failing) return 'KMSAccessDeniedException';
      return undefined;
    };
    const p = producer(fake, { aggregate: true, maxAggregateBytes: 4 * 1024 });
    const n = 1500;
    const keys = Array.from({ length: n }, (_, i) => `key-${i}`);
    const outcomes = await Promise.allSettled(keys.map((key, i) => p.put(Buffer.from(`record ${i}`), key)));
    await p.flush();

    // Where each record really is: aggregate (outer record) and position inside it.
    const landed = new Map<string, { sequenceNumber: string; shardId: string; subSequenceNumber: number }>();
    for (const outer of fake.stored) {
      deaggregate(outer.data).forEach((user, index) => {
        expect(landed.has(user.partitionKey)).toBe(false); // stored once
        landed.set(user.partitionKey, { sequenceNumber: outer.sequenceNumber, shardId: outer.shardId, subSequenceNumber: index });
      });
    }
    let delivered = 0;
    let failed = 0;
    outcomes.forEach((outcome, i) => {
      const shardId = fake.shardOf(FakeKinesis.hashOf(keys[i]!));
      if (shardId === fake.shards[2]!.shardId) {
        expect(outcome.status).toBe('rejected');
        expect((outcome as PromiseRejectedResult).reason).toBeInstanceOf(ProducerError);
        expect(String((outcome as PromiseRejectedResult).reason)).toContain('KMSAccessDeniedException');
        expect(landed.has(keys[i]!)).toBe(false);
        failed++;
      } else {
        expect(outcome.status).toBe('fulfilled');
        const result = (outcome as PromiseFulfilledResult<PutResult>).value;
        expect(result).toEqual({ ...landed.get(keys[i]!), attempts: shardId === fake.shards[1]!.shardId ? 2 : 1 });
        delivered++;
      }
    });
    expect(failed).toBeGreaterThan(100);
    expect(delivered).toBe(landed.size);
    expect(p.stats()).toMatchObject({ deliveredRecords: delivered, failedRecords: failed, queuedRecords: 0, queuedBytes: 0 });
  });

  it('after a split it sends the members of a misrouted aggregate again, so a KCL reader (which drops records outside its shard) gets every record', async () => {
    const fake = new FakeKinesis(1);
    const p = producer(fake, { aggregate: true, maxAggregateBytes: 8 * 1024 });
    await p.put(Buffer.from('warm-up'), 'key-warm'); // the producer has now loaded a one-shard map
    const [lower, upper] = fake.split('shardId-000000000000');
    const n = 400;
    const results: PutResult[] = await Promise.all(Array.from({ length: n }, (_, i) => p.put(Buffer.alloc(100, i % 256), `key-${i}`)));
    // What a KCL reader of each child keeps: the members of aggregates on its shard whose hash is in its range.
    const kept = new Set<string>();
    for (const outer of fake.stored) {
      if (!isAggregated(outer.data)) continue;
      for (const user of deaggregate(outer.data)) {
        if (fake.shardOf(FakeKinesis.hashOf(user.partitionKey)) === outer.shardId) kept.add(user.partitionKey);
      }
    }
    for (let i = 0; i < n; i++) {
      expect(kept.has(`key-${i}`)).toBe(true);
      expect(results[i]!.shardId).toBe(fake.shardOf(FakeKinesis.hashOf(`key-${i}`)));
    }
    expect(new Set(results.map((r) => r.shardId))).toEqual(new Set([lower, upper]));
    expect(p.stats().reroutedRecords).toBeGreaterThan(0);
    await p.close();
  });

  it('stops routing records again after 3 tries when the shard map cannot be refreshed, while new records keep coming', async () => {
    const fake = new FakeKinesis(1);
    const p = producer(fake, { aggregate: true, maxAggregateBytes: 8 * 1024 });
    await p.put(Buffer.from('warm-up'), 'key-warm');
    fake.split('shardId-000000000000');
    fake.callFault = (name) => (name === 'ListShards' ? Object.assign(new Error('Rate exceeded'), { name: 'LimitExceededException' }) : undefined);
    const all: Promise<PutResult>[] = [];
    for (let wave = 0; wave < 6; wave++) {
      for (let i = 0; i < 50; i++) all.push(p.put(Buffer.alloc(50, i), `key-${wave}-${i}`));
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    const results = await Promise.all(all); // every put settles: the reroutes are bounded
    expect(results).toHaveLength(300);
    expect(p.stats().reroutedRecords).toBeLessThanOrEqual(3 * 301);
    await p.close();
  });

  it('aggregated records with an explicit hash key go to that key shard', async () => {
    const fake = new FakeKinesis(4);
    const p = producer(fake, { aggregate: true });
    const last = ((1n << 128n) - 1n).toString();
    const r = await p.put('x', 'any', { explicitHashKey: last });
    expect(r.shardId).toBe('shardId-000000000003');
    expect(deaggregate(fake.stored[0]!.data)[0]).toMatchObject({ partitionKey: 'any', explicitHashKey: last });
  });

  it('aggregated mode rejects records when the shard map cannot be listed', async () => {
    const fake = new FakeKinesis();
    fake.callFault = (name) => (name === 'ListShards' ? Object.assign(new Error('no such stream'), { name: 'ResourceNotFoundException' }) : undefined);
    const p = producer(fake, { aggregate: true });
    await expect(p.put('x', 'k')).rejects.toThrow(/could not list the shards of stream s/);
  });
});

describe('KinesisProducer requests', () => {
  it('names the stream in every call (by name, or by ARN)', async () => {
    const fake = new FakeKinesis();
    await new KinesisProducer(fake.client, { streamName: 'orders', lingerMs: 1 }).put('x', 'k');
    await new KinesisProducer(fake.client, { streamArn: 'arn:aws:kinesis:us-east-1:1:stream/orders', lingerMs: 1, ordering: 'strict' }).put('x', 'k');
    expect(fake.calls[0]!.input).toMatchObject({ StreamName: 'orders' });
    expect(fake.calls[1]!.input).toMatchObject({ StreamARN: 'arn:aws:kinesis:us-east-1:1:stream/orders' });
  });
});

describe('KinesisProducer aggregation during flush', () => {
  it('packs records put before the shard map arrived into full aggregates, not one per record', async () => {
    const fake = new FakeKinesis(2);
    const p = new KinesisProducer(fake.client, { streamName: 's', aggregate: true, lingerMs: 60_000 });
    const puts = Array.from({ length: 1000 }, (_, i) => p.put(Buffer.alloc(100, 1), `k${i}`));
    await p.flush();
    await Promise.all(puts);
    expect(fake.stored.length).toBeLessThanOrEqual(6); // 2 shards × ~50 KB aggregates of ~120 B records
  });
});
