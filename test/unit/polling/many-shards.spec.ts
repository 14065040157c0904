import { DescribeStreamSummaryCommand, GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { MemoryCheckpointStore } from '../../../src/checkpoint-stores/memory-checkpoint-store';
import { RunTimers } from '../../../src/adapters/polling/run-timers';
import { createLogger } from '../../../src/core/logger';

const kinesis = mockClient(KinesisClient);

describe('PollingRecordSource with many shards', () => {
  it('reads 12 shards (before the fix, this printed MaxListenersExceededWarning: the waits shared one abort signal)', async () => {
    const shards = Array.from({ length: 12 }, (_, i) => ({ ShardId: `shard-${i}`, HashKeyRange: { StartingHashKey: '0', EndingHashKey: '9' }, SequenceNumberRange: { StartingSequenceNumber: '1' } }));
    kinesis.on(DescribeStreamSummaryCommand).resolves({});
    kinesis.on(ListShardsCommand).resolves({ Shards: shards });
    kinesis.on(GetShardIteratorCommand).resolves({ ShardIterator: 'it' });
    kinesis.on(GetRecordsCommand).resolves({ Records: [], NextShardIterator: 'it', MillisBehindLatest: 0 });
    const source = new PollingRecordSource({
      streamName: 's',
      client: new KinesisClient({ region: 'us-east-1' }),
      checkpointStore: new MemoryCheckpointStore(),
      logger: createLogger({ destination: 'none' }),
      idlePollIntervalMs: 20,
      shardSyncIntervalMs: 60_000,
    });
    let opened = 0;
    const subscription = source.events().subscribe((event) => {
      if (event.type === 'opened') opened++;
      event.ack({ status: 'ok' });
    });
    try {
      for (let i = 0; i < 200 && kinesis.commandCalls(GetRecordsCommand).length < 12 * 5; i++) await new Promise((r) => setTimeout(r, 10));
      expect(opened).toBe(12);
      expect(kinesis.commandCalls(GetRecordsCommand).length).toBeGreaterThanOrEqual(12 * 5);
    } finally {
      subscription.unsubscribe();
      await source.close();
    }
  });
});

describe('RunTimers', () => {
  it('keeps nothing of a settled wait, and ends every pending wait and signal on cancelAll', async () => {
    const timers = new RunTimers();
    await Promise.all(Array.from({ length: 500 }, () => timers.sleep(1)));
    await Promise.all(Array.from({ length: 500 }, () => timers.wait<string>((settle) => setTimeout(() => settle('ok'), 1), () => 'cancelled')));
    expect(timers.size).toBe(0);
    const signal = timers.signal();
    const pending = [timers.sleep(60_000), timers.wait<string>(() => undefined, () => 'cancelled')];
    expect(timers.size).toBe(3);
    timers.cancelAll();
    expect(await Promise.all(pending)).toEqual([undefined, 'cancelled']);
    expect(signal.signal.aborted).toBe(true);
    expect(timers.size).toBe(0);
  });
});
