import { GetRecordsCommand, GetShardIteratorCommand, type GetShardIteratorCommandInput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { type CheckpointPosition } from '../../core/checkpoint-position';
import { isCheckpointSentinel } from '../../checkpoint-stores/checkpoint-store';

/** How far a shard's checkpoint is behind the shard's latest record. */
export interface ShardLag {
  readonly shardId: string;
  /** The stored checkpoint (a sequence number or a sentinel such as TRIM_HORIZON / SHARD_END), or undefined. */
  readonly checkpoint: CheckpointPosition | undefined;
  /** `done`: read to its end; `reading`/`not started`: records after the checkpoint are counted. */
  readonly status: 'done' | 'reading' | 'not started';
  /** Records after the checkpoint, up to `maxRecords` (then `recordsBehindIsLowerBound` is true). */
  readonly recordsBehind: number;
  readonly recordsBehindIsLowerBound: boolean;
  /** Age of the oldest unprocessed record (ms), 0 when caught up. */
  readonly millisBehind: number;
}

/**
 * Measures one shard's lag by reading after its checkpoint (GetRecords, at most `maxRecords` records): the number of
 * records not yet processed, and the age of the oldest of them.
 */
export async function measureShardLag(
  client: KinesisClient,
  stream: { readonly StreamName: string } | { readonly StreamARN: string },
  shardId: string,
  checkpoint: CheckpointPosition | undefined,
  options: { readonly maxRecords?: number; readonly now?: () => number } = {},
): Promise<ShardLag> {
  const maxRecords = options.maxRecords ?? 50_000;
  const now = options.now ?? Date.now;
  if (checkpoint?.sequenceNumber === 'SHARD_END') {
    return { shardId, checkpoint, status: 'done', recordsBehind: 0, recordsBehindIsLowerBound: false, millisBehind: 0 };
  }
  const real = checkpoint !== undefined && !isCheckpointSentinel(checkpoint.sequenceNumber);
  const input: GetShardIteratorCommandInput = real
    ? { ...stream, ShardId: shardId, ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', StartingSequenceNumber: checkpoint.sequenceNumber }
    : { ...stream, ShardId: shardId, ShardIteratorType: checkpoint?.sequenceNumber === 'LATEST' ? 'LATEST' : 'TRIM_HORIZON' };
  let iterator = (await client.send(new GetShardIteratorCommand(input))).ShardIterator;
  let count = 0;
  let oldest: number | undefined;
  for (let calls = 0; iterator !== undefined && count < maxRecords && calls < 20; calls++) {
    const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: Math.min(10_000, maxRecords - count) }));
    const records = page.Records ?? [];
    count += records.length;
    const first = records[0]?.ApproximateArrivalTimestamp;
    if (oldest === undefined && first !== undefined) oldest = first.getTime();
    if (records.length === 0 && (page.MillisBehindLatest ?? 0) === 0) break;
    iterator = page.NextShardIterator ?? undefined;
  }
  return {
    shardId,
    checkpoint,
    status: real ? 'reading' : 'not started',
    recordsBehind: count,
    recordsBehindIsLowerBound: count >= maxRecords,
    millisBehind: oldest === undefined ? 0 : Math.max(0, now() - oldest),
  };
}
