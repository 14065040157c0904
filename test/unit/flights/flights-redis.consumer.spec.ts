import { createTestApp, clearSecretCache, type TestApp } from 'shardline/testing';
import { FlightsRedisConsumer, REDIS_URL_SECRET_REF } from '../../../examples/flights-redis/flights-redis';
import { REDIS_CLIENT_FACTORY } from '../../../examples/flights-redis/redis-client';
import { FakeRedis } from './fake-redis';

const SHARD = 'shardId-000000000000';
const OTHER = 'shardId-000000000001';
const URL = 'redis://:hunter2-password@cache.internal:6379/0';

describe('FlightsRedisConsumer (mocked Redis)', () => {
  let clients: FakeRedis[];
  let t: TestApp;

  const start = async (): Promise<TestApp> =>
    createTestApp(FlightsRedisConsumer, {
      providers: [
        {
          provide: REDIS_CLIENT_FACTORY,
          useValue: (url: string) => {
            const client = new FakeRedis(url);
            clients.push(client);
            return client;
          },
        },
      ],
    });

  beforeEach(() => {
    clients = [];
    clearSecretCache();
    process.env.FLIGHTS_REDIS_URL = URL;
  });

  afterEach(async () => {
    await t?.stop();
    delete process.env.FLIGHTS_REDIS_URL;
  });

  it('reads the Redis URL from env:FLIGHTS_REDIS_URL when no KMS ciphertext is configured, and masks it in logs', async () => {
    expect(REDIS_URL_SECRET_REF).toBe('env:FLIGHTS_REDIS_URL');
    t = await start();
    await t.push(SHARD, [{ dest: 'LAX' }]);
    expect(clients.map((c) => c.url)).toEqual([URL]);
    expect(t.logs.join('\n')).toContain('Redis URL from its env: secret');
    expect(t.logs.join('\n')).not.toContain('hunter2');
  });

  it('increments flight:<dest> per record in one transaction per batch and checkpoints the batch', async () => {
    t = await start();
    const outcome = await t.push(SHARD, [{ dest: 'LAX' }, { dest: 'SFO', carrier: 'UA' }, { dest: 'LAX' }, { dest: 'ATL' }]);
    expect(outcome).toEqual({ status: 'ok' });
    const redis = clients[0]!;
    expect(Object.fromEntries(redis.strings)).toEqual({ 'flight:LAX': 2, 'flight:SFO': 1, 'flight:ATL': 1, 'flights:total': 4 });
    expect([...redis.sets.get('flights:destinations')!].sort()).toEqual(['ATL', 'LAX', 'SFO']);
    expect(redis.execCalls).toBe(1);
    expect(t.checkpoints(SHARD)).toHaveLength(1);

    await t.push(SHARD, [{ dest: 'SFO' }]);
    expect(redis.strings.get('flight:SFO')).toBe(2);
    expect(redis.strings.get('flights:total')).toBe(5);
    expect(t.checkpoints(SHARD)).toHaveLength(2);
  });

  it('accepts the seed talk one-row array form and lower-case codes', async () => {
    t = await start();
    await t.push(SHARD, ['[{"year":2013,"carrier":"UA","dest":"iah"}]', '{"dest":" ord "}']);
    expect(clients[0]!.strings.get('flight:IAH')).toBe(1);
    expect(clients[0]!.strings.get('flight:ORD')).toBe(1);
  });

  it('counts and logs invalid records without failing the batch or stopping the shard', async () => {
    t = await start();
    const outcome = await t.push(SHARD, [
      'not json at all',
      { carrier: 'UA' },
      { dest: 42 },
      { dest: 'L A X; DEL *' },
      '[1,2]',
      'null',
      { dest: 'JFK' },
    ]);
    expect(outcome).toEqual({ status: 'ok' });
    const redis = clients[0]!;
    expect(redis.strings.get('flights:invalid')).toBe(6);
    expect(redis.strings.get('flights:total')).toBe(1);
    expect(redis.strings.get('flight:JFK')).toBe(1);
    expect([...redis.strings.keys()].filter((k) => k.startsWith('flight:'))).toEqual(['flight:JFK']);
    const warnings = t.logs.filter((l) => l.startsWith('WARN'));
    expect(warnings).toHaveLength(6);
    expect(warnings.join('\n')).toMatch(/not JSON/);
    expect(warnings.join('\n')).toMatch(/no "dest" field/);
    expect(warnings.join('\n')).toMatch(/is not an airport code/);
    expect(t.checkpoints(SHARD)).toHaveLength(1);
    expect(t.errors).toEqual([]);

    expect(await t.push(SHARD, [{ dest: 'JFK' }])).toEqual({ status: 'ok' });
    expect(redis.strings.get('flight:JFK')).toBe(2);
  });

  it('logs one summary line instead of every invalid record of a big bad batch', async () => {
    t = await start();
    await t.push(SHARD, Array.from({ length: 25 }, () => 'garbage'));
    expect(clients[0]!.strings.get('flights:invalid')).toBe(25);
    const warnings = t.logs.filter((l) => l.startsWith('WARN'));
    expect(warnings).toHaveLength(11);
    expect(warnings.at(-1)).toContain('Skipped 25 records that are not flights in this batch (15 not listed)');
  });

  it('retries a batch whose Redis transaction failed, without counting it twice', async () => {
    t = await start();
    await t.push(SHARD, [{ dest: 'BOS' }]);
    const redis = clients[0]!;
    redis.failNextExecs = 1;
    const outcome = await t.push(SHARD, [{ dest: 'BOS' }, { dest: 'DEN' }]);
    expect(outcome).toEqual({ status: 'ok' });
    expect(redis.execCalls).toBe(3);
    expect(redis.strings.get('flight:BOS')).toBe(2);
    expect(redis.strings.get('flight:DEN')).toBe(1);
    expect(t.checkpoints(SHARD)).toHaveLength(2);
  });

  it('does not checkpoint a batch that never reached Redis, and stops the app (the other shard gracefully)', async () => {
    t = await start();
    await t.push(SHARD, [{ dest: 'BOS' }]);
    await t.push(OTHER, [{ dest: 'BOS' }]);
    const [first, second] = clients;
    first!.failNextExecs = 100;
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    try {
      const pending = t.push(SHARD, [{ dest: 'SEA' }]);
      await jest.advanceTimersByTimeAsync(30_000); // 5 retries with backoff 0.5 s, 1 s, 2 s, 4 s, 8 s
      const outcome = await pending;
      expect(outcome.status).toBe('failed');
    } finally {
      jest.useRealTimers();
    }
    expect(first!.execCalls).toBe(1 + 6);
    expect(t.checkpoints(SHARD)).toHaveLength(1);
    expect(first!.strings.get('flight:SEA')).toBeUndefined();
    expect(t.errors.length).toBeGreaterThan(0);
    // Under 'stop' a stopped shard stops the app (issue 11, defect 2): the other shard is stopped gracefully.
    await expect(t.app.done).rejects.toMatchObject({ name: 'ShardStoppedError' });
    expect(t.checkpoints(OTHER)).toHaveLength(1);
    expect((await t.push(OTHER, [{ dest: 'SEA' }])).status).toBe('failed');
    expect(second!.strings.get('flight:SEA')).toBeUndefined();
  });

  it('closes its Redis client when the shard shuts down', async () => {
    t = await start();
    await t.push(SHARD, [{ dest: 'MIA' }]);
    await t.push(OTHER, [{ dest: 'MIA' }]);
    await t.endShard(SHARD);
    expect(clients[0]!.quit).toHaveBeenCalledTimes(1);
    expect(clients[1]!.quit).not.toHaveBeenCalled();
    await t.stop();
    expect(clients[1]!.quit).toHaveBeenCalledTimes(1);
    expect(t.logs.join('\n')).toMatch(/Bye \(stopped\): 1 flights and 0 invalid records counted on this shard/);
  });
});

describe('FlightsRedisConsumer @Every(10s) report', () => {
  afterEach(() => {
    jest.useRealTimers();
    delete process.env.FLIGHTS_REDIS_URL;
  });

  it('logs the top destinations from Redis every 10 seconds', async () => {
    jest.useFakeTimers({ doNotFake: ['nextTick', 'setImmediate'] });
    clearSecretCache();
    process.env.FLIGHTS_REDIS_URL = URL;
    const redis = new FakeRedis();
    const t = await createTestApp(FlightsRedisConsumer, { providers: [{ provide: REDIS_CLIENT_FACTORY, useValue: () => redis }] });
    await t.push(SHARD, [{ dest: 'LAX' }, { dest: 'LAX' }, { dest: 'SFO' }, 'bad']);
    const reports = (): string[] => t.logs.filter((l) => l.includes('Flights counted'));
    await jest.advanceTimersByTimeAsync(9_000);
    expect(reports()).toHaveLength(0);
    await jest.advanceTimersByTimeAsync(1_500);
    expect(reports()).toHaveLength(1);
    expect(reports()[0]).toContain('Flights counted: 3 in Redis (2 destinations, 1 invalid records); this shard: 3 (1 invalid). Top: LAX 2, SFO 1');
    await t.push(SHARD, [{ dest: 'SFO' }, { dest: 'SFO' }]);
    await jest.advanceTimersByTimeAsync(10_000);
    expect(reports()).toHaveLength(2);
    expect(reports()[1]).toContain('Top: SFO 3, LAX 2');
    await t.stop();
  });
});
