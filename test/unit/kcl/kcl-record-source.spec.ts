import { container } from 'tsyringe';
import { KclRecordSource } from '../../../src/adapters/kcl/kcl-record-source';
import { CheckpointError, ProtocolError, ShardStoppedError, type ShardlineError } from '../../../src/core/errors';
import { createLogger } from '../../../src/core/logger';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { Consumer, OnLeaseLost, OnRecords, OnShardEnded, OnShutdown } from '../../../src/decorators';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { type ShutdownReason } from '../../../src/core/record-batch';
import { FakeDaemon, INITIALIZE, seq, wireRecord } from './fake-daemon';

/** What the test consumers saw. */
const seen = { records: [] as KinesisRecord[], hooks: [] as string[], failNext: 0, failEnd: false };

@Consumer({ streamName: 'kcl-stream', applicationName: 'kcl-test', checkpoint: 'batch', errors: { maxRetries: 0, onFailure: 'stop' } })
class BatchConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    if (seen.failNext > 0) {
      seen.failNext--;
      throw new Error('handler exploded');
    }
    seen.records.push(...records);
  }

  @OnShardEnded()
  ended(): void {
    seen.hooks.push('shardEnded');
    if (seen.failEnd) throw new Error('final flush failed');
  }

  @OnLeaseLost()
  lost(): void {
    seen.hooks.push('leaseLost');
  }

  @OnShutdown()
  bye(reason: ShutdownReason): void {
    seen.hooks.push(`shutdown:${reason}`);
  }
}

@Consumer({ streamName: 'kcl-stream', applicationName: 'kcl-test', checkpoint: 'never' })
class NeverCheckpointConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    seen.records.push(...records);
  }
}

@Consumer({ streamName: 'kcl-stream', applicationName: 'kcl-test', checkpoint: { everyRecords: 1000 } })
class LazyCheckpointConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    seen.records.push(...records);
  }

  @OnShutdown()
  bye(reason: ShutdownReason): void {
    seen.hooks.push(`shutdown:${reason}`);
  }
}

@Consumer({ streamName: 'kcl-stream', applicationName: 'kcl-test', checkpoint: 'batch', errors: { maxRetries: 0, onFailure: 'skip' } })
class SkippingConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    seen.records.push(...records);
  }
}

interface Harness {
  daemon: FakeDaemon;
  app: ShardlineApp;
  logs: string[];
  errors: ShardlineError[];
}

async function start(consumer: new (...args: never[]) => object, retry = { initialBackoffMs: 1, maxBackoffMs: 2 }): Promise<Harness> {
  const daemon = new FakeDaemon();
  const logs: string[] = [];
  const logger = createLogger({ level: 'debug', destination: 'none' }, { sink: (line) => logs.push(line) });
  const source = new KclRecordSource({ input: daemon.toChild, output: daemon.fromChild, streamName: 'kcl-stream', logger, checkpointRetry: retry });
  const app = await ShardlineApp.start({ consumer, source, logger, container: container.createChildContainer() });
  const errors: ShardlineError[] = [];
  app.errors$.subscribe((e) => errors.push(e));
  return { daemon, app, logs, errors };
}

function batch(from: number, count: number): object {
  return { action: 'processRecords', records: Array.from({ length: count }, (_, i) => wireRecord(from + i)), millisBehindLatest: 0 };
}

beforeEach(() => {
  seen.records = [];
  seen.hooks = [];
  seen.failNext = 0;
  seen.failEnd = false;
});

describe('KclRecordSource', () => {
  it('answers initialize, hands records over with string sequence numbers and lazy data, checkpoints, then answers processRecords', async () => {
    const { daemon, app } = await start(BatchConsumer);
    expect(await daemon.call(INITIALIZE)).toEqual({ before: [], status: { action: 'status', responseFor: 'initialize' } });
    const { before, status } = await daemon.call(batch(1, 3));
    expect(before).toEqual([{ action: 'checkpoint', sequenceNumber: seq(3), subSequenceNumber: 0 }]);
    expect(status).toEqual({ action: 'status', responseFor: 'processRecords' });
    expect(seen.records.map((r) => r.sequenceNumber)).toEqual([seq(1), seq(2), seq(3)]);
    expect(seen.records[0]!.shardId).toBe('shardId-000000000001');
    expect(seen.records[1]!.json()).toEqual({ id: 2 });
    expect(seen.records[2]!.partitionKey).toBe('pk-3');
    expect(seen.records[2]!.approximateArrivalTimestamp.getTime()).toBe(1_717_171_717_123);
    daemon.close();
    await app.done;
    // exactly the lines above: one status per action, nothing else
    expect(daemon.rawLines).toEqual([
      '{"action":"status","responseFor":"initialize"}',
      `{"action":"checkpoint","sequenceNumber":"${seq(3)}","subSequenceNumber":0}`,
      '{"action":"status","responseFor":"processRecords"}',
    ]);
  });

  it('answers an empty processRecords without a checkpoint', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    expect(await daemon.call({ action: 'processRecords', records: [], millisBehindLatest: 5 })).toEqual({ before: [], status: { action: 'status', responseFor: 'processRecords' } });
    daemon.close();
    await app.done;
  });

  it('checkpoints inside a KPL aggregate with the sub-sequence number', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    const records = [0, 1, 2].map((sub) => ({ ...wireRecord(7, Buffer.from(`u${sub}`).toString('base64'), sub) }));
    const { before } = await daemon.call({ action: 'processRecords', records, millisBehindLatest: 0 });
    expect(before).toEqual([{ action: 'checkpoint', sequenceNumber: seq(7), subSequenceNumber: 2 }]);
    expect(seen.records.map((r) => r.text())).toEqual(['u0', 'u1', 'u2']);
    daemon.close();
    await app.done;
  });

  it('starts the shard after the checkpoint given by initialize', async () => {
    const { daemon, app, logs } = await start(BatchConsumer);
    await daemon.call({ ...INITIALIZE, sequenceNumber: seq(5), subSequenceNumber: 1 });
    expect(logs.join('\n')).toContain(`after checkpoint ${seq(5)}/1`);
    daemon.close();
    await app.done;
  });

  it.each(['ThrottlingException', 'KinesisClientLibDependencyException'])('retries a checkpoint refused with %s', async (error) => {
    const { daemon, app, logs, errors } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    daemon.checkpointErrors.push(error, error);
    const { before, status } = await daemon.call(batch(1, 2));
    expect(before).toHaveLength(3);
    expect(before.every((l) => l.action === 'checkpoint' && l.sequenceNumber === seq(2))).toBe(true);
    expect(status.responseFor).toBe('processRecords');
    expect(errors).toEqual([]);
    expect(logs.filter((l) => l.includes(error) && l.includes('shardId-000000000001'))).toHaveLength(2);
    daemon.close();
    await app.done;
  });

  it('gives up on a throttled checkpoint after the last attempt and reports a CheckpointError', async () => {
    const { daemon, app, errors } = await start(SkippingConsumer, { initialBackoffMs: 1, maxBackoffMs: 2 });
    await daemon.call(INITIALIZE);
    daemon.checkpointErrors.push(...Array<string>(6).fill('ThrottlingException'));
    const { before, status } = await daemon.call(batch(1, 1));
    expect(before).toHaveLength(6);
    expect(status.responseFor).toBe('processRecords');
    expect(errors[0]).toBeInstanceOf(CheckpointError);
    expect(errors[0]!.message).toMatch(/ThrottlingException: still refused after 6 attempts/);
    daemon.close();
    await app.done;
  });

  it('stops checkpointing the lease after ShutdownException and lets the batch finish', async () => {
    const { daemon, app, logs, errors } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    daemon.checkpointErrors.push('ShutdownException');
    const first = await daemon.call(batch(1, 2));
    expect(first.before).toHaveLength(1);
    expect(first.status.responseFor).toBe('processRecords');
    const second = await daemon.call(batch(3, 2));
    expect(second.before).toEqual([]);
    expect(seen.records).toHaveLength(4);
    expect(errors).toEqual([]);
    expect(logs.some((l) => l.includes('ShutdownException') && l.includes('shardId-000000000001'))).toBe(true);
    daemon.close();
    await app.done;
  });

  it.each(['InvalidStateException', 'IllegalArgumentException', 'SomeNewException'])(
    'surfaces %s as a CheckpointError to the error policy (skip: the shard goes on)',
    async (error) => {
      const { daemon, app, logs, errors } = await start(SkippingConsumer);
      await daemon.call(INITIALIZE);
      daemon.checkpointErrors.push(error);
      const { before, status } = await daemon.call(batch(1, 1));
      expect(before).toHaveLength(1);
      expect(status.responseFor).toBe('processRecords');
      expect(errors).toHaveLength(1);
      expect(errors[0]).toBeInstanceOf(CheckpointError);
      expect(errors[0]!.message).toContain(error);
      expect(errors[0]!.message).toContain('shardId-000000000001');
      expect(logs.some((l) => l.startsWith('ERROR') && l.includes(error) && l.includes('shardId-000000000001'))).toBe(true);
      daemon.close();
      await app.done;
    },
  );

  it('on a CheckpointError under the stop policy sends no status and ends with an error', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    daemon.checkpointErrors.push('IllegalArgumentException');
    daemon.send(batch(1, 1));
    expect((await daemon.next()).action).toBe('checkpoint');
    // The child exits 1 with the same one line as the other adapters (issue 11, defect 2).
    await expect(app.done).rejects.toBeInstanceOf(ShardStoppedError);
    await expect(app.done).rejects.toThrow(/^shard shardId-000000000001 stopped \(no checkpoint yet\): checkpoint .* failed with IllegalArgumentException.*\. Fix the handler/);
    expect(daemon.rawLines.filter((l) => l.includes('status'))).toEqual(['{"action":"status","responseFor":"initialize"}']);
  });

  it('when the handler fails under the stop policy: no checkpoint, no status, the source fails', async () => {
    const { daemon, app, logs } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    seen.failNext = 1;
    daemon.send(batch(1, 2));
    await expect(app.done).rejects.toThrow(
      /^shard shardId-000000000001 stopped \(no checkpoint yet\): BatchConsumer\.handle failed on 2 records of shardId-000000000001 after 1 attempts: handler exploded\. Fix the handler, or set errors\.onFailure to 'skip' or 'dead-letter'; the shard resumes from its checkpoint on restart$/,
    );
    expect(logs.some((l) => /the consumer stopped on shardId-000000000001 .*handler exploded/.test(l))).toBe(true);
    expect(daemon.rawLines).toEqual(['{"action":"status","responseFor":"initialize"}']);
  });

  it('shardEnded checkpoints SHARD_END (null) before its status, even with checkpoint: never', async () => {
    const { daemon, app } = await start(NeverCheckpointConsumer);
    await daemon.call(INITIALIZE);
    expect((await daemon.call(batch(1, 2))).before).toEqual([]);
    const { before, status } = await daemon.call({ action: 'shardEnded' });
    expect(before).toEqual([{ action: 'checkpoint', sequenceNumber: null, subSequenceNumber: null }]);
    expect(status).toEqual({ action: 'status', responseFor: 'shardEnded' });
    daemon.close();
    await app.done;
  });

  it('a failing @OnShardEnded: no SHARD_END checkpoint, no status, the child ends with an error (review finding)', async () => {
    seen.failEnd = true;
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    await daemon.call(batch(1, 1));
    daemon.send({ action: 'shardEnded' });
    await expect(app.done).rejects.toThrow(/shard shardId-000000000001 stopped .*final flush failed|end of shardId-000000000001 was not handled/);
    expect(seen.hooks).toContain('shardEnded');
    expect(daemon.rawLines.some((l) => l.includes('"sequenceNumber":null'))).toBe(false);
    expect(daemon.rawLines.filter((l) => l.includes('"responseFor":"shardEnded"'))).toEqual([]);
  });

  it('shardEnded runs the hooks before the SHARD_END checkpoint', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    await daemon.call(batch(1, 1));
    daemon.send({ action: 'shardEnded' });
    expect(await daemon.next()).toEqual({ action: 'checkpoint', sequenceNumber: null, subSequenceNumber: null });
    expect(seen.hooks).toEqual(['shardEnded', 'shutdown:shardEnded']);
    expect((await daemon.next()).responseFor).toBe('shardEnded');
    daemon.close();
    await app.done;
  });

  it('v1 shutdown TERMINATE acts as shardEnded and answers responseFor shutdown', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    const { before, status } = await daemon.call({ action: 'shutdown', reason: 'TERMINATE' });
    expect(before).toEqual([{ action: 'checkpoint', sequenceNumber: null, subSequenceNumber: null }]);
    expect(status).toEqual({ action: 'status', responseFor: 'shutdown' });
    expect(seen.hooks).toContain('shardEnded');
    daemon.close();
    await app.done;
  });

  it('leaseLost never checkpoints', async () => {
    const { daemon, app } = await start(LazyCheckpointConsumer);
    await daemon.call(INITIALIZE);
    await daemon.call(batch(1, 3));
    expect(await daemon.call({ action: 'leaseLost' })).toEqual({ before: [], status: { action: 'status', responseFor: 'leaseLost' } });
    expect(seen.hooks).toEqual(['shutdown:leaseLost']);
    daemon.close();
    await app.done;
    expect(daemon.rawLines.some((l) => l.includes('checkpoint'))).toBe(false);
  });

  it('v1 shutdown ZOMBIE acts as leaseLost and answers responseFor shutdown', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    expect(await daemon.call({ action: 'shutdown', reason: 'ZOMBIE' })).toEqual({ before: [], status: { action: 'status', responseFor: 'shutdown' } });
    expect(seen.hooks).toEqual(['leaseLost', 'shutdown:leaseLost']);
    daemon.close();
    await app.done;
  });

  it('shutdownRequested runs the shutdown hook and checkpoints what was processed before its status', async () => {
    const { daemon, app } = await start(LazyCheckpointConsumer);
    await daemon.call(INITIALIZE);
    expect((await daemon.call(batch(1, 3))).before).toEqual([]);
    const { before, status } = await daemon.call({ action: 'shutdownRequested' });
    expect(seen.hooks).toEqual(['shutdown:requested']);
    expect(before).toEqual([{ action: 'checkpoint', sequenceNumber: seq(3), subSequenceNumber: 0 }]);
    expect(status.responseFor).toBe('shutdownRequested');
    // the daemon then sends leaseLost: answered, no checkpoint
    expect(await daemon.call({ action: 'leaseLost' })).toEqual({ before: [], status: { action: 'status', responseFor: 'leaseLost' } });
    daemon.close();
    await app.done;
  });

  it.each([
    ['a non-JSON line', 'this is not json\n', /not JSON/],
    ['an unknown action', '{"action":"rebalance"}\n', /unknown action "rebalance"/],
    ['a record whose data is not base64', `${JSON.stringify(batch(1, 1)).replace(/"data":"[^"]*"/, '"data":"%%%%"')}\n`, /record \d+ of shardId-000000000001 whose data is not base64/],
  ])('on %s: no status, no checkpoint, the source fails with a ProtocolError', async (_name, line, pattern) => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    daemon.sendRaw(line);
    await expect(app.done).rejects.toBeInstanceOf(ProtocolError);
    await expect(app.done).rejects.toThrow(pattern);
    expect(seen.records).toEqual([]);
    expect(daemon.rawLines).toEqual(['{"action":"status","responseFor":"initialize"}']);
  });

  it('ignores empty lines between messages', async () => {
    const { daemon, app } = await start(BatchConsumer);
    daemon.sendRaw('\n\r\n');
    expect((await daemon.call(INITIALIZE)).status.responseFor).toBe('initialize');
    daemon.close();
    await app.done;
  });

  it('completes on stdin EOF', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    await daemon.call(batch(1, 1));
    daemon.close();
    await expect(app.done).resolves.toBeUndefined();
    expect(seen.hooks).toEqual(['shutdown:stopped']);
  });

  it('handles a batch of about 10 MiB of base64 arriving in 64 KiB chunks', async () => {
    const { daemon, app } = await start(BatchConsumer);
    await daemon.call(INITIALIZE);
    const payload = Buffer.alloc(7 * 1024 * 1024, 7).toString('base64');
    const line = Buffer.from(`${JSON.stringify({ action: 'processRecords', records: [wireRecord(1, payload), wireRecord(2)], millisBehindLatest: 0 })}\n`);
    expect(line.length).toBeGreaterThan(9 * 1024 * 1024);
    for (let i = 0; i < line.length; i += 65_536) daemon.sendRaw(line.subarray(i, i + 65_536) as unknown as string);
    const { before, status } = await daemon.untilStatus(20_000);
    expect(before).toEqual([{ action: 'checkpoint', sequenceNumber: seq(2), subSequenceNumber: 0 }]);
    expect(status.responseFor).toBe('processRecords');
    expect(seen.records[0]!.data.length).toBe(7 * 1024 * 1024);
    daemon.close();
    await app.done;
  });
});
