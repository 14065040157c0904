import { randomBytes } from 'node:crypto';
import { KplAggregator, type KplAggregate, type KplUserRecord } from '../../../src/kpl/aggregator';
import { deaggregate } from '../../../src/kpl/deaggregate';
import { KplFormatError } from '../../../src/kpl/kpl-format-error';
import { KPL_DEFAULT_MAX_AGGREGATE_BYTES, KPL_OVERHEAD_BYTES } from '../../../src/kpl/kpl-format';
import { ProtobufReader } from '../../../src/kpl/protobuf-wire';

function aggregateOne(records: KplUserRecord[], aggregator = new KplAggregator()): KplAggregate {
  for (const r of records) expect(aggregator.tryAdd(r)).toBe(true);
  const aggregate = aggregator.flush();
  if (!aggregate) throw new Error('expected an aggregate');
  return aggregate;
}

function expectRoundTrip(records: KplUserRecord[], aggregator = new KplAggregator()): KplAggregate {
  const aggregate = aggregateOne(records, aggregator);
  expect(aggregate.count).toBe(records.length);
  const decoded = deaggregate(aggregate.data);
  expect(decoded).toHaveLength(records.length);
  // Compare payloads with Buffer.equals (jest's deep equality is slow on large buffers).
  expect(decoded.every((d, i) => d.data.equals(records[i]!.data))).toBe(true);
  expect(decoded.map(({ data: _data, ...rest }) => rest)).toEqual(
    records.map((r, i) => ({
      partitionKey: r.partitionKey,
      ...(r.explicitHashKey === undefined ? {} : { explicitHashKey: r.explicitHashKey }),
      subSequenceNumber: i,
    })),
  );
  return aggregate;
}

/** Counts the entries of the partition key (1) and explicit hash key (2) tables. */
function tableSizes(aggregate: Buffer): { partitionKeys: number; explicitHashKeys: number } {
  const reader = new ProtobufReader(aggregate, 4, aggregate.length - 16);
  const sizes = { partitionKeys: 0, explicitHashKeys: 0 };
  while (!reader.done) {
    const tag = reader.readVarint();
    if (tag >>> 3 === 1) sizes.partitionKeys++;
    if (tag >>> 3 === 2) sizes.explicitHashKeys++;
    reader.skipField(tag & 7);
  }
  return sizes;
}

const rec = (partitionKey: string, data: string | Buffer, explicitHashKey?: string): KplUserRecord =>
  explicitHashKey === undefined ? { partitionKey, data: Buffer.from(data) } : { partitionKey, explicitHashKey, data: Buffer.from(data) };

describe('KplAggregator round trips', () => {
  it('one record', () => {
    const aggregate = expectRoundTrip([rec('pk', 'hello')]);
    expect(aggregate.partitionKey).toBe('pk');
    expect(aggregate.explicitHashKey).toBeUndefined();
    expect(aggregate.data.subarray(0, 4).toString('hex')).toBe('f3899ac2');
  });

  it('many records', () => {
    const records = Array.from({ length: 1000 }, (_, i) => rec(`key-${i % 37}`, randomBytes(i % 300)));
    expectRoundTrip(records);
  });

  it('deduplicates partition keys and explicit hash keys', () => {
    const records = [rec('a', '1', '10'), rec('b', '2'), rec('a', '3', '10'), rec('b', '4', '20'), rec('a', '5')];
    const aggregate = expectRoundTrip(records);
    expect(tableSizes(aggregate.data)).toEqual({ partitionKeys: 2, explicitHashKeys: 2 });
    expect(aggregate.partitionKey).toBe('a');
    expect(aggregate.explicitHashKey).toBe('10');
  });

  it('explicit hash keys, including the extremes', () => {
    const max = ((1n << 128n) - 1n).toString();
    expectRoundTrip([rec('k1', 'x', '0'), rec('k2', 'y', max), rec('k3', 'z')]);
  });

  it('only the first record decides the default explicit hash key', () => {
    const aggregate = aggregateOne([rec('k1', 'x'), rec('k2', 'y', '5')]);
    expect(aggregate.partitionKey).toBe('k1');
    expect(aggregate).not.toHaveProperty('explicitHashKey');
  });

  it('empty data', () => {
    expectRoundTrip([rec('k', ''), rec('k', Buffer.alloc(0)), rec('j', 'x')]);
  });

  it('binary data with NUL bytes', () => {
    expectRoundTrip([rec('k', Buffer.from([0, 0, 0])), rec('k', Buffer.from([0xff, 0x00, 0xf3, 0x89, 0x9a, 0xc2, 0]))]);
  });

  it('unicode partition keys', () => {
    expectRoundTrip([rec('ключ', 'a'), rec('键🔑', 'b'), rec('é', 'c'), rec('ключ', 'd'), rec('\u0000nul', 'e')]);
  });

  it('large data needing multi-byte length varints', () => {
    const aggregate = expectRoundTrip([rec('big', randomBytes(3_000_000)), rec('small', 'x')], new KplAggregator({ maxBytes: 10_485_760 }));
    expect(aggregate.data.length).toBeGreaterThan(3_000_000);
  });

  it('does not copy data until flush and is reusable after flush', () => {
    const aggregator = new KplAggregator();
    const first = aggregateOne([rec('a', 'one'), rec('b', 'two')], aggregator);
    expect(aggregator.isEmpty).toBe(true);
    const second = aggregateOne([rec('b', 'three')], aggregator);
    expect(deaggregate(first.data).map((r) => r.partitionKey)).toEqual(['a', 'b']);
    expect(deaggregate(second.data)).toEqual([{ partitionKey: 'b', data: Buffer.from('three'), subSequenceNumber: 0 }]);
    expect(tableSizes(second.data).partitionKeys).toBe(1);
  });

  it('reuses its tables across aggregates: keys deduplicated within each aggregate only, through index growth', () => {
    const aggregator = new KplAggregator({ maxBytes: 10_000_000 });
    for (let round = 0; round < 3; round++) {
      // 700 distinct keys (the key index grows several times), each used twice, in an order that differs per round.
      const keys = Array.from({ length: 700 }, (_, i) => `r${round % 2}-key-${(i * 7919) % 700}`);
      const records = [...keys, ...keys.slice().reverse()].map((key, i) => rec(key, `${round}:${i}`));
      const aggregate = expectRoundTrip(records, aggregator);
      expect(tableSizes(aggregate.data).partitionKeys).toBe(700);
      expect(aggregator.isEmpty).toBe(true);
    }
  });

  it('tells apart keys whose index slots collide, and keys of a previous aggregate are not taken as present', () => {
    const aggregator = new KplAggregator();
    // Single characters: many share an index slot modulo the table size; each must keep its own table entry.
    const keys = Array.from({ length: 60 }, (_, i) => String.fromCharCode(0x41 + i));
    const first = expectRoundTrip([...keys, ...keys].map((key, i) => rec(key, String(i))), aggregator);
    expect(tableSizes(first.data).partitionKeys).toBe(60);
    const second = expectRoundTrip([rec('Z', 'z'), rec('A', 'a')], aggregator);
    expect(tableSizes(second.data).partitionKeys).toBe(2);
  });

  it('owns its output buffer (not a slice of the shared pool)', () => {
    const { data } = aggregateOne([rec('a', 'x')]);
    expect(data.byteOffset).toBe(0);
    expect(data.buffer.byteLength).toBe(data.length);
  });
});

describe('KplAggregator size accounting', () => {
  it('is exact after every add, for a mix of new and repeated keys', () => {
    const aggregator = new KplAggregator({ maxBytes: 10_000_000 });
    expect(aggregator.size).toBe(0);
    const keys = ['a', 'bb', 'ключ', '键🔑', 'x'.repeat(200)];
    for (let i = 0; i < 600; i++) {
      const record = rec(keys[i % keys.length]! + (i % 7 === 0 ? String(i) : ''), randomBytes((i * 37) % 500), i % 3 === 0 ? String(i % 11) : undefined);
      const predicted = aggregator.sizeWith(record);
      expect(aggregator.tryAdd(record)).toBe(true);
      expect(aggregator.size).toBe(predicted);
    }
    const size = aggregator.size;
    const count = aggregator.count;
    const aggregate = aggregator.flush();
    expect(aggregate?.data.length).toBe(size);
    expect(aggregate?.count).toBe(count);
    expect(aggregator.size).toBe(0);
  });

  it('matches the encoded length at every prefix length', () => {
    const records = Array.from({ length: 150 }, (_, i) => rec(`k${i % 13}`, randomBytes(i * 7), i % 4 === 0 ? `${i * 1000}` : undefined));
    for (let n = 1; n <= records.length; n += 7) {
      const aggregator = new KplAggregator();
      for (const r of records.slice(0, n)) aggregator.tryAdd(r);
      const expected = aggregator.size;
      expect(aggregator.flush()?.data.length).toBe(expected);
    }
  });

  it('accounts for varint boundaries of indexes (128+ distinct keys) and lengths', () => {
    const aggregator = new KplAggregator({ maxBytes: 10_000_000 });
    for (let i = 0; i < 20_000; i++) aggregator.tryAdd(rec(`key-${i}`, Buffer.alloc(i % 130), i % 2 === 0 ? String(i) : undefined));
    const expected = aggregator.size;
    const aggregate = aggregator.flush()!;
    expect(aggregate.data.length).toBe(expected);
    expect(deaggregate(aggregate.data)).toHaveLength(20_000);
  });
});

describe('KplAggregator limits', () => {
  it('defaults maxBytes to 1 MiB minus headroom', () => {
    expect(new KplAggregator().maxBytes).toBe(KPL_DEFAULT_MAX_AGGREGATE_BYTES);
    expect(KPL_DEFAULT_MAX_AGGREGATE_BYTES).toBeLessThan(1_048_576);
  });

  it('tryAdd refuses a record that would exceed maxBytes, and add() flushes first', () => {
    const maxBytes = 5_000;
    const aggregator = new KplAggregator({ maxBytes });
    const records = Array.from({ length: 2_000 }, (_, i) => rec(randomBytes(8).toString('hex'), randomBytes(50 + (i % 150))));
    const aggregates: KplAggregate[] = [];
    for (const r of records) {
      const fits = aggregator.canAdd(r);
      const flushed = aggregator.add(r);
      expect(flushed === undefined).toBe(fits);
      if (flushed) aggregates.push(flushed);
    }
    aggregates.push(aggregator.flush()!);
    expect(aggregator.flush()).toBeUndefined();

    expect(aggregates.reduce((n, a) => n + a.count, 0)).toBe(records.length);
    const decoded = aggregates.flatMap((a) => deaggregate(a.data));
    expect(decoded).toHaveLength(records.length);
    expect(decoded.every((d, i) => d.data.equals(records[i]!.data) && d.partitionKey === records[i]!.partitionKey)).toBe(true);
    for (const [i, a] of aggregates.entries()) {
      expect(a.data.length).toBeLessThanOrEqual(maxBytes);
      // Every aggregate but the last was closed only because the next record did not fit.
      if (i < aggregates.length - 1) expect(a.data.length).toBeGreaterThan(maxBytes - 250);
    }
  });

  it('fills exactly up to maxBytes', () => {
    const probe = new KplAggregator();
    probe.tryAdd(rec('k', 'x'.repeat(100)));
    const exact = probe.size;
    const aggregator = new KplAggregator({ maxBytes: exact });
    expect(aggregator.tryAdd(rec('k', 'x'.repeat(100)))).toBe(true);
    expect(aggregator.size).toBe(exact);
    expect(aggregator.tryAdd(rec('k', ''))).toBe(false);
    expect(aggregator.flush()?.data.length).toBe(exact);
  });

  it('throws a clear error for a record too large on its own', () => {
    const aggregator = new KplAggregator({ maxBytes: 1_000 });
    expect(() => aggregator.tryAdd(rec('big', Buffer.alloc(1_000)))).toThrow(KplFormatError);
    expect(() => aggregator.add(rec('big', Buffer.alloc(1_000)))).toThrow(
      /user record \(partitionKey "big", 1000 data bytes\) encodes to \d+ bytes as a single-record aggregate, more than maxBytes 1000/,
    );
    // Also when the aggregator is not empty: the error is raised straight away, nothing is flushed.
    aggregator.tryAdd(rec('small', 'x'));
    expect(() => aggregator.add(rec('big', Buffer.alloc(1_000)))).toThrow(/more than maxBytes 1000/);
    expect(aggregator.count).toBe(1);
    expect(() => new KplAggregator().add(rec('k', Buffer.alloc(1_048_576)))).toThrow(KplFormatError);
  });

  it('honours maxRecords', () => {
    const aggregator = new KplAggregator({ maxRecords: 2 });
    expect(aggregator.add(rec('a', '1'))).toBeUndefined();
    expect(aggregator.add(rec('a', '2'))).toBeUndefined();
    expect(aggregator.canAdd(rec('a', '3'))).toBe(false);
    const flushed = aggregator.add(rec('a', '3'));
    expect(flushed?.count).toBe(2);
    expect(aggregator.count).toBe(1);
  });

  it('validates options', () => {
    expect(() => new KplAggregator({ maxBytes: KPL_OVERHEAD_BYTES })).toThrow(RangeError);
    expect(() => new KplAggregator({ maxBytes: 1.5e3 + 0.5 })).toThrow(RangeError);
    expect(() => new KplAggregator({ maxRecords: 0 })).toThrow(RangeError);
  });

  it('validates records', () => {
    const aggregator = new KplAggregator();
    expect(() => aggregator.tryAdd(rec('', 'x'))).toThrow(/partitionKey must be a non-empty string/);
    expect(() => aggregator.tryAdd(rec('k', 'x', 'abc'))).toThrow(/explicitHashKey must be a decimal integer/);
    expect(() => aggregator.tryAdd(rec('k', 'x', (1n << 128n).toString()))).toThrow(KplFormatError);
    expect(() => aggregator.tryAdd(rec('k', 'x', '-1'))).toThrow(KplFormatError);
    expect(() => aggregator.tryAdd({ partitionKey: 'k', data: 'text' as unknown as Buffer })).toThrow(/data must be a Buffer/);
    expect(aggregator.isEmpty).toBe(true);
  });

  it('clear() discards buffered records', () => {
    const aggregator = new KplAggregator();
    aggregator.tryAdd(rec('k', 'x'));
    aggregator.clear();
    expect(aggregator.flush()).toBeUndefined();
    expect(aggregator.size).toBe(0);
  });
});
