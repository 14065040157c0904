import { randomBytes } from 'node:crypto';
import { KplFormatError } from '../../../src/kpl/kpl-format-error';
import { varintSize } from '../../../src/kpl/kpl-format';
import { ProtobufReader, ProtobufWriter, writeVarint } from '../../../src/kpl/protobuf-wire';

const TWO_POW_32 = 2 ** 32;

function encodeVarint(value: number): Buffer {
  const buf = Buffer.alloc(10);
  return buf.subarray(0, writeVarint(buf, 0, value));
}

describe('writeVarint / ProtobufReader.readVarint', () => {
  const values = [
    0, 1, 127, 128, 255, 300, 16_383, 16_384, 2_097_151, 2_097_152, 268_435_455, 268_435_456, 2 ** 31 - 1, 2 ** 31,
    TWO_POW_32 - 1, TWO_POW_32, TWO_POW_32 + 1, TWO_POW_32 + 12_345, 2 ** 35 - 1, 2 ** 35, 2 ** 42, 2 ** 49 - 1, 2 ** 49,
    2 ** 52 + 3, Number.MAX_SAFE_INTEGER,
  ];

  it.each(values)('round-trips %d with the size predicted by varintSize', (value) => {
    const encoded = encodeVarint(value);
    expect(encoded.length).toBe(varintSize(value));
    const reader = new ProtobufReader(encoded);
    expect(reader.readVarint()).toBe(value);
    expect(reader.done).toBe(true);
  });

  it('produces the canonical protobuf encoding', () => {
    expect(encodeVarint(0).toString('hex')).toBe('00');
    expect(encodeVarint(300).toString('hex')).toBe('ac02');
    expect(encodeVarint(TWO_POW_32).toString('hex')).toBe('8080808010');
    expect(encodeVarint(TWO_POW_32 + 1).toString('hex')).toBe('8180808010');
    expect(encodeVarint(Number.MAX_SAFE_INTEGER).toString('hex')).toBe('ffffffffffffff0f');
  });

  it('accepts non-canonical (zero padded) varints', () => {
    expect(new ProtobufReader(Buffer.from([0x81, 0x80, 0x80, 0x00])).readVarint()).toBe(1);
  });

  it('rejects a truncated varint', () => {
    expect(() => new ProtobufReader(Buffer.from([0x80])).readVarint()).toThrow(/truncated varint at offset 0/);
    expect(() => new ProtobufReader(Buffer.alloc(0)).readVarint()).toThrow(KplFormatError);
    // The window end is honoured even if the buffer continues.
    expect(() => new ProtobufReader(Buffer.from([0x80, 0x01]), 0, 1).readVarint()).toThrow(/truncated/);
  });

  it('rejects a varint longer than 10 bytes', () => {
    const bytes = Buffer.from([...Array<number>(10).fill(0x80), 0x00]);
    expect(() => new ProtobufReader(bytes).readVarint()).toThrow(/longer than 10 bytes/);
  });

  it('rejects values above Number.MAX_SAFE_INTEGER', () => {
    // 2^53
    expect(() => new ProtobufReader(Buffer.from('8080808080808010', 'hex')).readVarint()).toThrow(/exceeds Number.MAX_SAFE_INTEGER/);
    // 2^64 - 1
    expect(() => new ProtobufReader(Buffer.from('ffffffffffffffffff01', 'hex')).readVarint()).toThrow(KplFormatError);
    // int64 -1 as written by protobuf encoders
    expect(() => new ProtobufReader(Buffer.from('ffffffffffffffffff01', 'hex')).readVarint()).toThrow(/MAX_SAFE_INTEGER/);
  });
});

describe('ProtobufReader', () => {
  it('reads strings and zero-copy bytes', () => {
    const buf = Buffer.from([0x03, 0x61, 0x62, 0x63, 0x02, 0x00, 0xff]);
    const reader = new ProtobufReader(buf);
    expect(reader.readString()).toBe('abc');
    const bytes = reader.readBytes();
    expect([...bytes]).toEqual([0x00, 0xff]);
    expect(bytes.buffer).toBe(buf.buffer);
    expect(bytes.byteOffset).toBe(buf.byteOffset + 5);
    expect(reader.done).toBe(true);
  });

  it('rejects a length prefix that runs past the window', () => {
    const reader = new ProtobufReader(Buffer.from([0x05, 0x61, 0x62]));
    expect(() => reader.readBytes()).toThrow(/truncated length-delimited field at offset 0: declares 5 bytes, only 2 remain/);
    expect(() => new ProtobufReader(Buffer.from([0x02, 0x61, 0x62]), 0, 2).readString()).toThrow(KplFormatError);
  });

  it('rejects an enormous declared length without reading out of bounds', () => {
    const reader = new ProtobufReader(Buffer.from('ffffffffffffff0f00', 'hex'));
    expect(() => reader.readLengthPrefix()).toThrow(/truncated length-delimited field/);
  });

  it('skips fields of every supported wire type', () => {
    const buf = Buffer.concat([
      Buffer.from('ffffffffffffffffff01', 'hex'), // varint (any magnitude)
      Buffer.alloc(8), // fixed64
      Buffer.from([0x02, 0x01, 0x02]), // length-delimited
      Buffer.alloc(4), // fixed32
    ]);
    const reader = new ProtobufReader(buf);
    reader.skipField(0);
    expect(reader.offset).toBe(10);
    reader.skipField(1);
    expect(reader.offset).toBe(18);
    reader.skipField(2);
    expect(reader.offset).toBe(21);
    reader.skipField(5);
    expect(reader.done).toBe(true);
  });

  it('rejects group wire types, unknown wire types and truncated fixed fields', () => {
    expect(() => new ProtobufReader(Buffer.alloc(4)).skipField(3)).toThrow(/unsupported protobuf wire type 3/);
    expect(() => new ProtobufReader(Buffer.alloc(4)).skipField(4)).toThrow(KplFormatError);
    expect(() => new ProtobufReader(Buffer.alloc(4)).skipField(7)).toThrow(KplFormatError);
    expect(() => new ProtobufReader(Buffer.alloc(7)).skipField(1)).toThrow(/truncated fixed-width field/);
    expect(() => new ProtobufReader(Buffer.alloc(3)).skipField(5)).toThrow(/truncated fixed-width field/);
    expect(() => new ProtobufReader(Buffer.from([0x80, 0x80])).skipField(0)).toThrow(/truncated varint/);
    expect(() => new ProtobufReader(Buffer.alloc(11, 0x80)).skipField(0)).toThrow(/longer than 10 bytes/);
  });

  it('validates windows and seeks', () => {
    expect(() => new ProtobufReader(Buffer.alloc(2), 0, 3)).toThrow(RangeError);
    expect(() => new ProtobufReader(Buffer.alloc(2), 2, 1)).toThrow(RangeError);
    const reader = new ProtobufReader(Buffer.from([0x01, 0x02, 0x03]));
    reader.reset(1, 3);
    expect(reader.readVarint()).toBe(2);
    expect(() => reader.seek(4)).toThrow(RangeError);
    expect(() => reader.seek(0)).toThrow(RangeError);
    reader.seek(3);
    expect(reader.done).toBe(true);
  });

  it('always terminates with a value or a KplFormatError on random input', () => {
    for (let round = 0; round < 2000; round++) {
      const buf = randomBytes(1 + (round % 40));
      const reader = new ProtobufReader(buf);
      let steps = 0;
      try {
        while (!reader.done) {
          const tag = reader.readVarint();
          reader.skipField(tag % 8);
          steps++;
          expect(steps).toBeLessThanOrEqual(buf.length);
        }
      } catch (error) {
        expect(error).toBeInstanceOf(KplFormatError);
      }
      expect(reader.offset).toBeLessThanOrEqual(buf.length);
    }
  });
});

describe('ProtobufWriter', () => {
  it('writes tags, varints, strings and bytes', () => {
    const buf = Buffer.alloc(32);
    const writer = new ProtobufWriter(buf, 2)
      .writeTag(1, 2)
      .writeString('hé')
      .writeTag(2, 0)
      .writeVarint(TWO_POW_32)
      .writeByte(0x1a)
      .writeBytes(Buffer.from([0, 1]));
    expect(buf.subarray(2, writer.offset).toString('hex')).toBe('0a0368c3a91080808080101a020001');
  });

  it('throws RangeError instead of writing out of bounds', () => {
    expect(() => new ProtobufWriter(Buffer.alloc(2)).writeBytes(Buffer.alloc(2))).toThrow(RangeError);
    expect(() => new ProtobufWriter(Buffer.alloc(4)).writeString('hello')).toThrow(RangeError);
    expect(() => new ProtobufWriter(Buffer.alloc(0)).writeByte(1)).toThrow(RangeError);
    expect(() => new ProtobufWriter(Buffer.alloc(4)).writeVarint(TWO_POW_32)).toThrow(RangeError);
  });

  it('rejects values that are not non-negative safe integers', () => {
    const writer = new ProtobufWriter(Buffer.alloc(16));
    expect(() => writer.writeVarint(-1)).toThrow(RangeError);
    expect(() => writer.writeVarint(1.5)).toThrow(RangeError);
    expect(() => writer.writeVarint(2 ** 53)).toThrow(RangeError);
    expect(() => writer.writeTag(0, 0)).toThrow(RangeError);
  });
});
