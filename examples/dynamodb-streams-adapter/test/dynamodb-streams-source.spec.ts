import { Consumer, MemoryCheckpointStore, OnRecords, ShardlineApp, createLogger, inject, injectable, type KinesisRecord } from 'shardline';
import { DynamoDbStreamsRecordSource, type DynamoDbStreamsRecordSourceOptions, type StreamChange } from '../src';
import { FakeStreams, payloadOf, throttled } from './fake-streams-client';

/* The source's lineage, positions and failure handling on a scripted DynamoDB Streams API, through a real app. */

const SEEN = Symbol('seen');

@Consumer({ streamName: 'Fake', applicationName: 'fake-changes' })
@injectable()
class Collector {
  constructor(@inject(SEEN) private readonly seen: string[]) {}

  @OnRecords()
  handle(records: KinesisRecord[]): void {
    for (const record of records) this.seen.push(`${record.shardId}:${payloadOf(record.json<StreamChange>())}`);
  }
}

const logger = createLogger({ level: 'error' });
afterAll(() => logger.close());

async function run(fake: FakeStreams, store: MemoryCheckpointStore, extra: Partial<DynamoDbStreamsRecordSourceOptions> = {}) {
  const seen: string[] = [];
  const source = new DynamoDbStreamsRecordSource({
    client: fake.client,
    streamArn: fake.streamArn,
    checkpointStore: store,
    idlePollIntervalMs: 20,
    shardSyncIntervalMs: 100,
    retryBaseMs: 5,
    logger,
    ...extra,
  });
  const app = await ShardlineApp.start({ consumer: Collector, source, logger, providers: [{ provide: SEEN, useValue: seen }] });
  return { seen, app, source };
}

/** One shard with records, closed, and its child with records. */
function parentAndChild(parentPayloads: string[], childPayloads: string[]): { fake: FakeStreams; root: string; child: string } {
  const fake = new FakeStreams(1);
  const [root = ''] = fake.shardIds;
  fake.put(root, parentPayloads);
  const child = fake.split(root);
  fake.put(child, childPayloads);
  return { fake, root, child };
}

async function until(check: () => boolean, what: string, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check() && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 10));
  if (!check()) throw new Error(`timed out waiting for ${what}`);
}

describe('DynamoDbStreamsRecordSource (scripted API)', () => {
  it('reads a parent to its end before its child and grandchild, finds shards across DescribeStream pages, and completes once the stream is disabled', async () => {
    const { fake, root, child } = parentAndChild(['p-0', 'p-1', 'p-2'], ['c-0', 'c-1']);
    const grandchild = fake.split(child);
    fake.put(grandchild, ['g-0']);
    const store = new MemoryCheckpointStore();
    const { seen, app } = await run(fake, store);
    await until(() => seen.length === 6, 'six records');
    expect(seen).toEqual([`${root}:p-0`, `${root}:p-1`, `${root}:p-2`, `${child}:c-0`, `${child}:c-1`, `${grandchild}:g-0`]);
    const stored = new Map((await store.list()).map((s) => [s.shardId, s.checkpoint?.sequenceNumber]));
    expect(stored.get(root)).toBe('SHARD_END');
    expect(stored.get(child)).toBe('SHARD_END');
    // Three shards at two per page: the grandchild was on the second page.
    expect(fake.calls.get('DescribeStream')).toBeGreaterThanOrEqual(2);

    fake.disable();
    await expect(app.done).resolves.toBeUndefined();
    expect((await store.list()).every((s) => s.checkpoint?.sequenceNumber === 'SHARD_END')).toBe(true);
  });

  it('a restart does not read finished parents again and resumes the child at its checkpoint', async () => {
    const { fake, child } = parentAndChild(['p-0'], ['c-0']);
    const store = new MemoryCheckpointStore();
    const first = await run(fake, store);
    await until(() => first.seen.length === 2, 'two records');
    await first.app.stop();
    fake.put(child, ['c-1']);
    const second = await run(fake, store);
    await until(() => second.seen.length === 1, 'one record');
    await new Promise((resolve) => setTimeout(resolve, 200));
    await second.app.stop();
    expect(second.seen).toEqual([`${child}:c-1`]);
  });

  it('retries throttled GetRecords and reopens an expired iterator after the last handled record: nothing lost, nothing twice', async () => {
    const fake = new FakeStreams(1);
    const [shard = ''] = fake.shardIds;
    fake.put(shard, ['r-0', 'r-1']);
    fake.getRecordsFailures.push(throttled(), throttled(), throttled());
    const { seen, app } = await run(fake, new MemoryCheckpointStore(), { maxRecordsPerCall: 1 });
    await until(() => seen.length === 2, 'two records');
    fake.expireIterators();
    fake.put(shard, ['r-2', 'r-3']);
    await until(() => seen.length === 4, 'four records');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.stop();
    expect(seen).toEqual(['r-0', 'r-1', 'r-2', 'r-3'].map((p) => `${shard}:${p}`));
    expect(fake.calls.get('GetShardIterator')).toBeGreaterThanOrEqual(2);
  });

  it('at LATEST, skips the shards already closed at the first start and starts open ones at their end', async () => {
    const { fake, child } = parentAndChild(['old-0'], ['old-1']);
    const { seen, app } = await run(fake, new MemoryCheckpointStore(), { initialPosition: 'LATEST' });
    await until(() => (fake.calls.get('GetRecords') ?? 0) >= 1, 'the first GetRecords');
    fake.put(child, ['new-0']);
    await until(() => seen.length === 1, 'one record');
    await new Promise((resolve) => setTimeout(resolve, 100));
    await app.stop();
    expect(seen).toEqual([`${child}:new-0`]);
  });

  it('closes a shard whose checkpoints keep failing as a lost lease and reopens it from the stored checkpoint', async () => {
    const fake = new FakeStreams(1);
    const [shard = ''] = fake.shardIds;
    const store = new MemoryCheckpointStore();
    const write = store.checkpoint.bind(store);
    let failuresLeft = 0;
    store.checkpoint = (shardId, position, children) => {
      if (failuresLeft <= 0) return write(shardId, position, children);
      failuresLeft--;
      return Promise.reject(new Error('store down (test)'));
    };
    fake.put(shard, ['a-0']);
    const { seen, app } = await run(fake, store, { checkpointAttempts: 2 });
    await until(() => seen.length === 1, 'a-0');
    // Both attempts at a-1's checkpoint fail: the shard is closed as a lost lease and reopened from a-0's checkpoint.
    failuresLeft = 2;
    fake.put(shard, ['a-1']);
    await until(() => seen.length === 3, 'a-1 twice');
    fake.put(shard, ['a-2']);
    await until(() => seen.includes(`${shard}:a-2`), 'a-2');
    await app.stop();
    expect(seen).toEqual(['a-0', 'a-1', 'a-1', 'a-2'].map((p) => `${shard}:${p}`));
    expect((await store.list())[0]?.checkpoint?.sequenceNumber).toBe(String(fake.lastSequence(shard)));
  });

  it('gives a vanished shard a lost lease and reads the other shards on; an access error fails the app with one line', async () => {
    const fake = new FakeStreams(2);
    const [gone = '', kept = ''] = fake.shardIds;
    fake.put(gone, ['g-0']);
    fake.put(kept, ['k-0']);
    const { seen, app } = await run(fake, new MemoryCheckpointStore());
    await until(() => seen.length === 2, 'two records');
    fake.removeShard(gone);
    fake.expireIterators(); // the reader asks for a new iterator of the vanished shard
    fake.put(kept, ['k-1']);
    await until(() => seen.includes(`${kept}:k-1`), 'k-1');
    // Two first iterators, then one new iterator asked for by each reader (the vanished shard's fails).
    await until(() => (fake.calls.get('GetShardIterator') ?? 0) >= 4, 'both readers to ask for new iterators');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(app.stopped).toBe(false);

    const denied = new Error('User is not authorized to perform dynamodb:GetRecords (test)');
    denied.name = 'AccessDeniedException';
    fake.getRecordsFailures.push(denied);
    await expect(app.done).rejects.toThrow(/AccessDeniedException.*not authorized/);
    await app.stop();
  });
});
