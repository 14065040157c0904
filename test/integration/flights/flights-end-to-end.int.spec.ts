/**
 * Producer → local stream (kinesis-local) → the flights consumer on the polling adapter → real Redis, with the Redis
 * URL decrypted by the local KMS (moto) from a `kms:` secret, as in production. Checks the exact per-destination
 * counts of what was produced, across a restart that resumes from the checkpoints.
 */
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import Redis from 'ioredis';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { createLogger, type AppLogger } from '../../../src/core/logger';
import { clearSecretCache } from '../../../src/core/secret-resolver';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';
import { KmsSecretProvider } from '../../../src/kms/kms-secret-provider';
import { KmsService } from '../../../src/kms/kms.service';
import { KinesisProducer } from '../../../src/producer/kinesis-producer';
import { produce as produceFlights } from '../../../examples/flights-producer/flights-producer';
import { kinesisEndpoint, kmsEndpoint, redisUrl, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';

jest.setTimeout(120_000);

type ConsumerModule = typeof import('../../../examples/flights-redis/flights-redis');

const REDIS_DB = 7;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitFor(what: string, check: () => Promise<boolean>, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/** A seeded random number generator (Park-Miller), so that each run sends the same flights. */
function seeded(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state * 48271) % 2147483647;
    return state / 2147483647;
  };
}

describe('flights: producer → Kinesis → consumer (polling) → Redis', () => {
  let kinesis: KinesisClient;
  let redis: Redis;
  let dir: string;
  let streamName: string;
  let consumer: ConsumerModule;
  let kms: KmsService;
  const logs: string[] = [];
  let logger: AppLogger;
  const expected = new Map<string, number>();
  let expectedInvalid = 0;

  beforeAll(async () => {
    kinesis = createKinesisClient({ endpoint: kinesisEndpoint(), region: TEST_REGION });
    const url = new URL(redisUrl());
    url.pathname = `/${REDIS_DB}`;
    redis = new Redis(url.toString());
    await redis.flushdb();
    dir = mkdtempSync(join(tmpdir(), 'shardline-flights-'));
    streamName = `flights-it-${Date.now().toString(36)}`;
    await kinesis.send(new CreateStreamCommand({ StreamName: streamName, ShardCount: 2 }));
    await waitFor('the stream to be ACTIVE', async () => {
      const out = await kinesis.send(new DescribeStreamSummaryCommand({ StreamName: streamName }));
      return out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE';
    });

    // The Redis URL as production has it: KMS ciphertext in FLIGHTS_REDIS_URL_SECRET, decrypted at start-up.
    const kmsClient = new KMSClient({ region: TEST_REGION, endpoint: kmsEndpoint(), credentials: TEST_CREDENTIALS, requestHandler: new NodeHttpHandler() });
    const key = await kmsClient.send(new CreateKeyCommand({ Description: 'flights-redis integration test' }));
    kms = new KmsService({ client: kmsClient });
    const ciphertext = await kms.encrypt(key.KeyMetadata?.KeyId ?? '', url.toString());
    process.env.FLIGHTS_REDIS_URL_SECRET = `kms:${ciphertext}`;
    process.env.FLIGHTS_STREAM = streamName;
    clearSecretCache();
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the @Secret reference is read when the class is defined
    consumer = require('../../../examples/flights-redis/flights-redis') as ConsumerModule;
    logger = createLogger({ level: 'info', destination: 'none' }, { sink: (line) => logs.push(line) });
  });

  afterAll(async () => {
    delete process.env.FLIGHTS_REDIS_URL_SECRET;
    delete process.env.FLIGHTS_STREAM;
    await redis?.quit();
    kinesis?.destroy();
    kms?.client.destroy();
    await logger?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Runs the flights producer example (its `produce`, on a KinesisProducer), plus two records that are not flights. */
  async function produce(count: number, seed: number): Promise<void> {
    const producer = new KinesisProducer(kinesis, { streamName, lingerMs: 20 });
    const sent = await produceFlights((data, key) => producer.put(data, key), new AbortController().signal, {
      count,
      ratePerSecond: 5_000,
      random: seeded(seed),
      onRecord: (flight) => expected.set(flight.dest, (expected.get(flight.dest) ?? 0) + 1),
    });
    expect(sent).toBe(count);
    await producer.put('not json', 'invalid-1');
    await producer.put({ carrier: 'B6', origin: 'EWR' }, 'invalid-2');
    await producer.close();
    expectedInvalid += 2;
  }

  async function runConsumerUntilCaughtUp(): Promise<void> {
    const source = new PollingRecordSource({
      streamName,
      client: kinesis,
      checkpointStore: new FileCheckpointStore({ directory: dir, applicationName: 'flights-redis-it', streamName }),
      idlePollIntervalMs: 200,
      minPollIntervalMs: 50,
    });
    const app = await ShardlineApp.start({
      consumer: consumer.FlightsRedisConsumer,
      source,
      logger,
      secretProvider: new KmsSecretProvider(kms),
    });
    try {
      const produced = [...expected.values()].reduce((a, b) => a + b, 0);
      await waitFor(`${produced} flights and ${expectedInvalid} invalid records in Redis`, async () => {
        const [total, invalid] = await redis.mget('flights:total', 'flights:invalid');
        return Number(total ?? 0) >= produced && Number(invalid ?? 0) >= expectedInvalid;
      });
      await sleep(1_000); // anything counted twice would show up now
    } finally {
      await app.stop();
      await source.close();
    }
  }

  async function countsInRedis(): Promise<Map<string, number>> {
    const dests = await redis.smembers('flights:destinations');
    const values = dests.length === 0 ? [] : await redis.mget(...dests.map((d) => `flight:${d}`));
    return new Map(dests.map((d, i) => [d, Number(values[i])]));
  }

  it('counts exactly what was produced, per destination, and resumes after a restart without counting twice', async () => {
    await produce(400, 1);
    expect(expected.size).toBeGreaterThan(10);
    await runConsumerUntilCaughtUp();
    expect(new Map([...(await countsInRedis())].sort())).toEqual(new Map([...expected].sort()));
    expect(Number(await redis.get('flights:total'))).toBe(400);
    expect(Number(await redis.get('flights:invalid'))).toBe(2);
    expect(logs.join('\n')).toContain('Redis URL from its kms: secret');
    expect(logs.join('\n')).not.toContain(`/${REDIS_DB}`);

    // A second run resumes after its checkpoints: only the new flights are counted.
    await produce(250, 5);
    await runConsumerUntilCaughtUp();
    expect(new Map([...(await countsInRedis())].sort())).toEqual(new Map([...expected].sort()));
    expect(Number(await redis.get('flights:total'))).toBe(650);
    expect(Number(await redis.get('flights:invalid'))).toBe(4);
    expect(logs.filter((l) => l.includes('Skipping record')).length).toBe(4);
  });
});
