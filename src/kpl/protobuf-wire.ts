import { KplFormatError } from './kpl-format-error';
import { WIRE_TYPE_FIXED32, WIRE_TYPE_FIXED64, WIRE_TYPE_LENGTH_DELIMITED, WIRE_TYPE_VARINT } from './kpl-format';

/** Longest legal varint encoding (a full 64-bit value). */
const MAX_VARINT_BYTES = 10;

/**
 * Writes `value` as a protobuf varint into `buf` at `pos`.
 *
 * This is the unchecked hot-path primitive: `value` must be a non-negative safe integer and
 * the buffer must have room for {@link varintSize}`(value)` bytes (see {@link ProtobufWriter}
 * for a checked variant).
 *
 * @param buf - destination buffer
 * @param pos - offset of the first byte to write
 * @param value - non-negative integer up to `Number.MAX_SAFE_INTEGER`
 * @returns the offset just past the written varint
 */
export function writeVarint(buf: Buffer, pos: number, value: number): number {
  // 32-bit fast path: bit operations are exact below 2^31.
  if (value < 0x80000000) {
    while (value >= 0x80) {
      buf[pos++] = (value & 0x7f) | 0x80;
      value >>>= 7;
    }
    buf[pos++] = value;
    return pos;
  }
  while (value >= 0x80) {
    buf[pos++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  buf[pos++] = value;
  return pos;
}

/**
 * Sequential protobuf writer over a preallocated buffer, with bounds and value checks.
 * The caller computes sizes in advance (see `kpl-format.ts`) and allocates exactly once.
 */
export class ProtobufWriter {
  private pos: number;

  /**
   * @param buf - destination buffer, allocated by the caller
   * @param offset - offset at which writing starts
   */
  constructor(
    private readonly buf: Buffer,
    offset = 0,
  ) {
    this.pos = offset;
  }

  /** Offset of the next byte to be written. */
  get offset(): number {
    return this.pos;
  }

  /**
   * Writes one raw byte (typically a field tag).
   *
   * @param byte - value between 0 and 255
   */
  writeByte(byte: number): this {
    this.ensure(1);
    this.buf[this.pos++] = byte;
    return this;
  }

  /**
   * Writes a field tag.
   *
   * @param fieldNumber - protobuf field number (at least 1)
   * @param wireType - protobuf wire type (0-5)
   */
  writeTag(fieldNumber: number, wireType: number): this {
    if (!Number.isSafeInteger(fieldNumber) || fieldNumber < 1 || fieldNumber > 0x1fffffff) {
      throw new RangeError(`invalid protobuf field number ${fieldNumber}`);
    }
    return this.writeVarint(fieldNumber * 8 + wireType);
  }

  /**
   * Writes a uint64 varint.
   *
   * @param value - non-negative integer up to `Number.MAX_SAFE_INTEGER`
   */
  writeVarint(value: number): this {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new RangeError(`varint value must be a non-negative safe integer, got ${value}`);
    }
    this.ensure(varintByteLength(value));
    this.pos = writeVarint(this.buf, this.pos, value);
    return this;
  }

  /**
   * Writes a length-delimited payload (length prefix followed by the bytes).
   *
   * @param data - payload bytes
   */
  writeBytes(data: Uint8Array): this {
    this.writeVarint(data.length);
    this.ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
    return this;
  }

  /**
   * Writes a length-delimited UTF-8 string.
   *
   * @param value - string to encode
   * @param byteLength - its UTF-8 length when already known (saves a second scan)
   */
  writeString(value: string, byteLength: number = Buffer.byteLength(value, 'utf8')): this {
    this.writeVarint(byteLength);
    this.ensure(byteLength);
    const written = this.buf.write(value, this.pos, byteLength, 'utf8');
    if (written !== byteLength) {
      throw new RangeError(`string encoded to ${written} bytes, expected ${byteLength}`);
    }
    this.pos += byteLength;
    return this;
  }

  private ensure(bytes: number): void {
    if (this.pos + bytes > this.buf.length) {
      throw new RangeError(`protobuf writer overflow: need ${bytes} bytes at offset ${this.pos}, buffer is ${this.buf.length} bytes`);
    }
  }
}

function varintByteLength(value: number): number {
  let size = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/**
 * Sequential protobuf reader over a window `[start, end)` of a buffer.
 *
 * Every read is bounds checked against the window; malformed input (truncated varints or
 * payloads, varints longer than 10 bytes, values above `Number.MAX_SAFE_INTEGER`, group wire
 * types) raises {@link KplFormatError}. Offsets in error messages are relative to the start of
 * the underlying buffer. Each read consumes at least one byte, so a loop of reads always terminates.
 */
export class ProtobufReader {
  private pos: number;
  private end: number;

  /**
   * @param buf - buffer to read from
   * @param start - offset of the first byte of the window
   * @param end - offset just past the last byte of the window
   */
  constructor(
    private readonly buf: Buffer,
    start = 0,
    end: number = buf.length,
  ) {
    if (start < 0 || end > buf.length || start > end) {
      throw new RangeError(`invalid reader window [${start}, ${end}) for a buffer of ${buf.length} bytes`);
    }
    this.pos = start;
    this.end = end;
  }

  /** Offset of the next byte to be read. */
  get offset(): number {
    return this.pos;
  }

  /** Offset just past the end of the current window. */
  get limit(): number {
    return this.end;
  }

  /** Whether the whole window has been consumed. */
  get done(): boolean {
    return this.pos >= this.end;
  }

  /**
   * Moves the reader to a new window of the same buffer (lets one reader walk many nested
   * messages without allocating).
   *
   * @param start - offset of the first byte of the window
   * @param end - offset just past the last byte of the window
   */
  reset(start: number, end: number): void {
    if (start < 0 || end > this.buf.length || start > end) {
      throw new RangeError(`invalid reader window [${start}, ${end}) for a buffer of ${this.buf.length} bytes`);
    }
    this.pos = start;
    this.end = end;
  }

  /**
   * Moves the read position within the current window (e.g. past a payload located with
   * {@link ProtobufReader.readLengthPrefix}).
   *
   * @param offset - new read position, between the current position and the window end
   */
  seek(offset: number): void {
    if (offset < this.pos || offset > this.end) {
      throw new RangeError(`cannot seek to offset ${offset}: outside [${this.pos}, ${this.end}]`);
    }
    this.pos = offset;
  }

  /**
   * Reads a uint64 varint.
   *
   * @returns the decoded value, guaranteed to be a safe integer
   * @throws KplFormatError if the varint is truncated, longer than 10 bytes or above 2^53 - 1
   */
  readVarint(): number {
    const buf = this.buf;
    const end = this.end;
    const start = this.pos;
    let pos = start;
    if (pos >= end) throw new KplFormatError(`truncated varint at offset ${start}`);
    let byte = buf[pos++]!;
    if (byte < 0x80) {
      this.pos = pos;
      return byte;
    }
    let value = byte & 0x7f;
    let multiplier = 0x80;
    for (let i = 1; i < MAX_VARINT_BYTES; i++) {
      if (pos >= end) throw new KplFormatError(`truncated varint at offset ${start}`);
      byte = buf[pos++]!;
      // Each term is exact; the sum is exact while below 2^53 and rounds monotonically above it.
      value += (byte & 0x7f) * multiplier;
      if (byte < 0x80) {
        if (value > Number.MAX_SAFE_INTEGER) {
          throw new KplFormatError(`varint at offset ${start} exceeds Number.MAX_SAFE_INTEGER`);
        }
        this.pos = pos;
        return value;
      }
      multiplier *= 0x80;
    }
    throw new KplFormatError(`malformed varint at offset ${start}: longer than ${MAX_VARINT_BYTES} bytes`);
  }

  /**
   * Reads the length prefix of a length-delimited field and checks the payload fits in the window.
   *
   * @returns the offset just past the payload; the reader is left at the payload start
   * @throws KplFormatError if the payload runs past the end of the window
   */
  readLengthPrefix(): number {
    const at = this.pos;
    const length = this.readVarint();
    const payloadEnd = this.pos + length;
    if (payloadEnd > this.end) {
      throw new KplFormatError(
        `truncated length-delimited field at offset ${at}: declares ${length} bytes, only ${this.end - this.pos} remain`,
      );
    }
    return payloadEnd;
  }

  /**
   * Reads a length-delimited payload as a zero-copy view of the underlying buffer.
   */
  readBytes(): Buffer {
    const payloadEnd = this.readLengthPrefix();
    const payloadStart = this.pos;
    this.pos = payloadEnd;
    return this.buf.subarray(payloadStart, payloadEnd);
  }

  /**
   * Reads a length-delimited payload and decodes it as UTF-8.
   */
  readString(): string {
    const payloadEnd = this.readLengthPrefix();
    const value = this.buf.toString('utf8', this.pos, payloadEnd);
    this.pos = payloadEnd;
    return value;
  }

  /**
   * Skips over the value of a field of the given wire type (for unknown or ignored fields).
   *
   * @param wireType - wire type taken from the field's tag
   * @throws KplFormatError for group wire types (3, 4), unknown wire types, or truncation
   */
  skipField(wireType: number): void {
    switch (wireType) {
      case WIRE_TYPE_VARINT:
        this.skipVarint();
        return;
      case WIRE_TYPE_FIXED64:
        this.skipRaw(8);
        return;
      case WIRE_TYPE_LENGTH_DELIMITED:
        this.pos = this.readLengthPrefix();
        return;
      case WIRE_TYPE_FIXED32:
        this.skipRaw(4);
        return;
      default:
        throw new KplFormatError(`unsupported protobuf wire type ${wireType} before offset ${this.pos}`);
    }
  }

  /** Skips a varint of any magnitude (up to 10 bytes) without decoding it. */
  private skipVarint(): void {
    const start = this.pos;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) throw new KplFormatError(`truncated varint at offset ${start}`);
      if (this.buf[this.pos++]! < 0x80) return;
    }
    throw new KplFormatError(`malformed varint at offset ${start}: longer than ${MAX_VARINT_BYTES} bytes`);
  }

  private skipRaw(bytes: number): void {
    if (this.pos + bytes > this.end) {
      throw new KplFormatError(`truncated fixed-width field at offset ${this.pos}: needs ${bytes} bytes`);
    }
    this.pos += bytes;
  }
}
