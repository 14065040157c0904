import {
  ExpiredIteratorException,
  KMSThrottlingException,
  LimitExceededException,
  ProvisionedThroughputExceededException,
  PutRecordsCommand,
  type KinesisClient,
} from '@aws-sdk/client-kinesis';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { KplAggregator } from '../../../src/kpl/aggregator';
import { collected, collectedIds, CollectorConsumer } from './collector.consumer';
import { createStream, localKinesis, makeRecords, memoryLogger, putRecords, tempDir, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

type Fault = () => Error;
const meta = { $metadata: {} };
const throttle: Fault = () => new ProvisionedThroughputExceededException({ message: 'Rate exceeded for shard', ...meta });
const limit: Fault = () => new LimitExceededException({ message: 'Limit exceeded', ...meta });
const kmsThrottle: Fault = () => new KMSThrottlingException({ message: 'KMS throttled', ...meta });
const expired: Fault = () => new ExpiredIteratorException({ message: 'Iterator expired', ...meta });
const network: Fault = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });

/** Injects faults into the n-th GetRecords calls (counted across shards) through the client's middleware stack. */
function injectFaults(client: KinesisClient, plan: ReadonlyMap<number, Fault>): { calls: () => number; injected: string[] } {
  let calls = 0;
  const injected: string[] = [];
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === 'GetRecordsCommand') {
        calls++;
        const fault = plan.get(calls);
        if (fault !== undefined) {
          const error = fault();
          injected.push(error.name === 'Error' ? 'network' : error.name);
          throw error;
        }
      }
      return next(args);
    },
    { step: 'initialize', name: 'shardlineTestFaults' },
  );
  return { calls: () => calls, injected };
}

async function run(
  stream: string,
  client: KinesisClient,
  random: () => number,
  extra: Partial<ConstructorParameters<typeof PollingRecordSource>[0]> = {},
) {
  const { logger, lines } = memoryLogger();
  const source = new PollingRecordSource({
    streamName: stream,
    client,
    checkpointStore: new FileCheckpointStore({ directory: tempDir(), applicationName: 'polling-it-app', streamName: stream }),
    logger,
    maxRecordsPerCall: 50,
    minPollIntervalMs: 20,
    idlePollIntervalMs: 100,
    retryBaseMs: 100,
    retryCapMs: 400,
    retryWarnIntervalMs: 0, // every retry logged: the tests read the delays from the lines
    random,
    ...extra,
  });
  const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  return { lines, stop: async () => { await app.stop(); await source.close(); } };
}

beforeEach(() => {
  collected.length = 0;
});

describe('polling under injected faults (kinesis-local)', () => {
  it('survives throttling, LimitExceeded, KMS throttling, network errors and expired iterators without losing or repeating a record', async () => {
    const client = localKinesis();
    const stream = uniqueName('poll-faults');
    await createStream(client, stream, 2);
    const records = makeRecords('f', 500, 20);
    await putRecords(client, stream, records);
    const plan = new Map<number, Fault>([
      [2, throttle], [3, throttle], [4, throttle], // three in a row on one call: the backoff doubles up to the cap
      [6, limit], [8, expired], [10, network], [12, kmsThrottle], [14, expired], [16, network],
    ]);
    const faults = injectFaults(client, plan);
    const jitter: number[] = [];
    const random = (): number => {
      jitter.push(0.5);
      return 0.5;
    };
    const consumer = await run(stream, client, random);
    await waitFor(() => new Set(collectedIds()).size === records.length, 60_000, () => `${new Set(collectedIds()).size} of ${records.length}`);
    await consumer.stop();
    client.destroy();

    expect(faults.injected).toEqual([
      'ProvisionedThroughputExceededException', 'ProvisionedThroughputExceededException', 'ProvisionedThroughputExceededException',
      'LimitExceededException', 'ExpiredIteratorException', 'network', 'KMSThrottlingException', 'ExpiredIteratorException', 'network',
    ]);
    // Exactly once: retries repeat the same call, expired iterators reopen right after the last processed record.
    expect(collectedIds()).toHaveLength(records.length);
    expect(new Set(collectedIds())).toEqual(new Set(records.map((r) => r.id)));
    const retries = consumer.lines.filter((l) => l.includes('retry'));
    expect(retries).toHaveLength(7);
    // Capped exponential backoff with (here fixed) jitter: 0.5 × min(400, 100 × 2^attempt); the two shards' calls
    // interleave, so the three throttles in a row land on both shards (attempts 0, 0 and 1).
    const delays = retries.map((l) => Number(/in (\d+) ms/.exec(l)?.[1]));
    for (const d of delays) expect([50, 100, 200]).toContain(d);
    expect(delays).toContain(100);
    expect(jitter.length).toBe(7);
    expect(consumer.lines.filter((l) => l.includes('Shard iterator expired: reopening after'))).toHaveLength(2);
  });

  it('reopens an iterator that expired before the first record at the time LATEST was taken, not at LATEST again', async () => {
    const client = localKinesis();
    const stream = uniqueName('poll-latest-expired');
    await createStream(client, stream, 1);
    const before = makeRecords('old', 5, 1);
    await putRecords(client, stream, before);
    await new Promise((resolve) => setTimeout(resolve, 1_500)); // older than the reopen margin
    const during = makeRecords('new', 6, 1);
    let calls = 0;
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'GetRecordsCommand' && ++calls === 1) {
          // Records arrive while the first iterator is still unread, then it expires.
          await putRecords(client, stream, during);
          throw expired();
        }
        return next(args);
      },
      { step: 'initialize', name: 'shardlineTestLatestExpiry' },
    );
    const consumer = await run(stream, client, Math.random, { initialPosition: 'LATEST' });
    await waitFor(() => new Set(collectedIds()).size >= during.length, 30_000, () => `got ${collectedIds().join(',')}; ${consumer.lines.join('\n')}`);
    await consumer.stop();
    client.destroy();
    expect(new Set(collectedIds())).toEqual(new Set(during.map((r) => r.id)));
  });

  it('uses real jitter: delays of repeated throttles stay within the capped exponential bound and vary', async () => {
    const client = localKinesis();
    const stream = uniqueName('poll-jitter');
    await createStream(client, stream, 1);
    const records = makeRecords('j', 20, 4);
    await putRecords(client, stream, records);
    injectFaults(client, new Map<number, Fault>(Array.from({ length: 8 }, (_, i) => [i + 1, throttle] as const)));
    const consumer = await run(stream, client, Math.random);
    await waitFor(() => new Set(collectedIds()).size === records.length, 60_000, () => `${collectedIds().length}`);
    await consumer.stop();
    client.destroy();
    const delays = consumer.lines.filter((l) => l.includes('retry')).map((l) => Number(/in (\d+) ms/.exec(l)?.[1]));
    expect(delays).toHaveLength(8);
    delays.forEach((d, attempt) => expect(d).toBeLessThanOrEqual(Math.min(400, 100 * 2 ** attempt)));
    expect(new Set(delays).size).toBeGreaterThan(1);
  });

  it('de-aggregates KPL aggregated records and passes a corrupted aggregate on as one raw record', async () => {
    const client = localKinesis();
    const stream = uniqueName('poll-kpl');
    await createStream(client, stream, 1);
    const aggregator = new KplAggregator();
    for (let i = 0; i < 5; i++) aggregator.add({ partitionKey: `user-${i}`, data: Buffer.from(JSON.stringify({ id: `u${i}`, key: `user-${i}`, n: 0 })) });
    const aggregate = aggregator.flush();
    if (aggregate === undefined) throw new Error('no aggregate');
    const corrupted = Buffer.from(aggregate.data);
    corrupted[corrupted.length - 1] = (corrupted[corrupted.length - 1] ?? 0) ^ 0xff; // breaks the MD5 trailer
    await client.send(
      new PutRecordsCommand({
        StreamName: stream,
        Records: [
          { Data: aggregate.data, PartitionKey: aggregate.partitionKey },
          { Data: corrupted, PartitionKey: 'bad' },
          { Data: Buffer.from(JSON.stringify({ id: 'plain', key: 'p', n: 0 })), PartitionKey: 'p' },
        ],
      }),
    );
    const consumer = await run(stream, client, Math.random);
    await waitFor(() => collectedIds().length >= 7, 30_000, () => `${collectedIds().length} of 7`);
    await consumer.stop();
    client.destroy();
    const all = collected.flatMap((e) => e.records ?? []);
    expect(all).toHaveLength(7);
    const users = all.slice(0, 5);
    expect(users.map((r) => r.id)).toEqual(['u0', 'u1', 'u2', 'u3', 'u4']);
    expect(users.map((r) => r.sub)).toEqual([0, 1, 2, 3, 4]);
    expect(users.map((r) => r.pk)).toEqual(['user-0', 'user-1', 'user-2', 'user-3', 'user-4']);
    expect(new Set(users.map((r) => r.seq)).size).toBe(1);
    expect(all[5]?.pk).toBe('bad');
    expect(Buffer.from(all[5]?.raw ?? '', 'utf8').length).toBeGreaterThan(0);
    expect(all[6]?.id).toBe('plain');
    expect(consumer.lines.some((l) => l.includes('is corrupted') && l.includes('one raw record'))).toBe(true);
  });
});
