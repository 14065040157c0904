import { hash, randomBytes } from 'node:crypto';
import { type Shard } from '@aws-sdk/client-kinesis';
import { partitionKeyHashHex } from '../../../src/producer/hash-key';
import { partitionKeyHashWords } from '../../../src/producer/md5-words';
import { ShardMap } from '../../../src/producer/shard-map';

function wordsHex(key: string): string {
  const out = new Uint32Array(4);
  partitionKeyHashWords(key, out);
  return [...out].map((word) => word.toString(16).padStart(8, '0')).join('');
}

describe('partitionKeyHashWords', () => {
  it('equals node:crypto MD5 for keys of every length up to 256 characters, ASCII or not', () => {
    const samples: string[] = [];
    for (let length = 1; length <= 256; length++) {
      samples.push('a'.repeat(length), 'é'.repeat(length), '€'.repeat(length), randomBytes(length).toString('latin1'), '\ud800'.repeat(length));
      samples.push(('😀'.repeat(length)).slice(0, length)); // cut pairs included
    }
    const wrong = samples.filter((key) => wordsHex(key) !== hash('md5', key, 'hex'));
    expect(wrong).toEqual([]);
  });

  it('refuses a key longer than Kinesis allows', () => {
    expect(() => wordsHex('x'.repeat(257))).toThrow(RangeError);
  });
});

describe('ShardMap.shardForPartitionKey', () => {
  function map(count: number): ShardMap {
    const max = (1n << 128n) - 1n;
    const step = (max + 1n) / BigInt(count);
    const shards: Shard[] = Array.from({ length: count }, (_, i) => ({
      ShardId: `shardId-${i}`,
      HashKeyRange: { StartingHashKey: String(step * BigInt(i)), EndingHashKey: String(i === count - 1 ? max : step * BigInt(i + 1) - 1n) },
      SequenceNumberRange: { StartingSequenceNumber: '1' },
    }));
    return new ShardMap(shards);
  }

  it.each([1, 2, 3, 4, 7, 64])('finds the shard shardForHex finds, for %i shards', (count) => {
    const shards = map(count);
    for (let i = 0; i < 500; i++) {
      const key = randomBytes(1 + (i % 40)).toString(i % 2 === 0 ? 'hex' : 'latin1');
      expect(shards.shardForPartitionKey(key)?.shardId).toBe(shards.shardForHex(partitionKeyHashHex(key))?.shardId);
    }
  });

  it('decides on the full 128 bits at a range boundary, and answers undefined where no open shard owns the key', () => {
    const key = 'boundary';
    const keyHash = BigInt(`0x${hash('md5', key, 'hex')}`);
    // Two shards split exactly at the key's hash key: it belongs to the upper one; one below it to the lower one.
    const split = (starting: bigint): ShardMap =>
      new ShardMap([
        { ShardId: 'low', HashKeyRange: { StartingHashKey: '0', EndingHashKey: String(starting - 1n) }, SequenceNumberRange: { StartingSequenceNumber: '1' } },
        { ShardId: 'high', HashKeyRange: { StartingHashKey: String(starting), EndingHashKey: String((1n << 128n) - 1n) }, SequenceNumberRange: { StartingSequenceNumber: '1' } },
      ]);
    expect(split(keyHash).shardForPartitionKey(key)?.shardId).toBe('high');
    expect(split(keyHash + 1n).shardForPartitionKey(key)?.shardId).toBe('low');
    const gap = new ShardMap([{ ShardId: 'other', HashKeyRange: { StartingHashKey: String(keyHash + 1n), EndingHashKey: String((1n << 128n) - 1n) }, SequenceNumberRange: { StartingSequenceNumber: '1' } }]);
    expect(gap.shardForPartitionKey(key)).toBeUndefined();
  });
});
