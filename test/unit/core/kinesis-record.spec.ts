import { KinesisRecord } from '../../../src/core/kinesis-record';
import { comparePositions, formatPosition } from '../../../src/core/checkpoint-position';
import { RecordDecodeError } from '../../../src/core/errors';
import { parseDuration } from '../../../src/core/duration';

const SEQ = '49590338271490256608559692538361571095921575989136588898';

function record(data: Buffer | string, sequenceNumber = SEQ): KinesisRecord {
  return new KinesisRecord({ data, partitionKey: 'pk', sequenceNumber, shardId: 'shardId-000000000001' });
}

describe('KinesisRecord', () => {
  it('decodes base64 lazily, only when data is first read, and only once', () => {
    const fromSpy = jest.spyOn(Buffer, 'from');
    try {
      const r = record(Buffer.from('{"id":7}').toString('base64'));
      const before = fromSpy.mock.calls.length;
      expect(r.partitionKey).toBe('pk');
      expect(r.sequenceNumber).toBe(SEQ);
      expect(fromSpy.mock.calls.length).toBe(before);
      expect(r.json<{ id: number }>()).toEqual({ id: 7 });
      expect(r.text()).toBe('{"id":7}');
      expect(r.data).toBeInstanceOf(Buffer);
      expect(fromSpy.mock.calls.length).toBe(before + 1);
    } finally {
      fromSpy.mockRestore();
    }
  });

  it('a record with bad base64 only fails when its data is read, with a RecordDecodeError naming the record', () => {
    const r = record('not base64!!');
    expect(r.sequenceNumber).toBe(SEQ);
    expect(() => r.data).toThrow(RecordDecodeError);
    expect(() => r.text()).toThrow(new RegExp(`record ${SEQ} of shardId-000000000001: data is not valid base64`));
    expect(() => record('abc').data).toThrow(RecordDecodeError);
    expect(() => record('a=bc').data).toThrow(RecordDecodeError);
  });

  it('accepts padded base64 and empty data', () => {
    expect(record('aGk=').text()).toBe('hi');
    expect(record('aA==').text()).toBe('h');
    expect(record('').data.length).toBe(0);
  });

  it('json() on a non-JSON payload throws RecordDecodeError that says what to do', () => {
    const r = record(Buffer.from('plain text'));
    expect(() => r.json()).toThrow(RecordDecodeError);
    expect(() => r.json()).toThrow(/is not JSON .*decode it as 'text' or 'buffer'/);
  });

  it('keeps sequence numbers as strings, defaults subSequenceNumber and arrival time', () => {
    const r = record(Buffer.from('x'));
    expect(typeof r.sequenceNumber).toBe('string');
    expect(r.sequenceNumber).toBe(SEQ);
    expect(r.subSequenceNumber).toBe(0);
    expect(r.approximateArrivalTimestamp).toEqual(new Date(0));
    expect(r.position).toEqual({ sequenceNumber: SEQ, subSequenceNumber: 0 });
    const at = new KinesisRecord({ data: 'eA==', partitionKey: 'p', sequenceNumber: '1', shardId: 's', approximateArrivalTimestamp: 1_717_171_717_123 });
    expect(at.approximateArrivalTimestamp.getTime()).toBe(1_717_171_717_123);
  });
});

describe('comparePositions', () => {
  it('orders sequence numbers beyond 2^53 exactly (as numbers they would be equal)', () => {
    const a = '49590338271490256608559692538361571095921575989136588898';
    const b = '49590338271490256608559692538361571095921575989136588899';
    expect(Number(a)).toBe(Number(b));
    expect(comparePositions({ sequenceNumber: a, subSequenceNumber: 0 }, { sequenceNumber: b, subSequenceNumber: 0 })).toBeLessThan(0);
    expect(comparePositions({ sequenceNumber: b, subSequenceNumber: 0 }, { sequenceNumber: a, subSequenceNumber: 0 })).toBeGreaterThan(0);
    expect(comparePositions({ sequenceNumber: a, subSequenceNumber: 0 }, { sequenceNumber: a, subSequenceNumber: 0 })).toBe(0);
  });

  it('orders by length first (a shorter decimal is smaller) and then by sub-sequence', () => {
    expect(comparePositions({ sequenceNumber: '999', subSequenceNumber: 0 }, { sequenceNumber: '1000', subSequenceNumber: 0 })).toBeLessThan(0);
    expect(comparePositions({ sequenceNumber: SEQ, subSequenceNumber: 2 }, { sequenceNumber: SEQ, subSequenceNumber: 1 })).toBeGreaterThan(0);
    expect(formatPosition({ sequenceNumber: SEQ, subSequenceNumber: 3 })).toBe(`${SEQ}/3`);
    expect(formatPosition(undefined)).toBe('none');
  });

  it('sorts a shuffled list the same way BigInt does', () => {
    const values = Array.from({ length: 50 }, (_, i) => (12345678901234567890123n * BigInt(i * 7919 + 1)).toString());
    const shuffled = [...values].sort(() => Math.random() - 0.5);
    const byPositions = [...shuffled].sort((x, y) => comparePositions({ sequenceNumber: x, subSequenceNumber: 0 }, { sequenceNumber: y, subSequenceNumber: 0 }));
    const byBigInt = [...shuffled].sort((x, y) => (BigInt(x) < BigInt(y) ? -1 : BigInt(x) > BigInt(y) ? 1 : 0));
    expect(byPositions).toEqual(byBigInt);
  });
});

describe('parseDuration', () => {
  it.each([
    ['500ms', 500],
    ['10s', 10_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['1.5s', 1_500],
    [250, 250],
  ])('parses %p as %p ms', (input, ms) => {
    expect(parseDuration(input)).toBe(ms);
  });

  it.each([['0ms'], ['-1s'], ['10'], ['10 minutes'], [''], [0], [-5], [Number.NaN], [Infinity], [null], [{}]])('rejects %p', (input) => {
    expect(() => parseDuration(input)).toThrow(/invalid duration/);
  });
});
