import { createTestApp, type TestApp } from 'shardline/testing';
import { DemoApp } from './demo-app';

const SHARD = 'shardId-000000000000';

/** Log lines of the shard, without their level and time stamp. */
const messages = (t: TestApp): string[] =>
  t.logs.map((line) => /^\w+ \[[^\]]+\] shardId-000000000000 (.*)$/.exec(line)?.[1]).filter((m): m is string => m !== undefined);

describe('DemoApp', () => {
  let t: TestApp;
  beforeEach(async () => {
    jest.useFakeTimers({ now: 0 });
    t = await createTestApp(DemoApp);
  });
  afterEach(() => {
    jest.useRealTimers();
  });

  it('says Hello when the shard opens, logs each batch and checkpoints after every batch', async () => {
    await t.push(SHARD, ['a', 'b']);
    await t.push(SHARD, ['c']);
    const lines = messages(t);
    expect(lines.indexOf('Hello')).toBeGreaterThanOrEqual(0);
    expect(lines.filter((m) => m.startsWith('Received'))).toEqual(['Received 2 records from Kinesis', 'Received 1 records from Kinesis']);
    expect(lines.indexOf('Hello')).toBeLessThan(lines.indexOf('Received 2 records from Kinesis'));
    expect(t.checkpoints(SHARD)).toHaveLength(2);
    expect(t.logs[t.logs.findIndex((l) => l.endsWith('Hello'))]).toMatch(/^INFO \[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\] shardId-000000000000 Hello$/);
    await t.stop();
  });

  it('runs the 10 s updater and the 1 min updater on time', async () => {
    await t.openShard(SHARD);
    await t.advanceTime(60_000); // the kit drives jest's fake timers
    const lines = messages(t);
    expect(lines.filter((m) => m === 'This is a high frequency updater call running every 10 seconds')).toHaveLength(6);
    expect(lines.filter((m) => m === 'Updating some data every minute')).toHaveLength(1);
    await t.stop();
  });

  it('says Bye on shutdown and checkpoints what it processed', async () => {
    await t.push(SHARD, ['a']);
    await t.stop();
    expect(messages(t).slice(-1)).toEqual(['Bye (stopped)']);
    expect(t.checkpoints(SHARD)).toHaveLength(1);
    const ended = await createTestApp(DemoApp);
    await ended.push(SHARD, ['a']);
    await ended.endShard(SHARD);
    expect(messages(ended).slice(-1)).toEqual(['Bye (shardEnded)']);
    await ended.stop();
  });
});
