import 'reflect-metadata';
import { Observable, type Subscriber } from 'rxjs';
import { Consumer, OnRecords } from '../../../src/decorators';
import { KinesisRecord } from '../../../src/core/kinesis-record';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createLogger } from '../../../src/core/logger';
import { type RecordSource } from '../../../src/adapters/record-source';
import { type CheckpointPosition } from '../../../src/core/checkpoint-position';
import { type ShardEvent } from '../../../src/core/shard-event';
import { createTestApp } from '../../../src/testing';
import { type RecordBatch } from '../../../src/core/record-batch';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('ordering within a shard under concurrency', () => {
  it('handles every shard in exact order, one batch at a time, while shards overlap', async () => {
    const seen = new Map<string, number[]>();
    const inFlight = new Map<string, number>();
    let maxInFlightPerShard = 0;
    let maxShardsAtOnce = 0;
    let busyShards = 0;

    @Consumer({ streamName: 'order-stream', applicationName: 'order-app' })
    class Ordered {
      @OnRecords({ decode: 'json' })
      async handle(items: Array<{ n: number }>, batch: RecordBatch): Promise<void> {
        const now = (inFlight.get(batch.shardId) ?? 0) + 1;
        inFlight.set(batch.shardId, now);
        maxInFlightPerShard = Math.max(maxInFlightPerShard, now);
        busyShards++;
        maxShardsAtOnce = Math.max(maxShardsAtOnce, busyShards);
        await sleep(Math.floor(Math.random() * 4));
        const list = seen.get(batch.shardId) ?? [];
        list.push(...items.map((i) => i.n));
        seen.set(batch.shardId, list);
        busyShards--;
        inFlight.set(batch.shardId, now - 1);
      }
    }

    const t = await createTestApp(Ordered);
    const shards = ['shardId-000000000000', 'shardId-000000000001', 'shardId-000000000002', 'shardId-000000000003'];
    const pushes: Array<Promise<unknown>> = [];
    for (let batch = 0; batch < 15; batch++) {
      for (const shard of shards) {
        pushes.push(t.push(shard, [{ n: batch * 3 }, { n: batch * 3 + 1 }, { n: batch * 3 + 2 }]));
      }
    }
    await Promise.all(pushes);
    for (const shard of shards) {
      expect(seen.get(shard)).toEqual(Array.from({ length: 45 }, (_, i) => i));
      expect(t.checkpoints(shard)).toHaveLength(15);
    }
    expect(maxInFlightPerShard).toBe(1);
    expect(maxShardsAtOnce).toBeGreaterThan(1);
    await t.stop();
  });
});

/**
 * A source written as an adapter would: it holds 1,000 records per shard and follows the contract (a shard's next
 * event only after the previous one was acknowledged). It counts what it emitted ahead of the acks.
 */
class CountingSource implements RecordSource {
  readonly name = 'counting';
  emitted = 0;
  acked = 0;
  maxUnackedPerShard = 0;
  readonly checkpoints: CheckpointPosition[] = [];
  private readonly unacked = new Map<string, number>();

  constructor(
    private readonly shards: readonly string[],
    private readonly batches: number,
  ) {}

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      let stopped = false;
      let ended = 0;
      for (const shardId of this.shards) {
        void this.feed(shardId, subscriber, () => stopped).then(() => {
          if (++ended === this.shards.length) subscriber.complete();
        });
      }
      return () => {
        stopped = true;
      };
    });
  }

  private async feed(shardId: string, subscriber: Subscriber<ShardEvent>, stopped: () => boolean): Promise<void> {
    const send = (make: (ack: () => void) => ShardEvent): Promise<void> =>
      new Promise((resolve) => {
        this.emitted++;
        const count = (this.unacked.get(shardId) ?? 0) + 1;
        this.unacked.set(shardId, count);
        this.maxUnackedPerShard = Math.max(this.maxUnackedPerShard, count);
        subscriber.next(
          make(() => {
            this.acked++;
            this.unacked.set(shardId, (this.unacked.get(shardId) ?? 1) - 1);
            resolve();
          }),
        );
      });
    const checkpointer = { checkpoint: async (p: CheckpointPosition) => void this.checkpoints.push(p) };
    await send((ack) => ({ type: 'opened', shardId, ack, lease: { streamName: 'bp', shardId, checkpointer } }));
    for (let b = 0; b < this.batches && !stopped(); b++) {
      const records = Array.from({ length: 10 }, (_, i) =>
        new KinesisRecord({ data: Buffer.from('x'), partitionKey: 'p', sequenceNumber: String(1000 + b * 10 + i), shardId }),
      );
      await send((ack) => ({ type: 'records', shardId, records, ack }));
    }
    if (!stopped()) await send((ack) => ({ type: 'shardEnded', shardId, ack }));
  }
}

describe('backpressure', () => {
  it('a slow handler slows the source: it never emits a shard’s next event before the previous ack', async () => {
    let handled = 0;
    const source = new CountingSource(['shardId-000000000000', 'shardId-000000000001'], 100);
    @Consumer({ streamName: 'bp', applicationName: 'bp-app' })
    class Slow {
      @OnRecords()
      async handle(): Promise<void> {
        await sleep(5);
        handled++;
      }
    }
    const logger = createLogger({ destination: 'none' });
    const app = await ShardlineApp.start({ consumer: Slow, source, logger });
    const deadline = Date.now() + 10_000;
    while (handled < 10 && Date.now() < deadline) await sleep(5);
    // The source holds 2 x 100 batches, but is not drained ahead of the handler: at most one unacknowledged event
    // per shard, so what was emitted is what was handled plus the two `opened` events and at most one batch per shard.
    expect(handled).toBeGreaterThanOrEqual(10);
    const emitted = source.emitted;
    const handledNow = handled;
    expect(source.maxUnackedPerShard).toBe(1);
    expect(emitted - source.acked).toBeLessThanOrEqual(2);
    expect(emitted).toBeLessThanOrEqual(handledNow + 2 + 2);
    expect(emitted).toBeLessThan(2 * 102);
    await app.stop();
    expect(source.maxUnackedPerShard).toBe(1);
    await logger.close();
  });

  it('the in-memory source waits: a push resolves only when its batch was handled', async () => {
    const release: Array<() => void> = [];
    @Consumer({ streamName: 'bp', applicationName: 'bp-memory' })
    class Gate {
      @OnRecords()
      handle(): Promise<void> {
        return new Promise((resolve) => release.push(resolve));
      }
    }
    const t = await createTestApp(Gate);
    let firstDone = false;
    let secondDone = false;
    const first = t.push('shardId-000000000000', ['a']).then(() => (firstDone = true));
    const second = t.push('shardId-000000000000', ['b']).then(() => (secondDone = true));
    await sleep(20);
    expect(release).toHaveLength(1); // the second batch was not handed over yet
    expect(firstDone).toBe(false);
    release[0]!();
    await first;
    await sleep(10);
    expect(release).toHaveLength(2);
    expect(secondDone).toBe(false);
    release[1]!();
    await second;
    await t.stop();
  });
});
