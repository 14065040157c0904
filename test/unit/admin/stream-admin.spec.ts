import { type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { StreamAdminError } from '../../../src/core/errors';
import { StreamAdmin } from '../../../src/admin/stream-admin';

const MAX = (1n << 128n) - 1n;

/** A fake client with a fixed shard list and status that records the mutating calls. */
function fakeClient(shards: Shard[], status = 'ACTIVE'): { client: KinesisClient; calls: { name: string; input: Record<string, unknown> }[] } {
  const calls: { name: string; input: Record<string, unknown> }[] = [];
  const client = {
    send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => {
      const name = command.constructor.name.replace(/Command$/, '');
      calls.push({ name, input: command.input });
      if (name === 'DescribeStreamSummary') {
        return Promise.resolve({ StreamDescriptionSummary: { StreamName: 's', StreamARN: 'arn', StreamStatus: status, RetentionPeriodHours: 24, OpenShardCount: shards.length } });
      }
      if (name === 'ListShards') return Promise.resolve({ Shards: shards });
      if (name === 'MergeShards' || name === 'SplitShard' || name === 'UpdateShardCount') return Promise.resolve({});
      return Promise.reject(Object.assign(new Error(`Stream s under account 1 not found.`), { name: 'ResourceNotFoundException' }));
    },
  } as unknown as KinesisClient;
  return { client, calls };
}

function shard(id: number, start: bigint, end: bigint, closed = false): Shard {
  return {
    ShardId: `shardId-${String(id).padStart(12, '0')}`,
    HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
    SequenceNumberRange: { StartingSequenceNumber: '1', ...(closed ? { EndingSequenceNumber: '9' } : {}) },
  };
}

const third = (MAX + 1n) / 3n;
const three = [shard(0, 0n, third - 1n), shard(1, third, 2n * third - 1n), shard(2, 2n * third, MAX)];

describe('StreamAdmin', () => {
  it('merges adjacent shards, lower range first, whatever the order given', async () => {
    const { client, calls } = fakeClient(three);
    await new StreamAdmin(client, { pollIntervalMs: 1 }).mergeShards('s', 'shardId-000000000002', 'shardId-000000000001');
    expect(calls.find((c) => c.name === 'MergeShards')!.input).toEqual({ StreamName: 's', ShardToMerge: 'shardId-000000000001', AdjacentShardToMerge: 'shardId-000000000002' });
  });

  it('refuses shards that are not adjacent without calling MergeShards, naming the neighbours', async () => {
    const { client, calls } = fakeClient(three);
    const admin = new StreamAdmin(client);
    await expect(admin.mergeShards('s', 'shardId-000000000000', 'shardId-000000000002')).rejects.toThrow(
      /not adjacent.*shardId-000000000000 can merge with shardId-000000000001/,
    );
    expect(calls.some((c) => c.name === 'MergeShards')).toBe(false);
  });

  it('refuses closed or unknown shards', async () => {
    const { client } = fakeClient([shard(0, 0n, MAX, true), shard(1, 0n, MAX)]);
    const admin = new StreamAdmin(client);
    await expect(admin.splitShard('s', 'shardId-000000000000')).rejects.toThrow(/is closed.*shardId-000000000001/);
    await expect(admin.splitShard('s', 'shardId-000000000007')).rejects.toThrow(/has no shard shardId-000000000007/);
  });

  it('refuses changes while the stream is not ACTIVE', async () => {
    const { client, calls } = fakeClient(three, 'UPDATING');
    await expect(new StreamAdmin(client).splitShard('s', 'shardId-000000000000')).rejects.toThrow(/is UPDATING, not ACTIVE/);
    await expect(new StreamAdmin(client).updateShardCount('s', 4)).rejects.toBeInstanceOf(StreamAdminError);
    expect(calls.some((c) => c.name === 'SplitShard' || c.name === 'UpdateShardCount')).toBe(false);
  });

  it('splits at the midpoint by default, or at a key inside the range', async () => {
    const { client, calls } = fakeClient([shard(0, 0n, MAX)]);
    const admin = new StreamAdmin(client, { pollIntervalMs: 1 });
    await admin.splitShard('s', 'shardId-000000000000');
    expect(calls.filter((c) => c.name === 'SplitShard')[0]!.input.NewStartingHashKey).toBe((1n << 127n).toString());
    await admin.splitShard('s', 'shardId-000000000000', { newStartingHashKey: '42' });
    expect(calls.filter((c) => c.name === 'SplitShard')[1]!.input.NewStartingHashKey).toBe('42');
    await expect(admin.splitShard('s', 'shardId-000000000000', { newStartingHashKey: '0' })).rejects.toThrow(/not inside shard/);
  });

  it('explains an unknown stream', async () => {
    const { client } = fakeClient(three);
    await expect(new StreamAdmin(client).deleteStream('nope')).rejects.toThrow(/stream nope not found.*shardline streams create nope/);
  });

  it('describes shards with ranges, parents and open state', async () => {
    const child: Shard = { ...shard(3, 0n, third - 1n), ParentShardId: 'shardId-000000000000' };
    const { client } = fakeClient([shard(0, 0n, third - 1n, true), child]);
    const description = await new StreamAdmin(client).describeStream('s');
    expect(description.shards).toEqual([
      { shardId: 'shardId-000000000000', startingHashKey: '0', endingHashKey: (third - 1n).toString(), startingSequenceNumber: '1', endingSequenceNumber: '9', open: false },
      { shardId: 'shardId-000000000003', parentShardId: 'shardId-000000000000', startingHashKey: '0', endingHashKey: (third - 1n).toString(), startingSequenceNumber: '1', open: true },
    ]);
    expect(description).toMatchObject({ status: 'ACTIVE', mode: 'PROVISIONED', retentionHours: 24 });
  });
});
