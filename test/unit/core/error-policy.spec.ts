import 'reflect-metadata';
import { Consumer, OnDeadLetter, OnRecords, OnShutdown } from '../../../src/decorators';
import { HandlerError } from '../../../src/core/errors';
import { type FailedBatch, type ShutdownReason } from '../../../src/core/record-batch';
import { type ErrorPolicyOptions } from '../../../src/core/consumer-options';
import { createTestApp, type TestApp } from '../../../src/testing';

const SHARD = 'shardId-000000000000';
const OTHER = 'shardId-000000000001';

interface Probe {
  attempts: Array<{ at: number; items: string[] }>;
  deadLetters: FailedBatch[];
  shutdowns: ShutdownReason[];
  deadLetterFails: boolean;
}

function failingConsumer(errors: ErrorPolicyOptions, probe: Probe) {
  @Consumer({ streamName: 'errors-stream', applicationName: 'errors-app', errors })
  class Failing {
    @OnRecords({ decode: 'text' })
    handle(items: string[]): void {
      probe.attempts.push({ at: Date.now(), items });
      if (items.some((i) => i.startsWith('bad'))) throw new Error('bad record');
    }
    @OnDeadLetter()
    dead(batch: FailedBatch): void {
      if (probe.deadLetterFails) throw new Error('dead-letter queue unavailable');
      probe.deadLetters.push(batch);
    }
    @OnShutdown()
    bye(reason: ShutdownReason): void {
      probe.shutdowns.push(reason);
    }
  }
  return Failing;
}

function newProbe(): Probe {
  return { attempts: [], deadLetters: [], shutdowns: [], deadLetterFails: false };
}

describe('error policies', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    jest.useRealTimers();
    await t?.stop();
    t = undefined;
  });

  it('retries with exponential backoff (capped) on fake time, then stops the shard without checkpointing', async () => {
    jest.useFakeTimers({ now: 0 });
    const probe = newProbe();
    t = await createTestApp(failingConsumer({ maxRetries: 4, initialBackoffMs: 100, maxBackoffMs: 500 }, probe));
    await t.push(SHARD, [{ data: 'ok', sequenceNumber: '1' }]);
    const pending = t.push(SHARD, [{ data: 'good', sequenceNumber: '2' }, { data: 'bad', sequenceNumber: '3' }]);
    let settled = false;
    void pending.then(() => (settled = true));
    await jest.advanceTimersByTimeAsync(99);
    expect(probe.attempts).toHaveLength(2); // the first batch, and the first attempt of the failing one
    expect(settled).toBe(false);
    await jest.advanceTimersByTimeAsync(2_000);
    const outcome = await pending;
    expect(outcome.status).toBe('failed');
    const failing = probe.attempts.slice(1);
    expect(failing).toHaveLength(5);
    const delays = failing.slice(1).map((a, i) => a.at - failing[i]!.at);
    expect(delays).toEqual([100, 200, 400, 500]);
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['1']);
    expect(probe.shutdowns).toEqual(['stopped']);
    expect(t.errors).toHaveLength(1);
    expect(t.errors[0]).toBeInstanceOf(HandlerError);
    expect(t.errors[0]).toMatchObject({ shardId: SHARD, attempts: 5, sequenceNumbers: ['2', '3'], method: 'handle', consumer: 'Failing' });
    expect(t.logs.join('\n')).toMatch(/WARN .* shardId-000000000000 Failing\.handle failed on 2 records \(2\.\.3\), attempt 1 of 5: bad record/);
    expect(t.logs.join('\n')).toMatch(/ERROR .* Stopping the shard \(checkpoint stays at 1: the records after it are read again after a restart\): Failing\.handle failed on 2 records/);
    expect(t.logs.join('\n')).not.toMatch(/past none/);
    // The stopped shard takes no more records, and nothing is checkpointed later.
    expect((await t.push(SHARD, [{ data: 'later', sequenceNumber: '4' }])).status).toBe('failed');
    expect(probe.attempts).toHaveLength(6);
    await t.stop();
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['1']);
  });

  it("'skip' logs the failed batch, counts it as handled and goes on", async () => {
    const probe = newProbe();
    t = await createTestApp(failingConsumer({ maxRetries: 1, initialBackoffMs: 0, onFailure: 'skip' }, probe));
    const outcome = await t.push(SHARD, [{ data: 'bad-1', sequenceNumber: '11' }]);
    expect(outcome.status).toBe('ok');
    expect(probe.attempts).toHaveLength(2);
    expect(t.logs.join('\n')).toMatch(/ERROR .* shardId-000000000000 Skipping 1 records after 2 failed attempts: bad record .*11/);
    expect((await t.push(SHARD, [{ data: 'fine', sequenceNumber: '12' }])).status).toBe('ok');
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['11', '12']);
    expect(t.errors.map((e) => e.name)).toEqual(['HandlerError']);
  });

  it("'dead-letter' hands the failed record (found by bisecting the batch) to @OnDeadLetter, then goes on", async () => {
    const probe = newProbe();
    t = await createTestApp(failingConsumer({ maxRetries: 2, initialBackoffMs: 0, onFailure: 'dead-letter' }, probe));
    const outcome = await t.push(SHARD, [{ data: 'bad-a', sequenceNumber: '21' }, { data: 'ok', sequenceNumber: '22' }]);
    expect(outcome.status).toBe('ok');
    expect(probe.deadLetters).toHaveLength(1);
    const failed = probe.deadLetters[0]!;
    expect(failed.attempts).toBe(6); // 3 on the batch, then 1 alone and its 2 retries alone
    expect(failed.error.message).toBe('bad record');
    expect(failed.shardId).toBe(SHARD);
    expect(failed.records.map((r) => r.text())).toEqual(['bad-a']);
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['22']);
    expect(probe.shutdowns).toEqual([]);
  });

  it('a failing dead-letter handler stops the shard without checkpointing', async () => {
    const probe = newProbe();
    probe.deadLetterFails = true;
    t = await createTestApp(failingConsumer({ maxRetries: 0, onFailure: 'dead-letter' }, probe));
    await t.push(SHARD, [{ data: 'ok', sequenceNumber: '1' }]);
    const outcome = await t.push(SHARD, [{ data: 'bad', sequenceNumber: '2' }]);
    expect(outcome.status).toBe('failed');
    expect(t.logs.join('\n')).toMatch(/The dead-letter handler failed too: dead-letter queue unavailable/);
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['1']);
    expect(probe.shutdowns).toEqual(['stopped']);
  });

  it("under 'stop', a failing shard stops the app: the other shard is stopped gracefully, done rejects", async () => {
    const probe = newProbe();
    t = await createTestApp(failingConsumer({ maxRetries: 0 }, probe));
    const [bad, good] = await Promise.all([
      t.push(SHARD, [{ data: 'bad', sequenceNumber: '1' }]),
      t.push(OTHER, [{ data: 'fine', sequenceNumber: '1' }]),
    ]);
    expect(bad.status).toBe('failed');
    expect(good.status).toBe('ok');
    await expect(t.app.done).rejects.toMatchObject({ name: 'ShardStoppedError' });
    expect(t.checkpoints(OTHER).map((c) => c.sequenceNumber)).toEqual(['1']);
    expect(t.checkpoints(SHARD)).toEqual([]);
    expect(probe.shutdowns).toEqual(['stopped', 'stopped']);
    expect(t.app.activeShards).toEqual([]);
  });

  it('a handler that returns a rejected promise or an erroring Observable is a failure too', async () => {
    const { throwError } = await import('rxjs');
    @Consumer({ streamName: 's', applicationName: 'observable-app', errors: { maxRetries: 0, onFailure: 'skip' } })
    class ObservableFailing {
      @OnRecords()
      handle() {
        return throwError(() => new Error('observable failed'));
      }
    }
    t = await createTestApp(ObservableFailing);
    await t.push(SHARD, ['x']);
    expect(t.errors[0]?.message).toMatch(/ObservableFailing\.handle failed on 1 records of shardId-000000000000 after 1 attempts: observable failed/);
  });
  it("a record that is not JSON under decode: 'json' is a failure of its batch (RecordDecodeError), handled by the policy", async () => {
    const handled: unknown[] = [];
    @Consumer({ streamName: 's', applicationName: 'json-app', errors: { maxRetries: 0, onFailure: 'skip' } })
    class JsonConsumer {
      @OnRecords({ decode: 'json' })
      handle(items: unknown[]): void {
        handled.push(...items);
      }
    }
    t = await createTestApp(JsonConsumer);
    expect((await t.push(SHARD, [{ data: 'not json', sequenceNumber: '5' }])).status).toBe('ok');
    expect(handled).toEqual([]);
    expect(t.errors[0]?.cause).toMatchObject({ name: 'RecordDecodeError' });
    expect(t.errors[0]?.message).toMatch(/record 5 of shardId-000000000000 is not JSON/);
    await t.push(SHARD, [{ data: { ok: true }, sequenceNumber: '6' }]);
    expect(handled).toEqual([{ ok: true }]);
  });

  it('a handler returning an Observable is awaited until the Observable completes', async () => {
    const { timer, map } = await import('rxjs');
    const done: string[] = [];
    @Consumer({ streamName: 's', applicationName: 'observable-ok' })
    class ObservableOk {
      @OnRecords({ decode: 'text' })
      handle(items: string[]) {
        return timer(20).pipe(map(() => done.push(...items)));
      }
    }
    t = await createTestApp(ObservableOk);
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }]);
    expect(done).toEqual(['a']);
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['1']);
  });
});
