import {
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  KinesisClient,
  ListShardsCommand,
  ResourceNotFoundException,
} from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { CheckpointError, SourceError } from '../../../src/core/errors';
import { createLogger } from '../../../src/core/logger';
import { type ShardEvent } from '../../../src/core/shard-event';
import { KplAggregator } from '../../../src/kpl/aggregator';

const kinesis = mockClient(KinesisClient);
const RANGE = { HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } };
const logger = createLogger({ destination: 'none' });

function makeSource(store: MemoryCheckpointStore, extra: Partial<ConstructorParameters<typeof PollingRecordSource>[0]> = {}): PollingRecordSource {
  return new PollingRecordSource({
    streamName: 's',
    client: new KinesisClient({ region: 'us-east-1' }),
    checkpointStore: store,
    logger,
    minPollIntervalMs: 1,
    idlePollIntervalMs: 5,
    shardSyncIntervalMs: 60_000,
    retryBaseMs: 1,
    retryCapMs: 2,
    ...extra,
  });
}

/** Subscribes, acks every event with `outcome(event)`, and records what came. */
function collect(source: PollingRecordSource, outcome: (e: ShardEvent) => 'ok' | 'failed' = () => 'ok') {
  const events: ShardEvent[] = [];
  let error: unknown;
  const subscription = source.events().subscribe({
    next: (event) => {
      events.push(event);
      const result = outcome(event);
      event.ack(result === 'ok' ? { status: 'ok' } : { status: 'failed', error: new Error('handler failed') });
    },
    error: (e: unknown) => {
      error = e;
    },
  });
  return { events, error: () => error, stop: () => subscription.unsubscribe() };
}

async function until(check: () => boolean): Promise<void> {
  for (let i = 0; i < 400 && !check(); i++) await new Promise((r) => setTimeout(r, 5));
  if (!check()) throw new Error('condition not reached');
}

beforeEach(() => kinesis.reset());

describe('PollingRecordSource', () => {
  it('resumes inside a KPL aggregate at AT_SEQUENCE_NUMBER and skips the processed user records', async () => {
    const agg = new KplAggregator();
    for (let i = 0; i < 4; i++) agg.add({ partitionKey: `k${i}`, data: Buffer.from(`u${i}`) });
    const data = agg.flush()?.data ?? Buffer.alloc(0);
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ShardId: 'shard-0', HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    kinesis
      .on(GetRecordsCommand, { ShardIterator: 'it-0' })
      .resolves({ Records: [{ SequenceNumber: '200', PartitionKey: 'o', Data: data }, { SequenceNumber: '300', PartitionKey: 'p', Data: Buffer.from('next') }], NextShardIterator: 'it-1', MillisBehindLatest: 0 })
      .on(GetRecordsCommand, { ShardIterator: 'it-1' })
      .resolves({ Records: [], NextShardIterator: 'it-1', MillisBehindLatest: 0 });
    const store = new MemoryCheckpointStore();
    await store.checkpoint('shard-0', { sequenceNumber: '200', subSequenceNumber: 1 });
    const source = makeSource(store);
    const run = collect(source);
    await until(() => run.events.some((e) => e.type === 'records'));
    run.stop();
    await source.close();
    const input = kinesis.commandCalls(GetShardIteratorCommand)[0]?.args[0].input;
    expect(input).toMatchObject({ ShardId: 'shard-0', ShardIteratorType: 'AT_SEQUENCE_NUMBER', StartingSequenceNumber: '200' });
    const opened = run.events.find((e) => e.type === 'opened');
    expect(opened?.type === 'opened' && opened.lease.lastCheckpoint).toEqual({ sequenceNumber: '200', subSequenceNumber: 1 });
    const batch = run.events.find((e) => e.type === 'records');
    expect(batch?.type === 'records' && batch.records.map((r) => `${r.sequenceNumber}/${r.subSequenceNumber}:${r.text()}`)).toEqual(['200/2:u2', '200/3:u3', '300/0:next']);
  });

  it('starts a child only after its parent ended and SHARD_END was stored; the child starts at TRIM_HORIZON even with LATEST', async () => {
    kinesis.on(ListShardsCommand).resolves({
      Shards: [
        { ...RANGE, ShardId: 'parent', SequenceNumberRange: { StartingSequenceNumber: '1', EndingSequenceNumber: '9' } },
        { ...RANGE, ShardId: 'child', ParentShardId: 'parent' },
      ],
    });
    kinesis.on(GetShardIteratorCommand, { ShardId: 'parent' }).resolves({ ShardIterator: 'p-0' }).on(GetShardIteratorCommand, { ShardId: 'child' }).resolves({ ShardIterator: 'c-0' });
    kinesis
      .on(GetRecordsCommand, { ShardIterator: 'p-0' })
      .resolves({ Records: [{ SequenceNumber: '5', PartitionKey: 'a', Data: Buffer.from('p') }], NextShardIterator: 'p-1', MillisBehindLatest: 10 })
      .on(GetRecordsCommand, { ShardIterator: 'p-1' })
      .resolves({ Records: [], ChildShards: [{ ShardId: 'child', ParentShards: ['parent'], HashKeyRange: { StartingHashKey: '0', EndingHashKey: '1' } }] })
      .on(GetRecordsCommand, { ShardIterator: 'c-0' })
      .resolves({ Records: [{ SequenceNumber: '11', PartitionKey: 'a', Data: Buffer.from('c') }], NextShardIterator: 'c-1', MillisBehindLatest: 0 })
      .on(GetRecordsCommand, { ShardIterator: 'c-1' })
      .resolves({ Records: [], NextShardIterator: 'c-1', MillisBehindLatest: 0 });
    const store = new MemoryCheckpointStore();
    const storedAtChildOpen: string[] = [];
    const source = makeSource(store, { initialPosition: 'LATEST' });
    const run = collect(source, (e) => {
      if (e.type === 'opened' && e.shardId === 'child') {
        void store.list().then((all) => storedAtChildOpen.push(...all.map((s) => `${s.shardId}=${s.checkpoint?.sequenceNumber ?? ''}`)));
      }
      return 'ok';
    });
    await until(() => run.events.some((e) => e.type === 'records' && e.shardId === 'child'));
    run.stop();
    await source.close();
    expect(run.events.map((e) => `${e.type}:${e.shardId}`)).toEqual(['opened:parent', 'records:parent', 'shardEnded:parent', 'opened:child', 'records:child']);
    expect(storedAtChildOpen).toContain('parent=SHARD_END');
    const iteratorTypes = kinesis.commandCalls(GetShardIteratorCommand).map((c) => `${c.args[0].input.ShardId}:${c.args[0].input.ShardIteratorType}`);
    expect(iteratorTypes).toEqual(['parent:LATEST', 'child:TRIM_HORIZON']);
    expect((await store.list()).find((s) => s.shardId === 'parent')?.childShardIds).toEqual(['child']);
  });

  it('stops reading a shard, without checkpointing, when the runtime fails an ack', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'shard-0' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [{ SequenceNumber: '1', PartitionKey: 'a', Data: Buffer.from('x') }], NextShardIterator: 'it', MillisBehindLatest: 5 });
    const store = new MemoryCheckpointStore();
    const source = makeSource(store);
    const run = collect(source, (e) => (e.type === 'records' ? 'failed' : 'ok'));
    await until(() => run.events.some((e) => e.type === 'records'));
    await new Promise((r) => setTimeout(r, 50));
    run.stop();
    await source.close();
    expect(kinesis.commandCalls(GetRecordsCommand)).toHaveLength(1);
    expect((await store.list())[0]?.checkpoint).toBeUndefined();
  });

  it('fails the source with a clear error when the stream is deleted while being read', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'shard-0' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).rejects(new ResourceNotFoundException({ message: 'Stream s not found', $metadata: {} }));
    // The stream exists at start-up (the first describe), then is deleted.
    kinesis
      .on(DescribeStreamSummaryCommand)
      .resolvesOnce({ StreamDescriptionSummary: undefined })
      .rejects(new ResourceNotFoundException({ message: 'Stream s not found', $metadata: {} }));
    const source = makeSource(new MemoryCheckpointStore());
    const run = collect(source);
    await until(() => run.error() !== undefined);
    await source.close();
    expect(run.error()).toBeInstanceOf(SourceError);
    expect(String((run.error() as Error).message)).toMatch(/stream s no longer exists/);
  });

  it('ends only the reader of a shard that disappeared, as a lost lease', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'shard-0' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).rejects(new ResourceNotFoundException({ message: 'Shard shard-0 not found', $metadata: {} }));
    kinesis.on(DescribeStreamSummaryCommand).resolves({ StreamDescriptionSummary: undefined });
    const source = makeSource(new MemoryCheckpointStore());
    const run = collect(source);
    await until(() => run.events.some((e) => e.type === 'leaseLost'));
    run.stop();
    await source.close();
    expect(run.error()).toBeUndefined();
  });

  it('pages through ListShards with NextToken only', async () => {
    kinesis
      .on(ListShardsCommand, { StreamName: 's' })
      .resolves({ Shards: [{ ...RANGE, ShardId: 'a' }], NextToken: 't1' })
      .on(ListShardsCommand, { NextToken: 't1' })
      .resolves({ Shards: [{ ...RANGE, ShardId: 'b' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 });
    const source = makeSource(new MemoryCheckpointStore());
    const run = collect(source);
    await until(() => run.events.filter((e) => e.type === 'opened').length === 2);
    run.stop();
    await source.close();
    expect(kinesis.commandCalls(ListShardsCommand)[1]?.args[0].input).toEqual({ NextToken: 't1' });
  });
});

describe('PollingRecordSource: a checkpoint asked for while the shard is being given up', () => {
  it('is refused as a failure the adapter recovers from, so the runtime does not stop the shard for it', async () => {
    kinesis.on(ListShardsCommand).resolves({ Shards: [{ ...RANGE, ShardId: 'shard-0' }] });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it-0' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [{ SequenceNumber: '5', PartitionKey: 'a', Data: Buffer.from('x') }], NextShardIterator: 'it-0', MillisBehindLatest: 0 });
    /** A store whose writes keep failing: after its retries the reader gives the shard up. */
    class FailingStore extends MemoryCheckpointStore {
      override checkpoint(): Promise<void> {
        return Promise.reject(new Error('table unavailable'));
      }
    }
    const source = makeSource(new FailingStore(), { checkpointAttempts: 1 });
    const refusals: unknown[] = [];
    let checkpointer: { checkpoint(p: { sequenceNumber: string; subSequenceNumber: number }): Promise<void> } | undefined;
    const events: ShardEvent[] = [];
    const subscription = source.events().subscribe((event) => {
      events.push(event);
      if (event.type === 'opened') checkpointer = event.lease.checkpointer;
      if (event.type === 'records' && refusals.length === 0 && checkpointer !== undefined) {
        const position = { sequenceNumber: '5', subSequenceNumber: 0 };
        // The first write fails for good (the shard is being released); a second one comes while it is given up.
        void checkpointer
          .checkpoint(position)
          .catch((first: unknown) => {
            refusals.push(first);
            return checkpointer?.checkpoint(position);
          })
          .catch((second: unknown) => refusals.push(second))
          .finally(() => event.ack({ status: 'ok' }));
        return;
      }
      event.ack({ status: 'ok' });
    });
    await until(() => refusals.length === 2);
    subscription.unsubscribe();
    await source.close();
    const second = refusals[1];
    expect(second).toBeInstanceOf(CheckpointError);
    expect((second as CheckpointError).message).toMatch(/the shard is being released/);
    expect((second as CheckpointError).adapterRecovers).toBe(true);
  });
});
