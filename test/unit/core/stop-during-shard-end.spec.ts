import 'reflect-metadata';
import { Consumer, OnRecords, OnShardEnded, OnShutdown } from '../../../src/decorators';
import { InMemoryRecordSource, SHARD_END } from '../../../src/adapters/memory/in-memory-record-source';
import { createLogger } from '../../../src/core/logger';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { type ShutdownReason } from '../../../src/core/record-batch';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { sleep } from '../../../src/core/sleep';

const A = 'shardId-00000000000A';
const B = 'shardId-00000000000B';

/** What the consumer saw, per shard, and gates that hold shard B's handler and shutdown hook. */
const seen: string[] = [];
let releaseHandler: (() => void) | undefined;
let releaseShutdown: (() => void) | undefined;

@Consumer({ streamName: 'race-stream', applicationName: 'race-app' })
class SlowOnB {
  private shardId = '';
  @OnRecords()
  async handle(records: readonly KinesisRecord[]): Promise<void> {
    this.shardId = records[0]?.shardId ?? '';
    seen.push(`records ${this.shardId}`);
    if (this.shardId === B) await new Promise<void>((resolve) => (releaseHandler = resolve));
  }
  @OnShardEnded()
  ended(): void {
    seen.push(`shardEnded ${this.shardId}`);
  }
  @OnShutdown()
  async bye(reason: ShutdownReason): Promise<void> {
    seen.push(`shutdown ${this.shardId} ${reason}`);
    if (this.shardId === B && reason === 'stopped') await new Promise<void>((resolve) => (releaseShutdown = resolve));
  }
}

const waitUntil = async (check: () => boolean): Promise<void> => {
  for (let i = 0; i < 200 && !check(); i++) await sleep(5);
  if (!check()) throw new Error('condition not reached in 1 s');
};

describe('graceful stop while a shard ends (issue 11, defect 1)', () => {
  let source: InMemoryRecordSource;
  let app: ShardlineApp;
  beforeEach(async () => {
    seen.length = 0;
    releaseHandler = undefined;
    releaseShutdown = undefined;
    source = new InMemoryRecordSource();
    app = await ShardlineApp.start({ consumer: SlowOnB, source, logger: createLogger({ destination: 'none' }) });
    await source.push(A, [{ data: 'a1', sequenceNumber: '11' }, { data: 'a2', sequenceNumber: '12' }]);
    void source.push(B, [{ data: 'b1', sequenceNumber: '21' }]);
    await waitUntil(() => releaseHandler !== undefined);
  });
  afterEach(async () => {
    releaseHandler?.();
    releaseShutdown?.();
    await app.stop();
  });

  it('a shard end that arrives while the stop waits for a slow shard runs @OnShardEnded before SHARD_END is stored', async () => {
    const stopped = app.stop();
    const outcome = await source.endShard(A);
    releaseHandler?.();
    await waitUntil(() => releaseShutdown !== undefined);
    releaseShutdown?.();
    await stopped;
    const stored = source.checkpoints(A);
    // Never SHARD_END without the hook: either the hook ran and SHARD_END is stored, or neither.
    expect(outcome.status).toBe('ok');
    expect(seen).toContain(`shardEnded ${A}`);
    expect(seen.indexOf(`shardEnded ${A}`)).toBeLessThan(seen.indexOf(`shutdown ${A} shardEnded`));
    expect(seen).not.toContain(`shutdown ${A} stopped`);
    expect(stored[stored.length - 1]).toBe(SHARD_END);
  });

  it('a shard end that arrives after the stop closed the shard as stopped is refused: SHARD_END is not stored', async () => {
    const stopped = app.stop();
    releaseHandler?.();
    // The stop closes every shard as 'stopped'; B's shutdown hook holds the stop before the source is released.
    await waitUntil(() => releaseShutdown !== undefined && seen.includes(`shutdown ${A} stopped`));
    const outcome = await source.endShard(A);
    releaseShutdown?.();
    await stopped;
    expect(outcome.status).toBe('failed');
    expect(outcome.status === 'failed' ? outcome.error.message : '').toMatch(/SHARD_END must not be stored/);
    expect(seen).not.toContain(`shardEnded ${A}`);
    // What A processed is checkpointed by the stop; its end is read again after a restart.
    expect(source.checkpoints(A).map((c) => c.sequenceNumber)).toEqual(['12']);
  });
});
