import { DeleteStreamCommand, KinesisClient, MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { readFileSync } from 'node:fs';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { collected, collectedIds, CollectorConsumer } from './collector.consumer';
import { createStream, listShards, localKinesis, makeRecords, memoryLogger, putRecords, tempDir, uniqueName, waitActive, waitFor, type TestRecord } from './polling-test-kit';

jest.setTimeout(120_000);

let client: KinesisClient;
beforeAll(() => {
  client = localKinesis();
});
afterAll(() => client.destroy());
beforeEach(() => {
  collected.length = 0;
});

async function startApp(stream: string, dir: string, extra: Partial<ConstructorParameters<typeof PollingRecordSource>[0]> = {}) {
  const { logger, lines } = memoryLogger();
  const store = new FileCheckpointStore({ directory: dir, applicationName: 'polling-it-app', streamName: stream });
  const source = new PollingRecordSource({
    streamName: stream,
    client,
    checkpointStore: store,
    logger,
    minPollIntervalMs: 50,
    idlePollIntervalMs: 100,
    shardSyncIntervalMs: 1_000,
    ...extra,
  });
  const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  const stop = async (): Promise<void> => {
    await app.stop();
    await source.close();
  };
  return { app, source, store, lines, stop };
}

/** Every id was handled, and within each partition key the records came in the order they were put. */
function expectAllInKeyOrder(records: readonly TestRecord[]): void {
  const ids = collectedIds();
  expect(new Set(ids)).toEqual(new Set(records.map((r) => r.id)));
  const lastByKey = new Map<string, number>();
  for (const event of collected) {
    for (const r of event.records ?? []) {
      const previous = lastByKey.get(r.key) ?? -1;
      expect(r.n).toBeGreaterThanOrEqual(previous); // equal only for a repeated record (at-least-once)
      lastByKey.set(r.key, r.n);
    }
  }
}

describe('PollingRecordSource on kinesis-local', () => {
  it('reads every record of a 2-shard stream, keeps per-key order, and checkpoints each shard', async () => {
    const stream = uniqueName('poll-basic');
    await createStream(client, stream, 2);
    const records = makeRecords('b', 600, 24);
    await putRecords(client, stream, records.slice(0, 300));
    const dir = tempDir();
    const run = await startApp(stream, dir, { maxRecordsPerCall: 100 });
    await putRecords(client, stream, records.slice(300));
    await waitFor(() => new Set(collectedIds()).size === records.length, 60_000, () => `${new Set(collectedIds()).size} of ${records.length}`);
    await run.stop();
    expectAllInKeyOrder(records);
    expect(collectedIds()).toHaveLength(records.length); // no duplicates without failures
    const opened = collected.filter((e) => e.type === 'opened').map((e) => e.shardId).sort();
    expect(opened).toEqual(['shardId-000000000000', 'shardId-000000000001']);
    const behind = collected.filter((e) => e.type === 'records').map((e) => e.millisBehindLatest);
    expect(behind.every((m) => typeof m === 'number')).toBe(true);
    const file = JSON.parse(readFileSync(run.store.path, 'utf8')) as { shards: Record<string, { checkpoint: string }> };
    for (const shardId of opened) {
      const lastSeq = collected.filter((e) => e.shardId === shardId).flatMap((e) => e.records ?? []).at(-1)?.seq;
      expect(file.shards[shardId]?.checkpoint).toBe(lastSeq);
    }
  });

  it('resumes after a restart from the checkpoints, without re-reading what was handled', async () => {
    const stream = uniqueName('poll-resume');
    await createStream(client, stream, 2);
    const dir = tempDir();
    const first = makeRecords('r1', 200, 10);
    await putRecords(client, stream, first);
    let run = await startApp(stream, dir);
    await waitFor(() => new Set(collectedIds()).size === 200, 60_000, () => `${collectedIds().length} of 200`);
    await run.stop();
    collected.length = 0;
    const second = makeRecords('r2', 100, 10);
    await putRecords(client, stream, second);
    run = await startApp(stream, dir, { initialPosition: 'LATEST' });
    await waitFor(() => new Set(collectedIds()).size === 100, 60_000, () => `${collectedIds().length} of 100`);
    await run.stop();
    expect(collectedIds().sort()).toEqual(second.map((r) => r.id).sort());
  });

  it('refuses checkpoints kept from a stream that was deleted and created again, saying what to do', async () => {
    const stream = uniqueName('poll-recreated');
    await createStream(client, stream, 1);
    const dir = tempDir();
    await putRecords(client, stream, makeRecords('old', 20, 2));
    const run = await startApp(stream, dir);
    await waitFor(() => new Set(collectedIds()).size === 20, 60_000, () => `${collectedIds().length} of 20`);
    await run.stop();
    await client.send(new DeleteStreamCommand({ StreamName: stream }));
    // Sequence numbers carry the time: a stream made again later starts above every old checkpoint.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    await createStream(client, stream, 1);
    await putRecords(client, stream, makeRecords('new', 20, 2));
    collected.length = 0;
    const again = await startApp(stream, dir);
    await expect(again.app.done).rejects.toThrow(/older than the shard itself.*deleted and created again.*remove the checkpoints/);
    await again.source.close();
    // Nothing of the new stream was skipped silently: nothing was handled at all, and it says so.
    expect(collectedIds()).toEqual([]);
    expect(again.lines.join('\n')).toMatch(/older than the shard itself/);
  });

  it('finishes parents before children across a split and then a merge during consumption', async () => {
    const stream = uniqueName('poll-reshard');
    await createStream(client, stream, 2);
    const dir = tempDir();
    const a = makeRecords('a', 200, 16);
    const b = makeRecords('b', 200, 16, 200);
    const c = makeRecords('c', 200, 16, 400);
    await putRecords(client, stream, a);
    const run = await startApp(stream, dir);
    await waitFor(() => collectedIds().length >= 50, 60_000, () => `${collectedIds().length} read before the split`);

    const shards = await listShards(client, stream);
    const parent = shards.find((s) => s.ShardId === 'shardId-000000000000');
    const start = BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0');
    const end = BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0');
    await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: ((start + end) / 2n).toString() }));
    await waitActive(client, stream);
    await putRecords(client, stream, b);
    const afterSplit = await listShards(client, stream);
    const children = afterSplit.filter((s) => s.ParentShardId === 'shardId-000000000000' && s.AdjacentParentShardId === undefined);
    expect(children).toHaveLength(2);
    const [left, right] = children.sort((x, y) => (BigInt(x.HashKeyRange?.StartingHashKey ?? 0) < BigInt(y.HashKeyRange?.StartingHashKey ?? 0) ? -1 : 1));
    await waitFor(() => collected.some((e) => e.type === 'records' && (e.shardId === left?.ShardId || e.shardId === right?.ShardId)), 60_000, () => 'children read');
    await client.send(new MergeShardsCommand({ StreamName: stream, ShardToMerge: left?.ShardId, AdjacentShardToMerge: right?.ShardId }));
    await waitActive(client, stream);
    await putRecords(client, stream, c);
    const all = [...a, ...b, ...c];
    await waitFor(() => new Set(collectedIds()).size === all.length, 90_000, () => `${new Set(collectedIds()).size} of ${all.length}`);
    const merged = (await listShards(client, stream)).find((s) => s.AdjacentParentShardId !== undefined);
    await waitFor(() => collected.some((e) => e.type === 'ended' && e.shardId === right?.ShardId), 30_000, () => 'merge parents ended');
    await run.stop();

    expectAllInKeyOrder(all);
    const index = (type: string, shardId: string | undefined): number => collected.findIndex((e) => e.type === type && e.shardId === shardId);
    const firstRecords = (shardId: string | undefined): number => collected.findIndex((e) => e.type === 'records' && e.shardId === shardId);
    for (const child of [left, right]) {
      expect(index('ended', 'shardId-000000000000')).toBeGreaterThanOrEqual(0);
      expect(index('opened', child?.ShardId)).toBeGreaterThan(index('ended', 'shardId-000000000000'));
    }
    expect(merged).toBeDefined();
    expect(firstRecords(merged?.ShardId)).toBeGreaterThan(index('ended', left?.ShardId));
    expect(firstRecords(merged?.ShardId)).toBeGreaterThan(index('ended', right?.ShardId));
    const file = JSON.parse(readFileSync(run.store.path, 'utf8')) as { shards: Record<string, { checkpoint: string; childShardIds: string[] }> };
    expect(file.shards['shardId-000000000000']?.checkpoint).toBe('SHARD_END');
    expect(file.shards['shardId-000000000000']?.childShardIds.sort()).toEqual([left?.ShardId, right?.ShardId].sort());
    expect(file.shards[left?.ShardId ?? '']?.checkpoint).toBe('SHARD_END');
    expect(file.shards[right?.ShardId ?? '']?.checkpoint).toBe('SHARD_END');
  });
});
