import { DeregisterStreamConsumerCommand, SplitShardCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { readFileSync } from 'node:fs';
import { type EnhancedFanOutOptions } from '../../../src/adapters/efo/enhanced-fan-out';
import { createFanOutClient } from '../../../src/adapters/efo/fan-out-client';
import { StreamConsumers } from '../../../src/adapters/efo/stream-consumers';
import { type PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { Consumer, OnRecords, type KinesisRecord } from '../../../src';
import { type FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { type SubscribeResult } from '../../../src/metrics/metrics-recorder';
import { TEST_PORT_BASE } from '../../harness/endpoints';
import { collected, collectedIds, CollectorConsumer } from '../polling/collector.consumer';
import { createStream, listShards, localKinesis, tempDir, uniqueName, waitActive, waitFor } from '../polling/polling-test-kit';
import { fanOutSource } from './efo-test-kit';
import { fakeRecord, FakeSubscribeServer, sequence, type FakeEvent, type FakeReply } from './fake-subscribe-server';

jest.setTimeout(90_000);

// The stream, its shards and the consumer live on kinesis-local; only SubscribeToShard goes to the fake (HTTP/2).
let client: KinesisClient;
let nextPort = TEST_PORT_BASE + 110;
beforeAll(() => {
  client = localKinesis();
});
afterAll(() => client.destroy());
beforeEach(() => {
  collected.length = 0;
  slowHandled.length = 0;
});
// A failed test still stops its app, source and fake server.
const running = new Set<Harness>();
afterEach(async () => {
  for (const run of running) await run.stop();
});

/** Records handled by {@link SlowConsumer} (each batch takes {@link SLOW_BATCH_MS}). */
const slowHandled: string[] = [];
const SLOW_BATCH_MS = 400;

@Consumer({ streamName: 'efo-slow', applicationName: 'efo-slow-app', checkpoint: 'batch' })
class SlowConsumer {
  @OnRecords()
  async handle(records: readonly KinesisRecord[]): Promise<void> {
    await new Promise((resolve) => setTimeout(resolve, SLOW_BATCH_MS));
    for (const record of records) slowHandled.push(record.sequenceNumber);
  }
}

interface Harness {
  readonly server: FakeSubscribeServer;
  readonly source: PollingRecordSource;
  readonly store: FileCheckpointStore;
  readonly lines: string[];
  readonly subscribes: SubscribeResult[];
  stop(): Promise<void>;
}

async function start(
  stream: string,
  reply: (call: FakeSubscribeServer['calls'][number], index: number) => FakeReply,
  options: { consumer?: typeof CollectorConsumer | typeof SlowConsumer; fanOut?: Partial<EnhancedFanOutOptions>; windowBytes?: number; maxBufferedBytes?: number; consumerName?: string } = {},
): Promise<Harness> {
  const server = new FakeSubscribeServer(reply);
  const endpoint = await server.listen(nextPort++);
  const subscribeClient = createFanOutClient({ endpoint, region: 'us-east-1', http2: true, ...(options.windowBytes === undefined ? {} : { windowBytes: options.windowBytes }) });
  const { source, store, logger, lines, subscribes } = fanOutSource(
    stream,
    tempDir('shardline-efo-fake-'),
    { client, subscribeClient },
    {
      consumerName: options.consumerName ?? 'efo-fake',
      fanOut: { minSubscribeIntervalMs: 100, subscribeRetryBaseMs: 100, subscribeRetryCapMs: 400, ...options.fanOut },
      source: { retryWarnIntervalMs: 60_000, ...(options.maxBufferedBytes === undefined ? {} : { maxBufferedBytes: options.maxBufferedBytes }) },
    },
  );
  const app = await ShardlineApp.start({ consumer: options.consumer ?? CollectorConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  const run: Harness = {
    server,
    source,
    store,
    lines,
    subscribes,
    stop: async () => {
      if (!running.delete(run)) return;
      await app.stop();
      await source.close();
      subscribeClient.destroy();
      await server.close();
    },
  };
  running.add(run);
  return run;
}

/** Events of one record each, r`from`..r`to` (inclusive), their continuation the record's own sequence number. */
function events(from: number, to: number, bytes = 32): FakeEvent[] {
  return Array.from({ length: to - from + 1 }, (_, i) => ({ records: [fakeRecord(from + i, bytes)], continuation: sequence(from + i) }));
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from + 1 }, (_, i) => `r${from + i}`);

describe('enhanced fan-out against a fake SubscribeToShard server (HTTP/2)', () => {
  it('a slow handler stops the HTTP/2 stream: the server cannot send past the window, and the memory budget counts fan-out pages', async () => {
    const stream = uniqueName('efo-bp');
    await createStream(client, stream, 1);
    const EVENT_BYTES = 64 * 1024;
    const WINDOW = 128 * 1024;
    // 400 events of 64 KiB (33 MiB as frames) offered as fast as flow control lets them through.
    function* backlog(): Generator<FakeEvent> {
      for (let i = 0; i < 400; i++) yield { records: [fakeRecord(i, EVENT_BYTES)], continuation: sequence(i), millisBehindLatest: 60_000 };
    }
    const run = await start(stream, () => ({ kind: 'events', events: backlog(), then: 'hold' }), { consumer: SlowConsumer, windowBytes: WINDOW, maxBufferedBytes: 256 * 1024 });
    await waitFor(() => slowHandled.length >= 6, 30_000, () => `${slowHandled.length} batches handled`);
    const stats = run.server.streams[0];
    if (stats === undefined) throw new Error('no subscription reached the fake');
    const handled = slowHandled.length;
    const sent = stats.sentBytes;
    const frameBytes = stats.queuedBytes / stats.events; // one 64 KiB record as base64 JSON in an event-stream frame
    const budgetHigh = run.source.highWaterBytes;
    await run.stop();
    // Sent = handled, plus at most: the event being handled, the one the SDK decoded ahead, one being decoded, and a window.
    expect(sent).toBeLessThanOrEqual((handled + 3) * frameBytes + WINDOW);
    expect(sent).toBeLessThan(2 * 1024 * 1024); // of 33 MiB offered
    expect(stats.queuedBytes).toBeLessThan(3 * 1024 * 1024);
    // The budget held fan-out pages (one 64 KiB record at a time) and never more than its bound plus one page.
    expect(budgetHigh).toBeGreaterThanOrEqual(EVENT_BYTES);
    expect(budgetHigh).toBeLessThanOrEqual(256 * 1024 + EVENT_BYTES + 1024);
  });

  it('subscribes again at the end of a subscription (the 5-minute cut), AFTER the last acknowledged continuation', async () => {
    const stream = uniqueName('efo-resub');
    await createStream(client, stream, 1);
    const run = await start(
      stream,
      (_call, index) =>
        index === 0 ? { kind: 'events', events: events(0, 4), then: 'end' } : index === 1 ? { kind: 'events', events: events(5, 9), then: 'end' } : { kind: 'events', events: [], then: 'hold' },
      { fanOut: { earlyEndMs: 0 } }, // the fake's subscriptions are short: none counts as broken
    );
    await waitFor(() => collectedIds().length >= 10 && run.server.calls.length >= 3, 30_000, () => `${collectedIds().length} of 10, ${run.server.calls.length} calls`);
    await run.stop();
    expect(collectedIds()).toEqual(ids(0, 9));
    const [first, second, third] = run.server.calls;
    expect(first?.startingPosition).toEqual({ Type: 'TRIM_HORIZON' });
    expect(second?.startingPosition).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequence(4) });
    expect(third?.startingPosition).toEqual({ Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: sequence(9) });
    expect((second?.at ?? 0) - (first?.at ?? 0)).toBeGreaterThanOrEqual(60); // at most one call per minSubscribeIntervalMs (100 ms, counted from the client sending; the first call reaches the server later, after the HTTP/2 connection is set up)
    expect(run.subscribes.filter((r) => r !== 'ok')).toEqual([]);
  });

  it('retries ResourceInUse, LimitExceeded, a reset stream and a GOAWAY, resuming after the last handled record, one warning line', async () => {
    const stream = uniqueName('efo-errors');
    await createStream(client, stream, 1);
    const lastHandledAtCall: Array<string | undefined> = [];
    const run = await start(stream, (_call, index) => {
      lastHandledAtCall.push(collected.flatMap((e) => e.records ?? []).at(-1)?.seq);
      switch (index) {
        case 0:
          return { kind: 'refuse', exception: 'ResourceInUseException', message: 'Another active subscription exists for this consumer' };
        case 1:
          return { kind: 'refuse', exception: 'LimitExceededException', message: 'Rate exceeded for consumer and shard' };
        case 2:
          return { kind: 'events', events: events(0, 3), then: 'reset', eventDelayMs: 30 };
        case 3:
          return { kind: 'events', events: events(4, 6), then: 'goaway', eventDelayMs: 30 };
        default:
          return { kind: 'events', events: events(7, 9), then: 'hold' };
      }
    });
    await waitFor(() => new Set(collectedIds()).size >= 10, 30_000, () => `${new Set(collectedIds()).size} of 10 (${run.server.calls.length} calls)`);
    await run.stop();
    // Nothing lost, nothing out of order (a record not yet acknowledged when the stream broke may come again).
    const seen = collectedIds();
    expect([...new Set(seen)]).toEqual(ids(0, 9));
    expect(seen).toEqual([...seen].sort((a, b) => Number(a.slice(1)) - Number(b.slice(1))));
    // Each call after the first delivery starts right after what had been handled when it was made.
    run.server.calls.forEach((call, i) => {
      const handled = lastHandledAtCall[i];
      expect(call.startingPosition).toEqual(handled === undefined ? { Type: 'TRIM_HORIZON' } : { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: handled });
    });
    expect(run.subscribes).toEqual(expect.arrayContaining(['in_use', 'throttled', 'network', 'ok']));
    expect(run.subscribes.filter((r) => r === 'network').length).toBeGreaterThanOrEqual(2);
    // ResourceInUse waits longer than the other retries (5 x the base delay).
    const [refused, throttled] = run.server.calls;
    expect((throttled?.at ?? 0) - (refused?.at ?? 0)).toBeGreaterThanOrEqual(400);
    const warnings = run.lines.filter((l) => l.includes('SubscribeToShard'));
    expect(warnings).toHaveLength(1); // retryWarnIntervalMs 60 s: the rest are counted, not printed
    expect(warnings[0]).toMatch(/ResourceInUseException.*subscribing again in \d+ ms/);
  });

  it('registers the consumer again when it was deleted (ResourceNotFound) and subscribes with its new ARN', async () => {
    const stream = uniqueName('efo-gone');
    await createStream(client, stream, 1);
    const run = await start(
      stream,
      (_call, index) => (index === 0 ? { kind: 'events', events: events(0, 1), then: 'hold' } : index === 1 ? { kind: 'refuse', exception: 'ResourceNotFoundException' } : { kind: 'events', events: events(2, 3), then: 'hold' }),
      { consumerName: 'efo-gone' },
    );
    await waitFor(() => collectedIds().length >= 2, 30_000, () => `${collectedIds().length} of 2 before the deletion`);
    const streamArn = await new StreamConsumers(client).streamArn(stream);
    await client.send(new DeregisterStreamConsumerCommand({ StreamARN: streamArn, ConsumerName: 'efo-gone' }));
    await waitFor(async () => (await new StreamConsumers(client).describe(stream, 'efo-gone')) === undefined, 10_000, () => 'the consumer is still listed');
    run.server.resetOpenStreams(); // as Kinesis ends the subscriptions of a deleted consumer
    await waitFor(() => new Set(collectedIds()).size >= 4, 30_000, () => `${new Set(collectedIds()).size} of 4 (${run.server.calls.length} calls)`);
    await run.stop();
    const arns = [...new Set(run.server.calls.map((c) => c.consumerArn))];
    expect(arns).toHaveLength(2);
    const now = await new StreamConsumers(client).describe(stream, 'efo-gone');
    expect(now?.arn).toBe(arns[1]);
    expect(run.lines.some((l) => l.includes('registered again'))).toBe(true);
  });

  it('ChildShards end the parent: SHARD_END is stored, then the children are read (parents first)', async () => {
    const stream = uniqueName('efo-split');
    await createStream(client, stream, 1);
    const [parent] = await listShards(client, stream);
    const startKey = BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0');
    const endKey = BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0');
    const middle = (startKey + endKey) / 2n;
    await client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: middle.toString() }));
    await waitActive(client, stream);
    const children = (await listShards(client, stream)).filter((s) => s.ParentShardId === 'shardId-000000000000');
    expect(children).toHaveLength(2);
    const childShards = children.map((c) => ({
      ShardId: c.ShardId ?? '',
      ParentShards: ['shardId-000000000000'],
      HashKeyRange: { StartingHashKey: c.HashKeyRange?.StartingHashKey ?? '', EndingHashKey: c.HashKeyRange?.EndingHashKey ?? '' },
    }));
    const run = await start(stream, (call) => {
      if (call.shardId === 'shardId-000000000000') return { kind: 'events', events: [...events(0, 2), { records: [], childShards }], then: 'end', eventDelayMs: 100 };
      const first = call.shardId === childShards[0]?.ShardId ? 10 : 20;
      return { kind: 'events', events: events(first, first + 1), then: 'hold' };
    });
    await waitFor(() => collectedIds().length >= 7, 30_000, () => `${collectedIds().length} of 7`);
    await run.stop();
    const order = collected.map((e) => `${e.type}:${e.shardId}`);
    const parentEnd = order.indexOf('ended:shardId-000000000000');
    expect(parentEnd).toBeGreaterThan(-1);
    for (const child of childShards) expect(order.indexOf(`opened:${child.ShardId}`)).toBeGreaterThan(parentEnd);
    expect(collectedIds().slice(0, 3)).toEqual(ids(0, 2));
    expect(new Set(collectedIds())).toEqual(new Set([...ids(0, 2), 'r10', 'r11', 'r20', 'r21']));
    const file = JSON.parse(readFileSync(run.store.path, 'utf8')) as { shards: Record<string, { checkpoint: string }> };
    expect(file.shards['shardId-000000000000']?.checkpoint).toBe('SHARD_END');
    // The parent was never subscribed to again after its end.
    expect(run.server.calls.filter((c) => c.shardId === 'shardId-000000000000')).toHaveLength(1);
  });
});
