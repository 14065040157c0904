import { AccessDeniedException, ExpiredIteratorException, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { MemoryBudget, pageBytes } from '../../../src/adapters/polling/memory-budget';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { ConfigurationError } from '../../../src/core/errors';
import { createLogger } from '../../../src/core/logger';
import { type ShardEvent } from '../../../src/core/shard-event';

/** `n` wire records of exactly `bytes` each, as the budget counts them. */
function page(n: number, bytes: number): Array<{ Data: Uint8Array; PartitionKey: string; SequenceNumber: string }> {
  const overhead = pageBytes([{ Data: new Uint8Array(0), PartitionKey: 'k', SequenceNumber: '1' }]);
  return Array.from({ length: n }, () => ({ Data: new Uint8Array(bytes - overhead), PartitionKey: 'k', SequenceNumber: '1' }));
}

/** Teaches a fresh budget a bytes-per-record estimate (the first call of a budget is a probe of at most 100 records). */
async function measured(budget: MemoryBudget, bytesPerRecord: number): Promise<void> {
  const lease = budget.open();
  await lease.reserve(1);
  lease.settle(page(1, bytesPerRecord));
  lease.close();
}

describe('MemoryBudget', () => {
  it('refuses a bound that is not a positive integer', () => {
    expect(() => new MemoryBudget(0)).toThrow(ConfigurationError);
    expect(() => new MemoryBudget(1.5)).toThrow(/maxBufferedBytes must be a positive integer/);
  });

  it('probes with at most 100 records at 1 KiB each before any page was measured', async () => {
    const budget = new MemoryBudget(10 * 1024 * 1024);
    const lease = budget.open();
    expect(await lease.reserve(10_000)).toBe(100);
    expect(budget.bufferedBytes).toBe(100 * 1024);
    lease.close();
    expect(budget.bufferedBytes).toBe(0);
  });

  it('gives Limit = share / estimated bytes per record, the share being budget / shards but at least 1 MiB, at most maxRecords and 10,000', async () => {
    const MiB = 1024 * 1024;
    const budget = new MemoryBudget(16 * MiB);
    await measured(budget, 1_000);
    const a = budget.open();
    const b = budget.open();
    expect(await a.reserve(10_000)).toBe(Math.floor((8 * MiB) / 1_000)); // half of the budget: two shards share it
    expect(await b.reserve(200)).toBe(200); // its own maxRecords
    a.close();
    b.close();
    const many = Array.from({ length: 32 }, () => budget.open());
    expect(await many[0]?.reserve(10_000)).toBe(Math.floor(MiB / 1_000)); // 16 MiB / 32 shards = 512 KiB, but a call gets 1 MiB
    const small = new MemoryBudget(MiB / 2);
    await measured(small, 1_000);
    const only = small.open();
    small.open();
    expect(await only.reserve(10_000)).toBe(Math.floor(MiB / 2 / 1_000)); // never more than the whole budget
    for (const lease of many) lease.close();
    const big = new MemoryBudget(1_000_000_000);
    await measured(big, 1_000);
    const c = big.open();
    expect(await c.reserve(50_000)).toBe(10_000);
    c.close();
  });

  it('corrects a reservation to the page read, learns from it, and releases it on ack', async () => {
    const budget = new MemoryBudget(1_000_000);
    await measured(budget, 1_000);
    const lease = budget.open();
    expect(await lease.reserve(10_000)).toBe(1_000);
    lease.settle(page(400, 2_000));
    expect(budget.bufferedBytes).toBe(800_000);
    lease.release(); // the batch was acknowledged
    expect(budget.bufferedBytes).toBe(0);
    expect(await lease.reserve(10_000)).toBe(500); // 2,000 bytes per record now
    lease.close();
    expect(budget.highWaterBytes).toBe(1_000_000);
  });

  it('never grants less than 1 record: a record larger than the whole budget is read once nothing else is held', async () => {
    const budget = new MemoryBudget(1_000);
    await measured(budget, 5_000);
    const a = budget.open();
    const b = budget.open();
    expect(await a.reserve(10_000)).toBe(1);
    let bLimit: number | undefined;
    void b.reserve(10_000).then((limit) => (bLimit = limit));
    await Promise.resolve();
    expect(bLimit).toBeUndefined(); // a holds more than the budget: b waits
    a.release();
    await Promise.resolve();
    expect(bLimit).toBe(1);
    a.close();
    b.close();
  });

  it('serves waiting shards first come, first served: a small request does not overtake a large one', async () => {
    const budget = new MemoryBudget(10_000);
    await measured(budget, 1_000);
    const holder = budget.open();
    const large = budget.open();
    const small = budget.open();
    await holder.reserve(10_000);
    holder.settle(page(9, 1_000)); // 9,000 held: 1,000 free
    large.settle(page(1, 3_000)); // large expects 3,000 bytes per record
    large.release();
    const order: string[] = [];
    void large.reserve(10_000).then(() => order.push('large'));
    void small.reserve(1).then(() => order.push('small')); // 1,000 bytes would fit, but large is first in line
    await Promise.resolve();
    expect(order).toEqual([]);
    expect(budget.waitingShards).toBe(2);
    holder.release();
    await Promise.resolve();
    expect(order).toEqual(['large']); // 3 records of 3,000 bytes: 9,000 held
    large.release();
    await Promise.resolve();
    expect(order).toEqual(['large', 'small']);
    for (const lease of [holder, large, small]) lease.close();
    expect(budget.bufferedBytes).toBe(0);
  });

  it('does not starve anyone: shards that keep asking are served in turn', async () => {
    const budget = new MemoryBudget(2_000);
    await measured(budget, 1_000);
    const leases = [budget.open(), budget.open(), budget.open(), budget.open()];
    const served: number[] = [];
    let active = 0;
    const loop = async (i: number): Promise<void> => {
      for (let round = 0; round < 5; round++) {
        const limit = await leases[i]?.reserve(10_000);
        expect(limit).toBe(2); // a share is at least 1 MiB or the whole budget: one shard at a time here
        active++;
        expect(budget.bufferedBytes).toBeLessThanOrEqual(2_000);
        served.push(i);
        await new Promise((r) => setTimeout(r, 1));
        active--;
        leases[i]?.release();
      }
    };
    await Promise.all([0, 1, 2, 3].map(loop));
    expect(active).toBe(0);
    for (let i = 0; i < 4; i++) expect(served.filter((s) => s === i)).toHaveLength(5);
    // In turn: within any 4 consecutive grants (after the first 2), no shard is served twice while another waits.
    const firstRound = served.slice(0, 4).sort();
    expect(firstRound).toEqual([0, 1, 2, 3]);
    for (const lease of leases) lease.close();
    expect(budget.bufferedBytes).toBe(0);
  });

  it('frees what a shard holds when it closes, and a closed shard waits no more', async () => {
    const budget = new MemoryBudget(10_000);
    await measured(budget, 1_000);
    const a = budget.open();
    const b = budget.open();
    await a.reserve(10_000);
    a.settle(page(10, 1_000));
    let bLimit: number | undefined | 'pending' = 'pending';
    void b.reserve(10_000).then((limit) => (bLimit = limit));
    b.close(); // b's reader ended while waiting
    expect(budget.waitingShards).toBe(0);
    await Promise.resolve();
    expect(bLimit).toBeUndefined();
    a.close(); // a's shard ended (or was lost, or stopped) holding a page
    expect(budget.bufferedBytes).toBe(0);
    expect(budget.shardCount).toBe(0);
    expect(await b.reserve(1)).toBeUndefined();
  });

  it('leaves the queue when the reader is aborted while waiting', async () => {
    const budget = new MemoryBudget(1_000);
    await measured(budget, 1_000);
    const a = budget.open();
    const b = budget.open();
    await a.reserve(10);
    const controller = new AbortController();
    const waiting = b.reserve(10, controller.signal);
    controller.abort();
    expect(await waiting).toBeUndefined();
    expect(budget.waitingShards).toBe(0);
    a.close();
    b.close();
    expect(budget.bufferedBytes).toBe(0);
  });
});

describe('PollingRecordSource with a memory budget', () => {
  const kinesis = mockClient(KinesisClient);
  const RANGE = { HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } };
  const logger = createLogger({ destination: 'none' });
  /** A record the budget counts as exactly 1 KiB (its estimate before measuring), so the probes are exact too. */
  const record = (seq: number): { SequenceNumber: string; PartitionKey: string; Data: Uint8Array } => ({
    SequenceNumber: String(seq).padStart(10, '0'),
    PartitionKey: 'k',
    Data: new Uint8Array(1024 - 128 - 1 - 10),
  });

  beforeEach(() => kinesis.reset());

  function makeSource(extra: Partial<ConstructorParameters<typeof PollingRecordSource>[0]> = {}): PollingRecordSource {
    return new PollingRecordSource({
      streamName: 's',
      client: new KinesisClient({ region: 'us-east-1' }),
      checkpointStore: new MemoryCheckpointStore(),
      logger,
      minPollIntervalMs: 1,
      idlePollIntervalMs: 5,
      shardSyncIntervalMs: 60_000,
      retryBaseMs: 1,
      retryCapMs: 2,
      ...extra,
    });
  }

  async function until(check: () => boolean): Promise<void> {
    for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
    if (!check()) throw new Error('condition not reached');
  }

  it('holds a page until its batch is acknowledged, shapes Limit from the budget, and releases everything on stop', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'a' }, { ...RANGE, ShardId: 'b' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    let seq = 0;
    kinesis.on(GetRecordsCommand).callsFake((input: { Limit: number }) => ({
      Records: Array.from({ length: Math.min(input.Limit, 2_000) }, () => record(++seq)),
      NextShardIterator: 'it',
      MillisBehindLatest: 1_000,
    }));
    const budget = new MemoryBudget(2 * 1024 * 1024);
    const source = makeSource({ memoryBudget: budget });
    const pending: ShardEvent[] = [];
    const subscription = source.events().subscribe((event) => (event.type === 'records' ? pending.push(event) : event.ack({ status: 'ok' })));
    await until(() => pending.length === 2);
    await new Promise((r) => setTimeout(r, 30));
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(2); // no further call before the ack
    expect(source.bufferedBytes).toBeGreaterThan(0);
    const limits = kinesis.commandCalls(GetRecordsCommand).map((c) => c.args[0].input.Limit);
    expect(limits).toEqual([100, 100]); // probes of at most 100 records
    for (const event of pending.splice(0)) event.ack({ status: 'ok' });
    await until(() => pending.length === 2);
    // Measured now (1 KiB per record): each shard gets half of the 2 MiB, 1,024 records.
    const next = kinesis.commandCalls(GetRecordsCommand).slice(2).map((c) => c.args[0].input.Limit ?? 0);
    expect(next).toEqual([1_024, 1_024]);
    expect(source.highWaterBytes).toBeLessThanOrEqual(2 * 1024 * 1024);
    subscription.unsubscribe();
    await source.close();
    expect(source.bufferedBytes).toBe(0);
    expect(budget.shardCount).toBe(0);
  });

  it('releases the reservation of a call that fails (expired iterator, then a fatal error)', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'a' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis
      .on(GetRecordsCommand)
      .rejectsOnce(new ExpiredIteratorException({ message: 'Iterator expired', $metadata: {} }))
      .rejects(new AccessDeniedException({ message: 'not allowed', $metadata: {} }));
    const budget = new MemoryBudget(100_000);
    const source = makeSource({ memoryBudget: budget });
    let failed: unknown;
    const subscription = source.events().subscribe({ next: (event) => event.ack({ status: 'ok' }), error: (e: unknown) => (failed = e) });
    await until(() => failed !== undefined);
    subscription.unsubscribe();
    await source.close();
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(2);
    expect(budget.bufferedBytes).toBe(0);
    expect(budget.highWaterBytes).toBeGreaterThan(0);
  });

  it('releases what a shard holds when the runtime fails its batch (the shard stops)', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'a' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [record(1)], NextShardIterator: 'it', MillisBehindLatest: 5 });
    const budget = new MemoryBudget(100_000);
    const source = makeSource({ memoryBudget: budget });
    let records = 0;
    const subscription = source.events().subscribe((event) => {
      if (event.type === 'records') records++;
      event.ack(event.type === 'records' ? { status: 'failed', error: new Error('handler failed') } : { status: 'ok' });
    });
    await until(() => records === 1 && budget.shardCount === 0);
    expect(budget.bufferedBytes).toBe(0);
    subscription.unsubscribe();
    await source.close();
  });

  it('shares one budget between sources', async () => {
    const budget = new MemoryBudget(1_000);
    const one = makeSource({ memoryBudget: budget });
    const two = makeSource({ memoryBudget: budget, maxBufferedBytes: 5 });
    expect(one.bufferedBytes).toBe(0);
    expect(two.highWaterBytes).toBe(0);
    const lease = budget.open();
    await lease.reserve(1);
    expect(one.bufferedBytes).toBe(two.bufferedBytes);
    lease.close();
  });
});

describe('pacing with the memory budget', () => {
  const kinesis = mockClient(KinesisClient);
  const RANGE = { HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } };

  afterAll(() => kinesis.restore());

  it('reads the next page after minPollIntervalMs, not idlePollIntervalMs, when a page was full (MillisBehindLatest 0, as kinesalite says)', async () => {
    kinesis.reset();
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'a' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    let seq = 0;
    kinesis.on(GetRecordsCommand).callsFake((input: { Limit: number }) => ({
      Records: Array.from({ length: input.Limit }, () => ({ SequenceNumber: String(++seq).padStart(10, '0'), PartitionKey: 'k', Data: new Uint8Array(100) })),
      NextShardIterator: 'it',
      MillisBehindLatest: 0,
    }));
    const source = new PollingRecordSource({
      streamName: 's',
      client: new KinesisClient({ region: 'us-east-1' }),
      checkpointStore: new MemoryCheckpointStore(),
      logger: createLogger({ destination: 'none' }),
      maxRecordsPerCall: 10,
      minPollIntervalMs: 1,
      idlePollIntervalMs: 10_000,
      shardSyncIntervalMs: 60_000,
    });
    let batches = 0;
    const subscription = source.events().subscribe((event) => {
      if (event.type === 'records') batches++;
      event.ack({ status: 'ok' });
    });
    for (let i = 0; i < 200 && batches < 3; i++) await new Promise((r) => setTimeout(r, 5));
    subscription.unsubscribe();
    await source.close();
    expect(batches).toBeGreaterThanOrEqual(3); // before: one page, then a 10 s idle wait
  });
});
