import { ListShardsCommand, type KinesisClient, type Shard } from '@aws-sdk/client-kinesis';
import { hashKeyToBytes, hashKeyToHex } from './hash-key';
import { partitionKeyHashWords } from './md5-words';

/** An open shard and the hash-key range it owns (inclusive at both ends). */
export interface ShardRange {
  readonly shardId: string;
  /** Decimal, as Kinesis reports it. */
  readonly startingHashKey: string;
  /** Decimal, as Kinesis reports it. */
  readonly endingHashKey: string;
  /** {@link ShardRange.startingHashKey} as 16 big-endian bytes. */
  readonly start: Buffer;
  /** {@link ShardRange.endingHashKey} as 16 big-endian bytes. */
  readonly end: Buffer;
  /** {@link ShardRange.startingHashKey} as 32 lowercase hex digits. */
  readonly startHex: string;
  /** {@link ShardRange.endingHashKey} as 32 lowercase hex digits. */
  readonly endHex: string;
}

/** Which stream to talk to: by name, or by ARN (real Kinesis and kinesis-local only; kinesalite needs the name). */
export interface StreamReference {
  readonly streamName?: string;
  readonly streamArn?: string;
}

/**
 * The open shards of a stream sorted by hash-key range, to predict the shard a record lands on: Kinesis puts a
 * record on the shard whose range contains MD5(partition key), or its explicit hash key.
 */
export class ShardMap {
  private readonly ranges: readonly ShardRange[];
  /** Start and end of each range as 8 words (4 + 4, most significant first), in the order of `ranges`. */
  private readonly words: Uint32Array;
  /** Where {@link ShardMap.shardForPartitionKey} hashes to (reused: no allocation per record). */
  private readonly hashWords = new Uint32Array(4);

  /**
   * @param shards - shards as ListShards returns them; closed ones (with an ending sequence number) are left out
   */
  constructor(shards: readonly Shard[]) {
    const open: ShardRange[] = [];
    for (const shard of shards) {
      if (shard.ShardId === undefined || shard.HashKeyRange?.StartingHashKey === undefined || shard.HashKeyRange.EndingHashKey === undefined) continue;
      if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) continue;
      open.push({
        shardId: shard.ShardId,
        startingHashKey: shard.HashKeyRange.StartingHashKey,
        endingHashKey: shard.HashKeyRange.EndingHashKey,
        start: hashKeyToBytes(shard.HashKeyRange.StartingHashKey),
        end: hashKeyToBytes(shard.HashKeyRange.EndingHashKey),
        startHex: hashKeyToHex(shard.HashKeyRange.StartingHashKey),
        endHex: hashKeyToHex(shard.HashKeyRange.EndingHashKey),
      });
    }
    open.sort((a, b) => Buffer.compare(a.start, b.start));
    this.ranges = open;
    this.words = new Uint32Array(open.length * 8);
    open.forEach((range, i) => {
      for (let w = 0; w < 4; w++) {
        this.words[i * 8 + w] = range.start.readUInt32BE(w * 4);
        this.words[i * 8 + 4 + w] = range.end.readUInt32BE(w * 4);
      }
    });
  }

  /** The open shards, by ascending hash key. */
  get shards(): readonly ShardRange[] {
    return this.ranges;
  }

  /** The open shard whose range contains `hash` (16 big-endian bytes), or `undefined` if none does (mid-reshard). */
  shardFor(hash: Buffer): ShardRange | undefined {
    return this.shardForHex(hash.toString('hex'));
  }

  /** As {@link ShardMap.shardFor}, for a hash key as 32 lowercase hex digits (see `partitionKeyHashHex`). */
  shardForHex(hex: string): ShardRange | undefined {
    const ranges = this.ranges;
    let low = 0;
    let high = ranges.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const range = ranges[mid]!;
      if (hex < range.startHex) high = mid - 1;
      else if (hex > range.endHex) low = mid + 1;
      else return range;
    }
    return undefined;
  }

  /**
   * The open shard a record with this partition key (and no explicit hash key) lands on, or `undefined` if none
   * owns its hash key (mid-reshard). Same answer as `shardForHex(partitionKeyHashHex(partitionKey))`, without a
   * string or a Buffer per call.
   */
  shardForPartitionKey(partitionKey: string): ShardRange | undefined {
    const hash = this.hashWords;
    partitionKeyHashWords(partitionKey, hash);
    const words = this.words;
    let low = 0;
    let high = this.ranges.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      if (compareWords(hash, words, mid * 8) < 0) high = mid - 1;
      else if (compareWords(hash, words, mid * 8 + 4) > 0) low = mid + 1;
      else return this.ranges[mid];
    }
    return undefined;
  }

  /** The open shard with this id, if it is one. */
  get(shardId: string): ShardRange | undefined {
    return this.ranges.find((range) => range.shardId === shardId);
  }
}

/** Compares a 4-word hash key with the 4 words of `words` at `at`: negative, 0 or positive. */
function compareWords(hash: Uint32Array, words: Uint32Array, at: number): number {
  for (let w = 0; w < 4; w++) {
    const difference = hash[w]! - words[at + w]!;
    if (difference !== 0) return difference;
  }
  return 0;
}

/** Lists every shard of a stream (following NextToken) and builds its {@link ShardMap}. */
export async function loadShardMap(client: KinesisClient, stream: StreamReference, abortSignal?: AbortSignal): Promise<ShardMap> {
  const shards: Shard[] = [];
  let nextToken: string | undefined;
  do {
    const page = await client.send(
      new ListShardsCommand(nextToken !== undefined ? { NextToken: nextToken } : { StreamName: stream.streamName, StreamARN: stream.streamArn }),
      abortSignal !== undefined ? { abortSignal } : {},
    );
    shards.push(...(page.Shards ?? []));
    nextToken = page.NextToken;
  } while (nextToken !== undefined);
  return new ShardMap(shards);
}
