import 'reflect-metadata';
import { Consumer, OnInit, OnRecords, OnShutdown } from '../../../src/decorators';
import { ShardStoppedError } from '../../../src/core/errors';
import { type ShutdownReason } from '../../../src/core/record-batch';
import { createTestApp, type TestApp } from '../../../src/testing';

const BAD = 'shardId-000000000000';
const GOOD = 'shardId-000000000001';
const shutdowns: string[] = [];

@Consumer({ streamName: 'stop-stream', applicationName: 'stop-app', checkpoint: { everyRecords: 1000 }, errors: { maxRetries: 1, initialBackoffMs: 0 } })
class FailsOnBad {
  private shardId = '';
  @OnRecords({ decode: 'text' })
  handle(items: string[], batch: { shardId: string }): void {
    this.shardId = batch.shardId;
    if (items.includes('bad')) throw new Error('bad record\nsecond line');
  }
  @OnShutdown()
  bye(reason: ShutdownReason): void {
    shutdowns.push(`${this.shardId} ${reason}`);
  }
}

describe("a stopped shard stops the app: done rejects with ShardStoppedError (issue 11, defect 2)", () => {
  let t: TestApp | undefined;
  beforeEach(() => (shutdowns.length = 0));
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  it('stops the other shards gracefully (hooks with stopped, what they processed is checkpointed) and names the stopped shard in one line', async () => {
    t = await createTestApp(FailsOnBad);
    expect((await t.push(GOOD, [{ data: 'g1', sequenceNumber: '5' }, { data: 'g2', sequenceNumber: '6' }])).status).toBe('ok');
    expect(t.checkpoints(GOOD)).toEqual([]); // everyRecords: 1000, nothing stored yet
    expect((await t.push(BAD, [{ data: 'fine', sequenceNumber: '1' }])).status).toBe('ok');
    expect((await t.push(BAD, [{ data: 'bad', sequenceNumber: '2' }])).status).toBe('failed');
    const error = await t.app.done.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShardStoppedError);
    const stopped = error as ShardStoppedError;
    expect(stopped.message).toBe(
      `shard ${BAD} stopped (checkpoint stays at 1): FailsOnBad.handle failed on 1 records of ${BAD} after 2 attempts: bad record second line. ` +
        "Fix the handler, or set errors.onFailure to 'skip' or 'dead-letter'; the shard resumes from its checkpoint on restart",
    );
    // The stopping shard checkpointed what it handled before the failing batch (everyRecords had not stored it yet).
    expect(stopped.shards).toEqual([expect.objectContaining({ shardId: BAD, checkpointSequenceNumber: '1' })]);
    expect(t.checkpoints(BAD).map((c) => c.sequenceNumber)).toEqual(['1']);
    expect(t.checkpoints(GOOD).map((c) => c.sequenceNumber)).toEqual(['6']);
    expect(shutdowns.sort()).toEqual([`${BAD} stopped`, `${GOOD} stopped`]);
    expect(t.app.activeShards).toEqual([]);
    // Nothing is read any more.
    expect((await t.push(GOOD, [{ data: 'g3', sequenceNumber: '7' }])).status).toBe('failed');
  });

  it("says where the stopped shard's checkpoint stays", async () => {
    @Consumer({ streamName: 'stop-stream', applicationName: 'stop-app-2', errors: { maxRetries: 0 } })
    class FailsOnSecond {
      @OnRecords({ decode: 'text' })
      handle(items: string[]): void {
        if (items.includes('bad')) throw new Error('boom');
      }
    }
    t = await createTestApp(FailsOnSecond);
    await t.push(BAD, [{ data: 'ok', sequenceNumber: '41' }]);
    await t.push(BAD, [{ data: 'bad', sequenceNumber: '42' }]);
    await expect(t.app.done).rejects.toThrow(new RegExp(`^shard ${BAD} stopped \\(checkpoint stays at 41\\): FailsOnSecond\\.handle failed .*: boom\\. Fix the handler`));
  });

  it('a consumer that fails to start stops the app too', async () => {
    @Consumer({ streamName: 'stop-stream', applicationName: 'stop-app-3' })
    class BadInit {
      @OnInit() init(): void {
        throw new Error('cannot connect');
      }
      @OnRecords() handle(): void {}
    }
    t = await createTestApp(BadInit);
    expect((await t.push(BAD, ['a'])).status).toBe('failed');
    await expect(t.app.done).rejects.toBeInstanceOf(ShardStoppedError);
    await expect(t.app.done).rejects.toThrow(/shard shardId-000000000000 stopped \(no checkpoint yet\): BadInit failed to initialize on shardId-000000000000: cannot connect/);
  });
});
