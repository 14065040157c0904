import 'reflect-metadata';
import { Consumer, Every, OnRecords, OnShutdown } from '../../../src/decorators';
import { ShardContext } from '../../../src/core/shard-context';
import { createTestApp, type TestApp } from '../../../src/testing';

const A = 'shardId-000000000000';
const B = 'shardId-000000000001';

interface Run {
  shardId: string;
  method: string;
  start: number;
  end?: number;
}

describe('@Every on fake time', () => {
  let t: TestApp | undefined;
  const runs: Run[] = [];
  let slowMs = 0;
  let throwOnFast = false;
  let shutdownAt: number[] = [];

  @Consumer({ streamName: 'every-stream', applicationName: 'every-app' })
  class Timed {
    constructor(private readonly shard: ShardContext) {}
    @OnRecords() handle(): void {}

    @Every('10s')
    async fast(): Promise<void> {
      const run: Run = { shardId: this.shard.shardId, method: 'fast', start: Date.now() };
      runs.push(run);
      if (throwOnFast) throw new Error('updater exploded');
      if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
      run.end = Date.now();
    }

    @Every('1m')
    slow(): void {
      runs.push({ shardId: this.shard.shardId, method: 'slow', start: Date.now(), end: Date.now() });
    }

    @OnShutdown() bye(): void {
      shutdownAt.push(Date.now());
    }
  }

  beforeEach(() => {
    jest.useFakeTimers({ now: 0 });
    runs.length = 0;
    slowMs = 0;
    throwOnFast = false;
    shutdownAt = [];
  });
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    jest.useRealTimers();
  });

  it('runs each method on time, per open shard, from the moment the shard opened', async () => {
    t = await createTestApp(Timed);
    await t.openShard(A);
    await jest.advanceTimersByTimeAsync(5_000);
    await t.openShard(B);
    await jest.advanceTimersByTimeAsync(55_000); // now t = 60 s
    const at = (shard: string, method: string): number[] => runs.filter((r) => r.shardId === shard && r.method === method).map((r) => r.start);
    expect(at(A, 'fast')).toEqual([10_000, 20_000, 30_000, 40_000, 50_000, 60_000]);
    expect(at(B, 'fast')).toEqual([15_000, 25_000, 35_000, 45_000, 55_000]);
    expect(at(A, 'slow')).toEqual([60_000]);
    expect(at(B, 'slow')).toEqual([]);
  });

  it('runs nothing before the shard opens', async () => {
    t = await createTestApp(Timed);
    await jest.advanceTimersByTimeAsync(120_000);
    expect(runs).toEqual([]);
  });

  it('never overlaps itself when a run is slower than the interval (ticks during a run are skipped)', async () => {
    slowMs = 25_000;
    t = await createTestApp(Timed);
    await t.openShard(A);
    await jest.advanceTimersByTimeAsync(75_000);
    const fast = runs.filter((r) => r.method === 'fast');
    expect(fast.map((r) => r.start)).toEqual([10_000, 40_000, 70_000]);
    for (let i = 1; i < fast.length; i++) expect(fast[i]!.start).toBeGreaterThanOrEqual(fast[i - 1]!.end!);
  });

  it('stops at shutdown: no run after the shard closed', async () => {
    t = await createTestApp(Timed);
    await t.openShard(A);
    await t.openShard(B);
    await jest.advanceTimersByTimeAsync(10_000);
    await t.endShard(A);
    await jest.advanceTimersByTimeAsync(50_000);
    expect(runs.filter((r) => r.shardId === A && r.method === 'fast').map((r) => r.start)).toEqual([10_000]);
    expect(runs.filter((r) => r.shardId === B && r.method === 'fast')).toHaveLength(6);
    await t.stop();
    const count = runs.length;
    await jest.advanceTimersByTimeAsync(120_000);
    expect(runs).toHaveLength(count);
    expect(shutdownAt).toHaveLength(2);
  });

  it('a throwing run is logged and the timer goes on', async () => {
    throwOnFast = true;
    t = await createTestApp(Timed);
    await t.openShard(A);
    await jest.advanceTimersByTimeAsync(30_000);
    expect(runs.filter((r) => r.method === 'fast').map((r) => r.start)).toEqual([10_000, 20_000, 30_000]);
    const failures = t.logs.filter((l) => /^ERROR \[.*\] shardId-000000000000 Timed\.fast failed: updater exploded$/.test(l));
    expect(failures).toHaveLength(3);
    // The shard still handles records.
    expect((await t.push(A, ['x'])).status).toBe('ok');
  });
});
