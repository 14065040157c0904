import { toKinesisRecords } from '../../../src/adapters/polling/record-converter';
import { createLogger } from '../../../src/core/logger';
import { KplAggregator } from '../../../src/kpl/aggregator';

function setup() {
  const lines: string[] = [];
  const logger = createLogger({ destination: 'none' }, { sink: (line) => lines.push(line) });
  return { logger, lines };
}

function aggregate(n: number): Buffer {
  const agg = new KplAggregator();
  for (let i = 0; i < n; i++) agg.add({ partitionKey: `pk-${i}`, data: Buffer.from(`user-${i}`) });
  const out = agg.flush();
  if (out === undefined) throw new Error('empty');
  return out.data;
}

describe('toKinesisRecords', () => {
  it('splits KPL aggregates into user records with sub-sequence numbers and their own partition keys', () => {
    const { logger } = setup();
    const records = toKinesisRecords(
      [
        { Data: Buffer.from('plain'), PartitionKey: 'p', SequenceNumber: '100' },
        { Data: aggregate(3), PartitionKey: 'outer', SequenceNumber: '200', ApproximateArrivalTimestamp: new Date(5) },
      ],
      'shardId-000000000000',
      { deaggregate: true, logger },
    );
    expect(records.map((r) => [r.sequenceNumber, r.subSequenceNumber, r.partitionKey, r.text()])).toEqual([
      ['100', 0, 'p', 'plain'],
      ['200', 0, 'pk-0', 'user-0'],
      ['200', 1, 'pk-1', 'user-1'],
      ['200', 2, 'pk-2', 'user-2'],
    ]);
    expect(records[1]?.approximateArrivalTimestamp).toEqual(new Date(5));
  });

  it('passes a corrupted aggregate on as one raw record with a warning, never dropping it', () => {
    const { logger, lines } = setup();
    const bad = aggregate(2);
    bad[bad.length - 1] = (bad[bad.length - 1] ?? 0) ^ 1;
    const records = toKinesisRecords([{ Data: bad, PartitionKey: 'outer', SequenceNumber: '300' }], 's', { deaggregate: true, logger });
    expect(records).toHaveLength(1);
    expect(records[0]?.data.equals(bad)).toBe(true);
    expect(records[0]?.partitionKey).toBe('outer');
    expect(lines.some((l) => l.includes('WARN') && l.includes('corrupted'))).toBe(true);
  });

  it('skips what the checkpoint covers, including the processed part of an aggregate', () => {
    const { logger } = setup();
    const wire = [
      { Data: Buffer.from('a'), PartitionKey: 'p', SequenceNumber: '100' },
      { Data: aggregate(4), PartitionKey: 'o', SequenceNumber: '200' },
      { Data: Buffer.from('c'), PartitionKey: 'p', SequenceNumber: '300' },
    ];
    const inside = toKinesisRecords(wire, 's', { deaggregate: true, logger, skipUpTo: { sequenceNumber: '200', subSequenceNumber: 1 } });
    expect(inside.map((r) => `${r.sequenceNumber}/${r.subSequenceNumber}`)).toEqual(['200/2', '200/3', '300/0']);
    const plain = toKinesisRecords(wire, 's', { deaggregate: true, logger, skipUpTo: { sequenceNumber: '100', subSequenceNumber: 0 } });
    expect(plain.map((r) => `${r.sequenceNumber}/${r.subSequenceNumber}`)).toEqual(['200/0', '200/1', '200/2', '200/3', '300/0']);
  });

  it('compares sequence numbers as integers, not as text', () => {
    const { logger } = setup();
    const out = toKinesisRecords([{ Data: Buffer.from('x'), PartitionKey: 'p', SequenceNumber: '1000' }], 's', {
      deaggregate: true,
      logger,
      skipUpTo: { sequenceNumber: '999', subSequenceNumber: 0 },
    });
    expect(out).toHaveLength(1);
  });

  it('keeps base64 text payloads lazy and leaves aggregates whole when de-aggregation is off', () => {
    const { logger } = setup();
    const [text] = toKinesisRecords([{ Data: Buffer.from('{"a":1}').toString('base64'), PartitionKey: 'p', SequenceNumber: '1' }], 's', { deaggregate: true, logger });
    expect(text?.json()).toEqual({ a: 1 });
    const [agg] = toKinesisRecords([{ Data: aggregate(2).toString('base64'), PartitionKey: 'o', SequenceNumber: '2' }], 's', { deaggregate: false, logger });
    expect(agg?.subSequenceNumber).toBe(0);
    const split = toKinesisRecords([{ Data: aggregate(2).toString('base64'), PartitionKey: 'o', SequenceNumber: '2' }], 's', { deaggregate: true, logger });
    expect(split.map((r) => r.text())).toEqual(['user-0', 'user-1']);
  });
});
