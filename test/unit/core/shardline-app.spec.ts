import 'reflect-metadata';
import { Observable, Subject } from 'rxjs';
import { Consumer, OnRecords, OnShutdown } from '../../../src/decorators';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createLogger, type AppLogger } from '../../../src/core/logger';
import { ShardContext } from '../../../src/core/shard-context';
import { SourceError } from '../../../src/core/errors';
import { type ShardEvent } from '../../../src/core/shard-event';
import { type ShutdownReason } from '../../../src/core/record-batch';
import { type RecordSource } from '../../../src/adapters/record-source';
import { InMemoryRecordSource, createTestApp } from '../../../src/testing';

const SHARD = 'shardId-000000000000';
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const log: string[] = [];
let gate: Array<() => void> = [];

@Consumer({ streamName: 'app-stream', applicationName: 'app-app' })
class Gated {
  static instances = 0;
  readonly id: number;
  constructor(readonly shard: ShardContext) {
    this.id = ++Gated.instances;
  }
  @OnRecords()
  async handle(records: Array<{ text(): string }>): Promise<void> {
    log.push(`start ${this.id} ${records.map((r) => r.text()).join(',')}`);
    await new Promise<void>((resolve) => gate.push(resolve));
    log.push(`end ${this.id}`);
  }
  @OnShutdown() bye(reason: ShutdownReason): void {
    log.push(`shutdown ${this.id} ${reason}`);
  }
}

describe('ShardlineApp', () => {
  let logger: AppLogger;
  const lines: string[] = [];
  beforeEach(() => {
    log.length = 0;
    lines.length = 0;
    gate = [];
    Gated.instances = 0;
    logger = createLogger({ destination: 'none', level: 'debug' }, { sink: (line) => lines.push(line) });
  });
  afterEach(async () => {
    for (const release of gate) release();
    await logger.close();
  });

  it('graceful stop finishes the batch in flight, runs hooks, then checkpoints it', async () => {
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Gated, source, logger });
    const inFlight = source.push(SHARD, [{ data: 'a', sequenceNumber: '10' }]);
    await sleep(5);
    expect(log).toEqual(['start 1 a']);
    const stopped = app.stop();
    await sleep(5);
    expect(log).toEqual(['start 1 a']); // stop waits for the batch
    gate.shift()!();
    await stopped;
    expect(log).toEqual(['start 1 a', 'end 1', 'shutdown 1 stopped']);
    expect((await inFlight).status).toBe('ok');
    expect(source.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['10']);
    await expect(app.done).resolves.toBeUndefined();
    expect(app.activeShards).toEqual([]);
  });

  it('a batch queued behind the one in flight is not started after stop, and its push still settles', async () => {
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Gated, source, logger });
    const first = source.push(SHARD, [{ data: 'a', sequenceNumber: '10' }]);
    const queued = source.push(SHARD, [{ data: 'b', sequenceNumber: '20' }]);
    await sleep(5);
    const stopped = app.stop();
    gate.shift()!();
    await stopped;
    expect((await first).status).toBe('ok');
    // Every event is acknowledged exactly once (the RecordSource contract), even when the app is stopping.
    const outcome = await Promise.race([queued, sleep(500).then(() => 'never acknowledged' as const)]);
    expect(outcome).toMatchObject({ status: 'failed' });
    expect(log).not.toContain('start 1 b');
    expect(source.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['10']);
  });

  it('graceful stop is bounded: a batch still running after shutdownTimeoutMs is abandoned, not checkpointed', async () => {
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Gated, source, logger, shutdownTimeoutMs: 50 });
    const first = source.push(SHARD, [{ data: 'a', sequenceNumber: '10' }]);
    void source.push(SHARD, [{ data: 'b', sequenceNumber: '20' }]);
    await sleep(5);
    gate.shift()!(); // the first batch finishes; the second one never does
    await first;
    await sleep(5);
    expect(log).toEqual(['start 1 a', 'end 1', 'start 1 b']);
    const started = Date.now();
    await app.stop();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(lines.join('\n')).toMatch(/Shutdown took longer than 50 ms: shards still busy were not checkpointed/);
    expect(source.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['10']);
    // The stuck batch finishing later must not checkpoint either.
    gate.shift()!();
    await sleep(5);
    expect(source.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['10']);
  });

  it('a source error rejects done with the error and closes shards without checkpointing', async () => {
    const events = new Subject<ShardEvent>();
    const checkpoints: string[] = [];
    const source: RecordSource = { name: 'broken', events: () => events.asObservable() };
    @Consumer({ streamName: 'app-stream', applicationName: 'app-broken' })
    class Quick {
      @OnRecords() handle(): void {}
      @OnShutdown() bye(reason: ShutdownReason): void {
        log.push(`shutdown ${reason}`);
      }
    }
    const app = await ShardlineApp.start({ consumer: Quick, source, logger });
    const acks: string[] = [];
    events.next({
      type: 'opened',
      shardId: SHARD,
      ack: (o) => acks.push(o.status),
      lease: { streamName: 's', shardId: SHARD, checkpointer: { checkpoint: async (p) => void checkpoints.push(p.sequenceNumber) } },
    });
    await sleep(5);
    events.error(new SourceError('GetRecords failed: ExpiredIteratorException', { shardId: SHARD }));
    await expect(app.done).rejects.toThrow('GetRecords failed: ExpiredIteratorException');
    expect(acks).toEqual(['ok']);
    expect(log).toEqual(['shutdown stopped']);
    expect(checkpoints).toEqual([]);
    expect(lines.join('\n')).toMatch(/ERROR .* GetRecords failed: ExpiredIteratorException/);
  });

  it('a source that throws a plain error is reported as a SourceError naming the source', async () => {
    const source: RecordSource = { name: 'flaky', events: () => new Observable<ShardEvent>((s) => s.error(new Error('socket hang up'))) };
    @Consumer({ streamName: 'app-stream', applicationName: 'app-flaky' })
    class Quick {
      @OnRecords() handle(): void {}
    }
    const app = await ShardlineApp.start({ consumer: Quick, source, logger });
    const error = await app.done.then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(String(error)).toMatch(/the flaky source failed: Error: socket hang up/);
  });

  it('done resolves when the source completes', async () => {
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Gated, source, logger });
    source.complete();
    await expect(app.done).resolves.toBeUndefined();
  });

  it('a shard re-opened after its lease was lost gets a fresh consumer instance', async () => {
    const t = await createTestApp(Gated);
    const first = t.push(SHARD, ['a']);
    await sleep(1);
    gate.shift()!();
    await first;
    await t.loseLease(SHARD);
    const second = t.push(SHARD, ['b']);
    await sleep(1);
    gate.shift()!();
    await second;
    expect(log).toEqual(['start 1 a', 'end 1', 'shutdown 1 leaseLost', 'start 2 b', 'end 2']);
    await t.stop();
    expect(log.slice(-1)).toEqual(['shutdown 2 stopped']);
  });

  it('each shard has its own instance and ShardContext', async () => {
    const t = await createTestApp(Gated);
    const pushes = [t.push(SHARD, ['a']), t.push('shardId-000000000001', ['b'])];
    await sleep(5);
    expect(gate).toHaveLength(2);
    gate.splice(0).forEach((release) => release());
    await Promise.all(pushes);
    expect(Gated.instances).toBe(2);
    await t.stop();
  });

  it('stop() is safe to call twice and after the source ended', async () => {
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Gated, source, logger });
    await Promise.all([app.stop(), app.stop()]);
    await app.stop();
    await expect(app.done).resolves.toBeUndefined();
  });
});
