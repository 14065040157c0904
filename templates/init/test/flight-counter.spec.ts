import { createTestApp } from 'shardline/testing';
import { CounterStore } from '../src/counter-store';
import { FlightCounter } from '../src/flight-counter';

describe('FlightCounter', () => {
  it('counts each flight in the injected store and checkpoints the batch', async () => {
    const store = { add: jest.fn(), top: jest.fn().mockReturnValue([]) };
    const t = await createTestApp(FlightCounter, { providers: [{ provide: CounterStore, useValue: store }] });

    await t.push('shardId-000000000000', [
      { dest: 'LAX', carrier: 'AA' },
      { dest: 'SFO', carrier: 'UA' },
    ]); // resolves once the batch is handled

    expect(store.add.mock.calls).toEqual([['LAX'], ['SFO']]);
    expect(t.checkpoints('shardId-000000000000')).toHaveLength(1);
    expect(t.logs.some((line) => line.endsWith('Received 2 records from Kinesis'))).toBe(true);
    await t.stop();
  });

  it('reports the top destinations every 10 seconds', async () => {
    jest.useFakeTimers();
    try {
      const t = await createTestApp(FlightCounter); // the real CounterStore
      await t.push('shardId-000000000000', [{ dest: 'LAX', carrier: 'AA' }, { dest: 'LAX', carrier: 'DL' }, { dest: 'BOS', carrier: 'UA' }]);
      await t.advanceTime(10_000);
      expect(t.logs.some((line) => line.endsWith('Top: [["LAX",2],["BOS",1]]'))).toBe(true);
      await t.stop();
    } finally {
      jest.useRealTimers();
    }
  });
});
