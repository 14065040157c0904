import { createHash, randomBytes } from 'node:crypto';
import { deaggregate, isAggregated } from '../../../src/kpl/deaggregate';
import { KplFormatError } from '../../../src/kpl/kpl-format-error';
import { KPL_MAGIC } from '../../../src/kpl/kpl-format';
import { ProtobufWriter } from '../../../src/kpl/protobuf-wire';

/** Builds protobuf bytes field by field, independently of the aggregator under test. */
class MessageBuilder {
  private readonly parts: Buffer[] = [];

  varint(field: number, value: number): this {
    const buf = Buffer.alloc(20);
    const writer = new ProtobufWriter(buf).writeTag(field, 0).writeVarint(value);
    this.parts.push(buf.subarray(0, writer.offset));
    return this;
  }

  bytes(field: number, value: Buffer | string | MessageBuilder): this {
    const payload = value instanceof MessageBuilder ? value.build() : Buffer.from(value);
    const buf = Buffer.alloc(20 + payload.length);
    const writer = new ProtobufWriter(buf).writeTag(field, 2).writeBytes(payload);
    this.parts.push(buf.subarray(0, writer.offset));
    return this;
  }

  raw(bytes: number[]): this {
    this.parts.push(Buffer.from(bytes));
    return this;
  }

  build(): Buffer {
    return Buffer.concat(this.parts);
  }
}

const message = (): MessageBuilder => new MessageBuilder();

function frame(protobuf: Buffer): Buffer {
  return Buffer.concat([Buffer.from(KPL_MAGIC), protobuf, createHash('md5').update(protobuf).digest()]);
}

function record(partitionKeyIndex: number | undefined, data: Buffer | string | undefined, explicitHashKeyIndex?: number): MessageBuilder {
  const m = message();
  if (partitionKeyIndex !== undefined) m.varint(1, partitionKeyIndex);
  if (explicitHashKeyIndex !== undefined) m.varint(2, explicitHashKeyIndex);
  if (data !== undefined) m.bytes(3, data);
  return m;
}

function expectFormatError(fn: () => unknown, pattern: RegExp): void {
  let thrown: unknown;
  try {
    fn();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(KplFormatError);
  expect((thrown as Error).message).toMatch(pattern);
}

describe('isAggregated', () => {
  it('is true for a framed message, including an empty one', () => {
    expect(isAggregated(frame(Buffer.alloc(0)))).toBe(true);
    expect(isAggregated(frame(message().bytes(1, 'pk').bytes(3, record(0, 'x')).build()))).toBe(true);
  });

  it('is false for plain records and for anything too short to hold magic and digest', () => {
    expect(isAggregated(Buffer.alloc(0))).toBe(false);
    expect(isAggregated(Buffer.from('{"hello":"world","this is":"json"}'))).toBe(false);
    expect(isAggregated(Buffer.from([0xf3, 0x89, 0x9a]))).toBe(false);
    expect(isAggregated(Buffer.concat([Buffer.from(KPL_MAGIC), Buffer.alloc(15)]))).toBe(false);
    expect(isAggregated(Buffer.concat([Buffer.from([0xf3, 0x89, 0x9a, 0xc3]), Buffer.alloc(40)]))).toBe(false);
  });
});

describe('deaggregate', () => {
  it('decodes tables, indexes, explicit hash keys and skips tags and unknown fields', () => {
    const input = frame(
      message()
        .bytes(1, 'a')
        .bytes(1, 'b')
        .bytes(2, '123')
        .bytes(3, record(1, 'first').bytes(4, message().bytes(1, 'tag').bytes(2, 'value')))
        .bytes(3, record(0, '', 0))
        .varint(15, 99) // unknown varint field
        .raw([0x7d, 1, 2, 3, 4]) // unknown fixed32 field 15
        .build(),
    );
    expect(deaggregate(input)).toEqual([
      { partitionKey: 'b', data: Buffer.from('first'), subSequenceNumber: 0 },
      { partitionKey: 'a', explicitHashKey: '123', data: Buffer.alloc(0), subSequenceNumber: 1 },
    ]);
  });

  it('returns no records for an aggregate with an empty message', () => {
    expect(deaggregate(frame(Buffer.alloc(0)))).toEqual([]);
  });

  it('accepts tables that appear after the records that reference them', () => {
    const input = frame(message().bytes(3, record(0, 'x', 0)).bytes(2, '7').bytes(1, 'late').build());
    expect(deaggregate(input)).toEqual([{ partitionKey: 'late', explicitHashKey: '7', data: Buffer.from('x'), subSequenceNumber: 0 }]);
  });

  it('returns zero-copy views of the input', () => {
    const input = frame(message().bytes(1, 'k').bytes(3, record(0, 'payload')).build());
    const [only] = deaggregate(input);
    expect(only?.data.buffer).toBe(input.buffer);
    input[only!.data.byteOffset - input.byteOffset] = 0x50; // 'P'
    expect(only?.data.toString()).toBe('Payload');
  });

  it('keeps binary data with NUL bytes and unicode keys intact', () => {
    const binary = Buffer.from([0, 0, 1, 0, 255, 0]);
    const input = frame(message().bytes(1, '鍵🔑').bytes(3, record(0, binary)).build());
    const [only] = deaggregate(input);
    expect(only?.partitionKey).toBe('鍵🔑');
    expect(only?.data.equals(binary)).toBe(true);
  });

  it('rejects input without the magic bytes', () => {
    expectFormatError(() => deaggregate(Buffer.from('plain old record data, not aggregated')), /not a KPL aggregated record.*magic/);
    expectFormatError(() => deaggregate(Buffer.alloc(0)), /magic/);
  });

  it('rejects a record too short for the digest', () => {
    expectFormatError(() => deaggregate(Buffer.from([...KPL_MAGIC, 1, 2, 3])), /truncated KPL aggregated record: 7 bytes/);
  });

  it('rejects a corrupted MD5 digest', () => {
    const input = frame(message().bytes(1, 'k').bytes(3, record(0, 'x')).build());
    input[input.length - 1] = input[input.length - 1]! ^ 0xff;
    expectFormatError(() => deaggregate(input), /MD5 mismatch/);
  });

  it('rejects a corrupted body (digest no longer matches)', () => {
    const input = frame(message().bytes(1, 'k').bytes(3, record(0, 'x')).build());
    input[6] = input[6]! ^ 0x01;
    expectFormatError(() => deaggregate(input), /MD5 mismatch/);
  });

  it('rejects a truncated protobuf message even with a matching digest', () => {
    const full = message().bytes(1, 'key').bytes(3, record(0, 'some data')).build();
    const tableEntryLength = 5; // 0a 03 'key': cutting right after it leaves a valid, record-less message
    for (let cut = 1; cut < full.length; cut++) {
      const input = frame(full.subarray(0, cut));
      if (cut === tableEntryLength) expect(deaggregate(input)).toEqual([]);
      else expect(() => deaggregate(input)).toThrow(KplFormatError);
    }
    expectFormatError(() => deaggregate(frame(full.subarray(0, full.length - 2))), /truncated length-delimited field/);
  });

  it('rejects a partition key index out of range', () => {
    expectFormatError(
      () => deaggregate(frame(message().bytes(1, 'a').bytes(1, 'b').bytes(3, record(0, 'ok')).bytes(3, record(5, 'x')).build())),
      /user record 1: partition_key_index 5 is out of range \(partition key table has 2 entries\)/,
    );
  });

  it('decodes 2^32+ indexes exactly (and reports them out of range)', () => {
    expectFormatError(
      () => deaggregate(frame(message().bytes(1, 'a').bytes(3, record(2 ** 32 + 1, 'x')).build())),
      /partition_key_index 4294967297 is out of range/,
    );
    expectFormatError(
      () => deaggregate(frame(message().bytes(1, 'a').bytes(3, record(0, 'x', Number.MAX_SAFE_INTEGER)).build())),
      /explicit_hash_key_index 9007199254740991 is out of range \(explicit hash key table has 0 entries\)/,
    );
  });

  it('rejects an index above 2^53', () => {
    const input = frame(message().bytes(1, 'a').bytes(3, message().raw([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]).bytes(3, 'x')).build());
    expectFormatError(() => deaggregate(input), /exceeds Number.MAX_SAFE_INTEGER/);
  });

  it('rejects records missing required fields', () => {
    expectFormatError(() => deaggregate(frame(message().bytes(1, 'a').bytes(3, record(undefined, 'x')).build())), /user record 0 .* missing required field partition_key_index/);
    expectFormatError(() => deaggregate(frame(message().bytes(1, 'a').bytes(3, record(0, undefined)).build())), /user record 0 .* missing required field data/);
  });

  it('rejects known fields with the wrong wire type and field number 0', () => {
    expectFormatError(() => deaggregate(frame(message().varint(1, 3).build())), /partition_key_table .* wire type varint, expected length-delimited/);
    expectFormatError(() => deaggregate(frame(message().bytes(1, 'a').bytes(3, message().bytes(1, 'x').bytes(3, 'x')).build())), /Record.partition_key_index/);
    expectFormatError(() => deaggregate(frame(message().raw([0x00, 0x00]).build())), /field number 0/);
    expectFormatError(() => deaggregate(frame(message().raw([0x0b]).build())), /wire type start-group/);
  });

  it('errors are named KplFormatError and are Errors', () => {
    const error = new KplFormatError('boom', { cause: 'x' });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('KplFormatError');
    expect(error.cause).toBe('x');
  });

  it('never loops or throws anything but KplFormatError on mutated input', () => {
    const protobuf = message()
      .bytes(1, 'alpha')
      .bytes(1, 'beta')
      .bytes(2, '42')
      .bytes(3, record(0, randomBytes(20)))
      .bytes(3, record(1, randomBytes(3), 0))
      .build();
    for (let round = 0; round < 3000; round++) {
      const mutated = Buffer.from(protobuf);
      const flips = 1 + (round % 4);
      for (let i = 0; i < flips; i++) mutated[Math.floor(Math.random() * mutated.length)] = Math.floor(Math.random() * 256);
      const cut = round % 3 === 0 ? Math.floor(Math.random() * mutated.length) : mutated.length;
      const input = frame(mutated.subarray(0, cut));
      try {
        for (const r of deaggregate(input)) {
          expect(r.data.byteOffset + r.data.length).toBeLessThanOrEqual(input.byteOffset + input.length - 16);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(KplFormatError);
      }
    }
  });
});
