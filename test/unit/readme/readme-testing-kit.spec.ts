import { inject } from 'tsyringe';
import { Consumer, Every, OnInit, OnRecords, OnShutdown, ShardContext, type ShutdownReason } from 'shardline';
import { createTestApp } from 'shardline/testing';

/** The README's "A consumer in 20 lines", verbatim. */
interface Flight { dest: string; carrier: string }

@Consumer({ streamName: 'flights', applicationName: 'flight-counter', checkpoint: 'batch' })
class FlightCounter {
  private readonly counts = new Map<string, number>();

  constructor(private readonly shard: ShardContext) {}

  @OnInit()
  hello(): void { this.shard.logger.info('Hello'); }

  @OnRecords({ decode: 'json' })
  count(flights: Flight[]): void {
    for (const f of flights) this.counts.set(f.dest, (this.counts.get(f.dest) ?? 0) + 1);
    this.shard.logger.info(`Received ${flights.length} records from Kinesis`);
  }

  @Every('10s')
  report(): void { this.shard.logger.info(`Top: ${JSON.stringify([...this.counts].sort((a, b) => b[1] - a[1]).slice(0, 3))}`); }

  @OnShutdown()
  bye(reason: ShutdownReason): void { this.shard.logger.info(`Bye (${reason})`); }
}

/** The README's testing example needs a consumer with an injected store; the README does not show one. */
interface KeyValueStore { incr(key: string): Promise<number> }
const KEY_VALUE_STORE = Symbol('KeyValueStore');

@Consumer({ streamName: 'flights', applicationName: 'flight-store' })
class FlightStoreCounter {
  constructor(@inject(KEY_VALUE_STORE) private readonly store: KeyValueStore) {}

  @OnRecords({ decode: 'json' })
  async count(flights: Flight[]): Promise<void> {
    for (const f of flights) await this.store.incr(`flight:${f.dest}`);
  }
}

describe('README: testing your consumer', () => {
  it('counts flights per destination (the README example, as written)', async () => {
    const store = { incr: jest.fn().mockResolvedValue(1) };
    const t = await createTestApp(FlightStoreCounter, { providers: [{ provide: KEY_VALUE_STORE, useValue: store }] });
    await t.push('shardId-000000000000', [{ dest: 'LAX' }, { dest: 'SFO' }]);
    expect(store.incr).toHaveBeenCalledWith('flight:LAX');
    expect(t.checkpoints('shardId-000000000000')).toHaveLength(1);
    await t.stop();
  });

  it('runs the 20-line consumer: logs, @Every under fake timers, shutdown reason', async () => {
    jest.useFakeTimers();
    try {
      const t = await createTestApp(FlightCounter);
      await t.push('shardId-000000000000', [{ dest: 'LAX' }, { dest: 'SFO' }, { dest: 'LAX' }]);
      await jest.advanceTimersByTimeAsync(10_000);
      expect(t.logs.some((l) => l.includes('shardId-000000000000 Hello'))).toBe(true);
      expect(t.logs.some((l) => l.includes('Received 3 records from Kinesis'))).toBe(true);
      expect(t.logs.some((l) => l.includes('Top: [["LAX",2],["SFO",1]]'))).toBe(true);
      expect(t.checkpoints('shardId-000000000000')).toHaveLength(1);
      await t.stop();
      expect(t.logs.some((l) => l.includes('Bye (stopped)'))).toBe(true);
    } finally {
      jest.useRealTimers();
    }
  });
});
