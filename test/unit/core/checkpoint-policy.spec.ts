import 'reflect-metadata';
import { Consumer, OnRecords } from '../../../src/decorators';
import { ShardCheckpointer } from '../../../src/core/shard-checkpointer';
import { CheckpointError } from '../../../src/core/errors';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { type CheckpointPolicyOption } from '../../../src/core/consumer-options';
import { createTestApp, type TestApp } from '../../../src/testing';

const SHARD = 'shardId-000000000000';

function consumerWith(checkpoint: CheckpointPolicyOption, failOn?: string) {
  @Consumer({ streamName: 'policy-stream', applicationName: 'policy-app', checkpoint, errors: { maxRetries: 0, onFailure: 'stop' } })
  class PolicyConsumer {
    readonly seen: string[] = [];
    @OnRecords({ decode: 'text' })
    handle(items: string[]): void {
      if (failOn !== undefined && items.includes(failOn)) throw new Error(`cannot handle ${failOn}`);
      this.seen.push(...items);
    }
  }
  return PolicyConsumer;
}

const seqs = (t: TestApp): string[] => t.checkpoints(SHARD).map((c) => c.sequenceNumber);
describe('checkpoint policies', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
    jest.useRealTimers();
  });

  it("'batch' (the default) checkpoints the last record of every batch that succeeded", async () => {
    t = await createTestApp(consumerWith('batch'));
    await t.push(SHARD, ['a', 'b']);
    await t.push(SHARD, ['c']);
    const checkpoints = t.checkpoints(SHARD);
    expect(checkpoints).toHaveLength(2);
    // Checkpoints are the sequence number of the last record of each batch, in order.
    expect(BigInt(checkpoints[1]!.sequenceNumber)).toBeGreaterThan(BigInt(checkpoints[0]!.sequenceNumber));
    expect(checkpoints[0]!.subSequenceNumber).toBe(0);
  });

  it('checkpoints the exact sequence number of the last record of the batch', async () => {
    t = await createTestApp(consumerWith('batch'));
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '100' }, { data: 'b', sequenceNumber: '200' }]);
    expect(seqs(t)).toEqual(['200']);
  });

  it('{ everyRecords: N } checkpoints once at least N records were handled', async () => {
    t = await createTestApp(consumerWith({ everyRecords: 5 }));
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }, { data: 'b', sequenceNumber: '2' }]);
    await t.push(SHARD, [{ data: 'c', sequenceNumber: '3' }, { data: 'd', sequenceNumber: '4' }]);
    expect(seqs(t)).toEqual([]);
    await t.push(SHARD, [{ data: 'e', sequenceNumber: '5' }, { data: 'f', sequenceNumber: '6' }]);
    expect(seqs(t)).toEqual(['6']);
    await t.push(SHARD, [{ data: 'g', sequenceNumber: '7' }]);
    expect(seqs(t)).toEqual(['6']);
    await t.push(SHARD, [{ data: 'h', sequenceNumber: '8' }, { data: 'i', sequenceNumber: '9' }, { data: 'j', sequenceNumber: '10' }, { data: 'k', sequenceNumber: '11' }]);
    expect(seqs(t)).toEqual(['6', '11']);
  });

  it('{ every } checkpoints after a batch once the interval has passed since the last checkpoint', async () => {
    jest.useFakeTimers({ now: new Date('2024-01-01T00:00:00Z') });
    t = await createTestApp(consumerWith({ every: '1m' }));
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }]);
    expect(seqs(t)).toEqual([]);
    jest.setSystemTime(new Date('2024-01-01T00:00:30Z'));
    await t.push(SHARD, [{ data: 'b', sequenceNumber: '2' }]);
    expect(seqs(t)).toEqual([]);
    jest.setSystemTime(new Date('2024-01-01T00:01:01Z'));
    await t.push(SHARD, [{ data: 'c', sequenceNumber: '3' }]);
    expect(seqs(t)).toEqual(['3']);
  });

  it('{ everyMs } flushes what was processed on a timer while the shard is idle', async () => {
    jest.useFakeTimers();
    t = await createTestApp(consumerWith({ everyMs: 10_000 }));
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }, { data: 'b', sequenceNumber: '2' }]);
    expect(seqs(t)).toEqual([]);
    await jest.advanceTimersByTimeAsync(9_999);
    expect(seqs(t)).toEqual([]);
    await jest.advanceTimersByTimeAsync(1);
    expect(seqs(t)).toEqual(['2']);
    // Nothing new was processed: the next tick stores nothing.
    await jest.advanceTimersByTimeAsync(10_000);
    expect(seqs(t)).toEqual(['2']);
  });

  it("'never' stores nothing, not even at shutdown", async () => {
    t = await createTestApp(consumerWith('never'));
    await t.push(SHARD, ['a', 'b']);
    await t.requestShutdown(SHARD);
    expect(seqs(t)).toEqual([]);
  });

  it('a checkpoint never goes past a failed record, whatever the policy', async () => {
    for (const policy of ['batch', { everyRecords: 1 }, { everyMs: 1 }] as CheckpointPolicyOption[]) {
      const app = await createTestApp(consumerWith(policy, 'poison'));
      await app.push(SHARD, [{ data: 'ok-1', sequenceNumber: '10' }]);
      const before = app.checkpoints(SHARD).map((c) => c.sequenceNumber);
      const outcome = await app.push(SHARD, [{ data: 'ok-2', sequenceNumber: '20' }, { data: 'poison', sequenceNumber: '30' }]);
      expect(outcome.status).toBe('failed');
      await app.stop();
      const after = app.checkpoints(SHARD).map((c) => c.sequenceNumber);
      expect(after.filter((s) => BigInt(s) >= 20n)).toEqual([]);
      expect(after.slice(0, before.length)).toEqual(before);
    }
  });

  it('requested shutdown checkpoints what was processed under a count policy that was not yet due', async () => {
    t = await createTestApp(consumerWith({ everyRecords: 100 }));
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '7' }]);
    expect(seqs(t)).toEqual([]);
    await t.requestShutdown(SHARD);
    expect(seqs(t)).toEqual(['7']);
  });

});

describe("'manual' checkpoints through the injected ShardCheckpointer", () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  @Consumer({ streamName: 'manual-stream', applicationName: 'manual-app', checkpoint: 'manual', errors: { maxRetries: 0 } })
  class ManualConsumer {
    static mode: 'none' | 'middle' | 'end' | 'ahead' = 'none';
    static refused: unknown[] = [];
    constructor(private readonly checkpointer: ShardCheckpointer) {}
    @OnRecords()
    async handle(records: KinesisRecord[]): Promise<void> {
      const middle = records[Math.floor((records.length - 1) / 2)];
      if (ManualConsumer.mode === 'middle' && middle) await this.checkpointer.checkpoint(middle);
      if (ManualConsumer.mode === 'ahead') {
        const last = records[records.length - 1]!;
        const ahead = { sequenceNumber: (BigInt(last.sequenceNumber) + 1n).toString(), subSequenceNumber: 0 };
        try {
          await this.checkpointer.checkpoint(ahead);
        } catch (error) {
          ManualConsumer.refused.push(error);
        }
      }
    }
    checkpointNow(): Promise<void> {
      return this.checkpointer.checkpoint();
    }
  }

  beforeEach(() => {
    ManualConsumer.mode = 'none';
    ManualConsumer.refused = [];
  });

  it('stores nothing on its own', async () => {
    t = await createTestApp(ManualConsumer);
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }, { data: 'b', sequenceNumber: '2' }]);
    await t.requestShutdown(SHARD);
    expect(seqs(t)).toEqual([]);
  });

  it('lets the handler checkpoint mid-batch at a record it received', async () => {
    ManualConsumer.mode = 'middle';
    t = await createTestApp(ManualConsumer);
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }, { data: 'b', sequenceNumber: '2' }, { data: 'c', sequenceNumber: '3' }]);
    expect(seqs(t)).toEqual(['2']);
  });

  it('refuses a position ahead of what the shard received, with a CheckpointError, and stores nothing', async () => {
    ManualConsumer.mode = 'ahead';
    t = await createTestApp(ManualConsumer);
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '41' }]);
    expect(ManualConsumer.refused).toHaveLength(1);
    expect(ManualConsumer.refused[0]).toBeInstanceOf(CheckpointError);
    expect(String(ManualConsumer.refused[0])).toMatch(/cannot checkpoint shardId-000000000000 at 42: it is ahead of the last record received \(41\)/);
    expect(seqs(t)).toEqual([]);
  });

  it('checkpoint() without a position stores the last record whose handler succeeded', async () => {
    @Consumer({ streamName: 'manual-stream', applicationName: 'manual-app2', checkpoint: 'manual' })
    class ManualLater {
      static instance: ManualLater | undefined;
      constructor(readonly checkpointer: ShardCheckpointer) {
        ManualLater.instance = this;
      }
      @OnRecords() handle(): void {}
    }
    t = await createTestApp(ManualLater);
    await ManualLater.instance?.checkpointer.checkpoint(); // before any record: nothing to store
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '5' }, { data: 'b', sequenceNumber: '6' }]);
    expect(seqs(t)).toEqual([]);
    await ManualLater.instance!.checkpointer.checkpoint();
    expect(seqs(t)).toEqual(['6']);
    // Storing the same position twice stores it once.
    await ManualLater.instance!.checkpointer.checkpoint();
    expect(seqs(t)).toEqual(['6']);
  });
});
