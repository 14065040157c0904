import 'reflect-metadata';
import { Consumer, OnInit, OnLeaseLost, OnRecords, OnShardEnded, OnShutdown } from '../../../src/decorators';
import { ShardCheckpointer } from '../../../src/core/shard-checkpointer';
import { ShardContext } from '../../../src/core/shard-context';
import { type ShutdownReason } from '../../../src/core/record-batch';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { createTestApp, SHARD_END, type TestApp } from '../../../src/testing';

const SHARD = 'shardId-000000000000';
const events: string[] = [];

@Consumer({ streamName: 'life-stream', applicationName: 'life-app', checkpoint: { everyRecords: 100 } })
class Lifecycle {
  constructor(
    private readonly shard: ShardContext,
    private readonly checkpointer: ShardCheckpointer,
  ) {
    events.push(`construct ${shard.shardId}`);
  }
  @OnInit() async init(): Promise<void> {
    await Promise.resolve();
    events.push(`init ${this.shard.shardId} last=${this.shard.lastCheckpoint?.sequenceNumber ?? 'none'}`);
  }
  @OnRecords() handle(records: KinesisRecord[]): void {
    events.push(`records ${records.map((r) => r.text()).join(',')}`);
  }
  @OnLeaseLost() async lost(): Promise<void> {
    events.push('leaseLost');
    // Checkpointing is no longer possible: this must store nothing.
    await this.checkpointer.checkpoint();
  }
  @OnShardEnded() ended(): void {
    events.push('shardEnded');
  }
  @OnShutdown() bye(reason: ShutdownReason): void {
    events.push(`shutdown ${reason}`);
  }
}

describe('lifecycle hooks', () => {
  let t: TestApp;
  beforeEach(async () => {
    events.length = 0;
    t = await createTestApp(Lifecycle);
  });
  afterEach(async () => {
    await t.stop();
  });

  it('@OnInit runs after construction and before the first batch, once per shard', async () => {
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }]);
    await t.push(SHARD, [{ data: 'b', sequenceNumber: '2' }]);
    expect(events).toEqual([`construct ${SHARD}`, `init ${SHARD} last=none`, 'records a', 'records b']);
  });

  it('a shard opened from a checkpoint sees it in ShardContext during @OnInit', async () => {
    await t.openShard(SHARD, { sequenceNumber: '77', subSequenceNumber: 0 });
    expect(events).toContain(`init ${SHARD} last=77`);
    expect(t.logs.join('\n')).toMatch(/Initializing Lifecycle after checkpoint 77/);
  });

  it('lease lost: @OnLeaseLost then @OnShutdown(leaseLost), and no checkpoint', async () => {
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }]);
    expect((await t.loseLease(SHARD)).status).toBe('ok');
    expect(events.slice(-2)).toEqual(['leaseLost', 'shutdown leaseLost']);
    expect(t.checkpoints(SHARD)).toEqual([]);
    await t.stop();
    expect(t.checkpoints(SHARD)).toEqual([]);
    expect(events.filter((e) => e.startsWith('shutdown'))).toEqual(['shutdown leaseLost']);
  });

  it('shard ended: @OnShardEnded then @OnShutdown(shardEnded), and SHARD_END is stored', async () => {
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }]);
    await t.endShard(SHARD);
    expect(events.slice(-2)).toEqual(['shardEnded', 'shutdown shardEnded']);
    expect(t.checkpoints(SHARD)).toEqual([SHARD_END]);
  });

  it('shutdown requested: @OnShutdown(requested) and what was processed is checkpointed', async () => {
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }, { data: 'b', sequenceNumber: '2' }]);
    await t.requestShutdown(SHARD);
    expect(events.slice(-1)).toEqual(['shutdown requested']);
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['2']);
  });

  it('app stopped: @OnShutdown(stopped) on every shard and what was processed is checkpointed', async () => {
    await t.push(SHARD, [{ data: 'a', sequenceNumber: '1' }]);
    await t.push('shardId-000000000001', [{ data: 'b', sequenceNumber: '5' }]);
    await t.stop();
    expect(events.filter((e) => e.startsWith('shutdown'))).toEqual(['shutdown stopped', 'shutdown stopped']);
    expect(t.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['1']);
    expect(t.checkpoints('shardId-000000000001').map((c) => c.sequenceNumber)).toEqual(['5']);
  });

  it('a throwing @OnInit stops the shard: no records are handled and the error names the consumer', async () => {
    @Consumer({ streamName: 'life-stream', applicationName: 'life-fail' })
    class BadInit {
      @OnInit() init(): void {
        throw new Error('cannot connect');
      }
      @OnRecords() handle(): void {
        events.push('records');
      }
    }
    const bad = await createTestApp(BadInit);
    const outcome = await bad.push(SHARD, ['a']);
    expect(outcome.status).toBe('failed');
    expect(events).not.toContain('records');
    expect(bad.errors[0]?.message).toMatch(/BadInit failed to initialize on shardId-000000000000: cannot connect/);
    await bad.stop();
  });

  it('a throwing @OnShutdown is logged and the shutdown still checkpoints', async () => {
    @Consumer({ streamName: 'life-stream', applicationName: 'life-bye', checkpoint: { everyRecords: 10 } })
    class BadBye {
      @OnRecords() handle(): void {}
      @OnShutdown() bye(): void {
        throw new Error('flush failed');
      }
    }
    const bad = await createTestApp(BadBye);
    await bad.push(SHARD, [{ data: 'a', sequenceNumber: '3' }]);
    await bad.requestShutdown(SHARD);
    expect(bad.logs.join('\n')).toMatch(/ERROR .* shardId-000000000000 BadBye\.bye \(@shutdown\) failed: flush failed/);
    expect(bad.checkpoints(SHARD).map((c) => c.sequenceNumber)).toEqual(['3']);
    await bad.stop();
  });
});
