import 'reflect-metadata';
import { Consumer, OnRecords, OnShardEnded } from '../../../src/decorators';
import { InMemoryRecordSource } from '../../../src/adapters/memory/in-memory-record-source';
import { createLogger } from '../../../src/core/logger';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { ShardlineApp } from '../../../src/core/shardline-app';

const handled: string[] = [];
const settle = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
let ended = 0;

@Consumer({ streamName: 'reshard-stream', applicationName: 'reshard-app' })
class Counting {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    for (const record of records) handled.push(`${record.shardId}/${record.sequenceNumber}`);
  }
  @OnShardEnded()
  end(): void {
    ended++;
  }
}

// 1,000 shards take about a second alone; under a loaded CI machine, more.
jest.setTimeout(30_000);

describe('closed shards are released (issue 11, defect 9)', () => {
  it('holds no worker and no RxJS group after 1,000 shards were opened and closed, and a shard id opened again still works', async () => {
    const source = new InMemoryRecordSource();
    const app = await ShardlineApp.start({ consumer: Counting, source, logger: createLogger({ destination: 'none' }) });
    const shardIds = Array.from({ length: 1_000 }, (_, i) => `shardId-${String(i).padStart(12, '0')}`);
    for (let i = 0; i < shardIds.length; i += 50) {
      await Promise.all(
        shardIds.slice(i, i + 50).map(async (shardId, j) => {
          expect((await source.push(shardId, [{ data: 'x', sequenceNumber: '1' }])).status).toBe('ok');
          // Every closing event releases the shard: ends, lost leases and requested shutdowns.
          const close = [() => source.endShard(shardId), () => source.loseLease(shardId), () => source.requestShutdown(shardId)][j % 3]!;
          expect((await close()).status).toBe('ok');
        }),
      );
    }
    expect(handled).toHaveLength(1_000);
    await settle(); // a group ends once the dispatch of its closing event returned, just after the ack
    expect(app.heldResources).toEqual({ workers: 0, groups: 0 });
    expect(app.activeShards).toEqual([]);

    // A lease taken again after it was given up (a restart of the lease) gets a fresh worker and group.
    const again = shardIds[1]!;
    expect((await source.openShard(again)).status).toBe('ok');
    expect(app.heldResources).toEqual({ workers: 1, groups: 1 });
    expect((await source.push(again, [{ data: 'y', sequenceNumber: '2' }])).status).toBe('ok');
    expect(handled[handled.length - 1]).toBe(`${again}/2`);
    const endedBefore = ended;
    expect((await source.endShard(again)).status).toBe('ok');
    expect(ended).toBe(endedBefore + 1);
    await settle();
    expect(app.heldResources).toEqual({ workers: 0, groups: 0 });
    await app.stop();
  });
});
