import { Consumer, OnRecords, OnShardEnded, OnShutdown, ShardCheckpointer, type KinesisRecord, type ShutdownReason } from 'shardline';
import { createTestApp, SHARD_END } from 'shardline/testing';

/** A manual-checkpoint consumer that flushes its buffer at the shard's end; the flush fails. */
@Consumer({ streamName: 's', checkpoint: 'manual' })
class FlushingConsumer {
  static failIn: 'shardEnded' | 'shutdown' | undefined;
  private buffered: KinesisRecord[] = [];
  constructor(private readonly checkpointer: ShardCheckpointer) {}

  @OnRecords()
  handle(records: KinesisRecord[]): void {
    this.buffered.push(...records);
  }

  @OnShardEnded()
  flushAtEnd(): void {
    if (FlushingConsumer.failIn === 'shardEnded') throw new Error('the sink is down');
  }

  @OnShutdown()
  async bye(reason: ShutdownReason): Promise<void> {
    if (reason === 'shardEnded' && FlushingConsumer.failIn === 'shutdown') throw new Error('flush failed');
    if (FlushingConsumer.failIn === undefined && this.buffered.length > 0) await this.checkpointer.checkpoint(this.buffered.at(-1));
  }
}

describe('a hook that finishes a shard fails (review finding: SHARD_END without the flush)', () => {
  afterEach(() => {
    FlushingConsumer.failIn = undefined;
  });

  it.each(['shardEnded', 'shutdown'] as const)('a throwing @%s refuses the shard end: SHARD_END is not stored', async (where) => {
    FlushingConsumer.failIn = where;
    const t = await createTestApp(FlushingConsumer);
    await t.push('shardId-000000000000', ['a', 'b']);
    const outcome = await t.endShard('shardId-000000000000');
    expect(outcome.status).toBe('failed');
    expect(t.checkpoints('shardId-000000000000')).not.toContainEqual(SHARD_END);
    await t.stop().catch(() => undefined);
  });

  it('with hooks that succeed, the end is stored', async () => {
    const t = await createTestApp(FlushingConsumer);
    await t.push('shardId-000000000000', ['a', 'b']);
    expect((await t.endShard('shardId-000000000000')).status).toBe('ok');
    expect(t.checkpoints('shardId-000000000000').at(-1)).toEqual(SHARD_END);
    await t.stop();
  });
});
