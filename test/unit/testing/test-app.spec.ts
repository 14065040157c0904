import 'reflect-metadata';
import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { inject, injectable } from 'tsyringe';
import { Consumer, OnInit, OnRecords } from '../../../src/decorators';
import { ShardContext } from '../../../src/core/shard-context';
import { CheckpointError } from '../../../src/core/errors';
import { createTestApp, InMemoryRecordSource } from '../../../src/testing';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createLogger } from '../../../src/core/logger';

const SHARD = 'shardId-000000000000';

/* The kit's own tests, written with the kit. */

const COUNTER_STORE = Symbol('CounterStore');
interface CounterStore {
  incr(key: string): Promise<number>;
}

@Consumer({ streamName: 'flights', applicationName: 'flight-counter' })
class FlightCounter {
  constructor(
    @inject(COUNTER_STORE) private readonly store: CounterStore,
    private readonly shard: ShardContext,
  ) {}
  @OnRecords({ decode: 'json' })
  async handle(flights: Array<{ dest: string }>): Promise<void> {
    for (const flight of flights) await this.store.incr(`flight:${flight.dest}`);
    this.shard.logger.info(`Counted ${flights.length} flights`);
  }
}

describe('createTestApp', () => {
  it('overrides an injected client with a mock, pushes JSON objects and reads back checkpoints and logs', async () => {
    const store = { incr: jest.fn().mockResolvedValue(1) };
    const t = await createTestApp(FlightCounter, { providers: [{ provide: COUNTER_STORE, useValue: store }] });
    const outcome = await t.push(SHARD, [{ dest: 'LAX' }, { dest: 'SFO' }]);
    expect(outcome).toEqual({ status: 'ok' });
    expect(store.incr.mock.calls).toEqual([['flight:LAX'], ['flight:SFO']]);
    expect(t.checkpoints(SHARD)).toHaveLength(1);
    expect(t.logs.some((l) => /^INFO \[.*\] shardId-000000000000 Counted 2 flights$/.test(l))).toBe(true);
    expect(t.errors).toEqual([]);
    await t.stop();
  });

  it('accepts useClass and useFactory providers', async () => {
    @injectable()
    class MemoryStore implements CounterStore {
      static created = 0;
      readonly counts = new Map<string, number>();
      constructor() {
        MemoryStore.created++;
      }
      async incr(key: string): Promise<number> {
        const n = (this.counts.get(key) ?? 0) + 1;
        this.counts.set(key, n);
        return n;
      }
    }
    const t1 = await createTestApp(FlightCounter, { providers: [{ provide: COUNTER_STORE, useClass: MemoryStore }] });
    await t1.push(SHARD, [{ dest: 'LAX' }]);
    expect(MemoryStore.created).toBe(1);
    await t1.stop();
    const shared = new MemoryStore();
    const t2 = await createTestApp(FlightCounter, { providers: [{ provide: COUNTER_STORE, useFactory: () => shared }] });
    await t2.push(SHARD, [{ dest: 'JFK' }, { dest: 'JFK' }]);
    expect(shared.counts.get('flight:JFK')).toBe(2);
    await t2.stop();
  });

  it('sends strings as UTF-8, Buffers as bytes and RecordInput with explicit sequence numbers and keys', async () => {
    const seen: Array<{ text: string; key: string; seq: string; sub: number }> = [];
    @Consumer({ streamName: 'raw', applicationName: 'raw-app' })
    class Raw {
      @OnRecords()
      handle(records: Array<{ text(): string; partitionKey: string; sequenceNumber: string; subSequenceNumber: number }>): void {
        seen.push(...records.map((r) => ({ text: r.text(), key: r.partitionKey, seq: r.sequenceNumber, sub: r.subSequenceNumber })));
      }
    }
    const t = await createTestApp(Raw);
    await t.push(SHARD, ['héllo', Buffer.from([0x41, 0x42]), { data: 'x', partitionKey: 'user-1', sequenceNumber: '123', subSequenceNumber: 2 }]);
    expect(seen[0]).toMatchObject({ text: 'héllo' });
    expect(seen[1]).toMatchObject({ text: 'AB' });
    expect(seen[2]).toEqual({ text: 'x', key: 'user-1', seq: '123', sub: 2 });
    expect(BigInt(seen[1]!.seq)).toBeGreaterThan(BigInt(seen[0]!.seq));
    expect(t.checkpoints(SHARD).slice(-1)).toEqual([{ sequenceNumber: '123', subSequenceNumber: 2 }]);
    await t.stop();
  });

  it('sends a payload object that merely has a data field whole, not as a RecordInput', async () => {
    const seen: unknown[] = [];
    @Consumer({ streamName: 'raw', applicationName: 'payload-app' })
    class Payloads {
      @OnRecords({ decode: 'json' })
      handle(items: unknown[]): void {
        seen.push(...items);
      }
    }
    const t = await createTestApp(Payloads);
    await t.push(SHARD, [{ data: 1, id: 2 }, { data: { nested: true }, partitionKey: 'k' }]);
    expect(seen).toEqual([{ data: 1, id: 2 }, { nested: true }]);
    await t.stop();
  });

  it('a push after stop() fails at once instead of waiting forever', async () => {
    const t = await createTestApp(FlightCounter, { providers: [{ provide: COUNTER_STORE, useValue: { incr: jest.fn().mockResolvedValue(1) } }] });
    await t.push(SHARD, [{ dest: 'LAX' }]);
    await t.stop();
    const outcome = await t.push(SHARD, [{ dest: 'SFO' }]);
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' ? outcome.error.message : '').toMatch(/the test app is stopped/);
  });

  it('an InMemoryRecordSource keeps events for the next app that reads it', async () => {
    const store = { incr: jest.fn().mockResolvedValue(1) };
    const source = new InMemoryRecordSource('flights');
    const logger = createLogger({ destination: 'none' });
    const first = await ShardlineApp.start({ consumer: FlightCounter, source, logger, providers: [{ provide: COUNTER_STORE, useValue: store }] });
    await source.push(SHARD, [{ data: { dest: 'LAX' } }]);
    await first.stop();
    const pending = source.push(SHARD, [{ data: { dest: 'SFO' } }]); // sent while no app reads the source
    const second = await ShardlineApp.start({ consumer: FlightCounter, source, logger, providers: [{ provide: COUNTER_STORE, useValue: store }] });
    await expect(pending).resolves.toEqual({ status: 'ok' });
    expect(store.incr).toHaveBeenLastCalledWith('flight:SFO');
    await second.stop();
  });

  it('reports a failing checkpoint store as a CheckpointError and stops the shard (default error policy)', async () => {
    const store = { incr: jest.fn().mockResolvedValue(1) };
    const t = await createTestApp(FlightCounter, { providers: [{ provide: COUNTER_STORE, useValue: store }] });
    await t.openShard(SHARD);
    t.source.failCheckpoints(SHARD, new Error('table is gone'));
    const outcome = await t.push(SHARD, [{ dest: 'LAX' }]);
    expect(outcome.status).toBe('failed');
    expect(t.errors[0]).toBeInstanceOf(CheckpointError);
    expect(t.errors[0]?.message).toBe('table is gone');
    await t.stop();
  });
});

describe('mocking a real AWS SDK client injected into a consumer', () => {
  const kms = mockClient(KMSClient);
  afterEach(() => kms.reset());

  @Consumer({ streamName: 'payments', applicationName: 'payment-decrypter' })
  class PaymentDecrypter {
    static plaintexts: string[] = [];
    constructor(private readonly client: KMSClient) {}
    @OnInit() init(): void {
      PaymentDecrypter.plaintexts = [];
    }
    @OnRecords()
    async handle(records: Array<{ data: Buffer }>): Promise<void> {
      for (const record of records) {
        const out = await this.client.send(new DecryptCommand({ CiphertextBlob: record.data }));
        PaymentDecrypter.plaintexts.push(Buffer.from(out.Plaintext ?? new Uint8Array()).toString());
      }
    }
  }

  it('a KMSClient mocked with aws-sdk-client-mock replaces the real one in the consumer container', async () => {
    kms.on(DecryptCommand).callsFake((input: { CiphertextBlob?: Uint8Array }) => ({
      Plaintext: Buffer.from(`plain:${Buffer.from(input.CiphertextBlob ?? new Uint8Array()).toString()}`),
    }));
    const t = await createTestApp(PaymentDecrypter, { providers: [{ provide: KMSClient, useValue: new KMSClient({ region: 'us-east-1' }) }] });
    await t.push(SHARD, ['c1', 'c2']);
    expect(PaymentDecrypter.plaintexts).toEqual(['plain:c1', 'plain:c2']);
    expect(kms.commandCalls(DecryptCommand)).toHaveLength(2);
    await t.stop();
  });

  it('a KMS failure is a handler failure: the shard stops without checkpointing', async () => {
    kms.on(DecryptCommand).rejects(new Error('AccessDeniedException'));
    @Consumer({ streamName: 'payments', applicationName: 'payment-strict', errors: { maxRetries: 0 } })
    class Strict extends PaymentDecrypter {}
    const t = await createTestApp(Strict, { providers: [{ provide: KMSClient, useValue: new KMSClient({ region: 'us-east-1' }) }] });
    const outcome = await t.push(SHARD, ['c1']);
    expect(outcome.status).toBe('failed');
    expect(t.checkpoints(SHARD)).toEqual([]);
    expect(t.errors[0]?.message).toMatch(/AccessDeniedException/);
    await t.stop();
  });
});
