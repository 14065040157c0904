import { ConfigurationError } from '../../../src/core/errors';
import { KinesisProducer } from '../../../src/producer/kinesis-producer';
import { defaultMaxQueuedRecords, normalizeProducerOptions } from '../../../src/producer/producer-options';
import { FakeKinesis } from './fake-kinesis';

describe('producer options: the default queue bound', () => {
  it('plain mode: twice what the calls in flight carry, at most 20 000', () => {
    expect(normalizeProducerOptions({ streamName: 's' }).maxQueuedRecords).toBe(4_000);
    expect(normalizeProducerOptions({ streamName: 's', maxInFlightCalls: 1 }).maxQueuedRecords).toBe(1_000);
    expect(normalizeProducerOptions({ streamName: 's', maxInFlightCalls: 3, maxBatchRecords: 10 }).maxQueuedRecords).toBe(60);
    expect(normalizeProducerOptions({ streamName: 's', maxInFlightCalls: 100 }).maxQueuedRecords).toBe(20_000);
    expect(defaultMaxQueuedRecords(false, 2, 500)).toBe(2_000);
  });

  it('aggregated mode keeps 20 000 (one call carries aggregates of many records)', () => {
    expect(normalizeProducerOptions({ streamName: 's', aggregate: true }).maxQueuedRecords).toBe(20_000);
    expect(normalizeProducerOptions({ streamName: 's', aggregate: true, maxInFlightCalls: 1 }).maxQueuedRecords).toBe(20_000);
  });

  it('an explicit maxQueuedRecords wins, and is still range-checked', () => {
    expect(normalizeProducerOptions({ streamName: 's', maxQueuedRecords: 50_000 }).maxQueuedRecords).toBe(50_000);
    expect(() => normalizeProducerOptions({ streamName: 's', maxQueuedRecords: 0 })).toThrow(ConfigurationError);
  });

  it('the producer is full at the derived bound, and every call is still filled', async () => {
    const fake = new FakeKinesis();
    fake.hold = true;
    const p = new KinesisProducer(fake.client, { streamName: 's', maxInFlightCalls: 2, maxBatchRecords: 5, lingerMs: 60_000 });
    const puts = Array.from({ length: 20 }, (_, i) => p.put(`r${i}`, `k${i}`));
    expect(p.isFull).toBe(true);
    expect(p.stats().queuedRecords).toBe(20);
    await new Promise((r) => setTimeout(r, 10));
    // Two full calls in flight, two full batches ready behind them.
    expect(fake.calls.filter((c) => c.name === 'PutRecords').map((c) => (c.input.Records as unknown[]).length)).toEqual([5, 5]);
    fake.release();
    await Promise.all(puts);
    await p.close();
    expect(p.stats()).toMatchObject({ deliveredRecords: 20, queuedRecords: 0 });
    expect(fake.calls.filter((c) => c.name === 'PutRecords').every((c) => (c.input.Records as unknown[]).length === 5)).toBe(true);
  });
});
