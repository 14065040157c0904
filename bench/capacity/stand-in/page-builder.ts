import { KplAggregator } from '../../../src/kpl/aggregator';

/** Characters of a sequence number (as long as Kinesis'): `49`, the shard's index on 6 digits, zeros, the position on 20 digits. */
const SEQUENCE_DIGITS = 56;
const SHARD_DIGITS = 6;
const POSITION_DIGITS = 20;
/** Bodies of at least this many bytes are taken from (and given back to) a pool. */
const POOLED_BYTES = 256 * 1024;
const POOL_SIZE = 4;
/** `1764464361.123`: epoch seconds with milliseconds, always 14 characters until the year 2286. */
const TIMESTAMP_CHARS = 14;

/** What one record of the stand-in carries. */
export interface RecordShape {
  /** Bytes of each user record's payload. */
  readonly recordBytes: number;
  /** User records per Kinesis record: 1 = plain records, more = one KPL aggregate of that many user records. */
  readonly userRecordsPerRecord: number;
}

/** The sequence number of record `position` of shard `shardIndex` (decimal, ordered like Kinesis' within a shard). */
export function sequenceNumber(shardIndex: number, position: number): string {
  return `49${String(shardIndex).padStart(SHARD_DIGITS, '0')}${'0'.repeat(SEQUENCE_DIGITS - 2 - SHARD_DIGITS - POSITION_DIGITS)}${String(position).padStart(POSITION_DIGITS, '0')}`;
}

/** The position a sequence number of {@link sequenceNumber} stands for, or `undefined` when it is not one. */
export function positionOf(sequence: string): { shardIndex: number; position: number } | undefined {
  if (sequence.length !== SEQUENCE_DIGITS || !/^\d+$/.test(sequence)) return undefined;
  return { shardIndex: Number(sequence.slice(2, 2 + SHARD_DIGITS)), position: Number(sequence.slice(SEQUENCE_DIGITS - POSITION_DIGITS)) };
}

/** A payload of `bytes` bytes: a small JSON object padded with spaces (the same for every record). */
function payload(bytes: number): Buffer {
  const data = Buffer.alloc(bytes, 0x20);
  data.write('{"stand-in":true}');
  return data;
}

/**
 * Builds GetRecords response bodies fast: one record's JSON is rendered once as a template, with fixed-width fields
 * for its sequence number and arrival time; a page is that template copied N times (one `Buffer.copy` per page from a
 * pre-built run of templates) with the variable digits written in place. The server spends a few milliseconds per
 * 10,000-record page, so the client under test, not the server, is the bottleneck.
 */
export class PageBuilder {
  /** Bytes of one record's `Data` (an aggregate's size when records are aggregated). */
  readonly dataBytes: number;
  private readonly template: Buffer;
  private readonly recordChars: number;
  private readonly sequenceOffset: number;
  private readonly timestampOffset: number;
  private readonly run: Buffer;
  private readonly pool: Buffer[] = [];
  private readonly pooledCapacity: number;

  /** @param maxRecords the most records a page holds (the run of templates is pre-built for that many). */
  constructor(
    shape: RecordShape,
    readonly maxRecords: number,
  ) {
    const data = shape.userRecordsPerRecord <= 1 ? payload(shape.recordBytes) : aggregate(shape);
    this.dataBytes = data.length;
    const head = `{"Data":"${data.toString('base64')}","PartitionKey":"pk-0","SequenceNumber":"`;
    const middle = '","ApproximateArrivalTimestamp":';
    const text = `${head}${sequenceNumber(0, 0)}${middle}${'1'.repeat(TIMESTAMP_CHARS)}}`;
    this.template = Buffer.from(text, 'latin1');
    this.sequenceOffset = head.length;
    this.timestampOffset = head.length + SEQUENCE_DIGITS + middle.length;
    this.recordChars = this.template.length + 1; // the comma between records
    this.run = Buffer.allocUnsafe(this.recordChars * maxRecords);
    this.pooledCapacity = this.run.length + 512;
    for (let i = 0; i < maxRecords; i++) {
      this.template.copy(this.run, i * this.recordChars);
      this.run[i * this.recordChars + this.template.length] = 0x2c; // ','
    }
  }

  /** Characters of one record in a page body (with its comma). */
  get bytesPerRecord(): number {
    return this.recordChars;
  }

  /**
   * The body of a GetRecords answer with `count` records of shard `shardIndex` from `position` on, arrival times given
   * by `arrivalMs(position)`, and the iterator and lag fields.
   */
  page(shardIndex: number, position: number, count: number, arrivalMs: (position: number) => number, nextIterator: string, millisBehindLatest: number): Buffer {
    const head = Buffer.from('{"Records":[', 'latin1');
    const tail = Buffer.from(`],"NextShardIterator":"${nextIterator}","MillisBehindLatest":${Math.max(0, Math.round(millisBehindLatest))}}`, 'latin1');
    const recordsLength = this.recordsLength(count);
    const length = head.length + recordsLength + tail.length;
    // Large bodies come from a pool (fresh 10 MB buffers cost page faults on every call); see release().
    const body = length >= POOLED_BYTES ? (this.pool.pop() ?? Buffer.allocUnsafe(this.pooledCapacity)).subarray(0, length) : Buffer.allocUnsafe(length);
    head.copy(body, 0);
    this.writeRecords(body, head.length, shardIndex, position, count, arrivalMs);
    tail.copy(body, head.length + recordsLength);
    return body;
  }

  /** Bytes {@link writeRecords} writes for `count` records (commas between them, none after the last). */
  recordsLength(count: number): number {
    return count === 0 ? 0 : count * this.recordChars - 1;
  }

  /**
   * Writes `count` records of shard `shardIndex` from `position` on, as JSON objects separated by commas (the inside
   * of a `Records` array), into `target` at `offset`; returns the bytes written ({@link recordsLength}).
   */
  writeRecords(target: Buffer, offset: number, shardIndex: number, position: number, count: number, arrivalMs: (position: number) => number): number {
    const length = this.recordsLength(count);
    this.run.copy(target, offset, 0, length);
    let at = offset;
    for (let i = 0; i < count; i++) {
      writeDigits(target, at + this.sequenceOffset + 2, SHARD_DIGITS, shardIndex);
      writeDigits(target, at + this.sequenceOffset + SEQUENCE_DIGITS - POSITION_DIGITS, POSITION_DIGITS, position + i);
      // seconds.millis: 10 digits, a dot, 3 digits
      const ms = Math.round(arrivalMs(position + i));
      writeDigits(target, at + this.timestampOffset, TIMESTAMP_CHARS - 4, Math.floor(ms / 1000));
      target[at + this.timestampOffset + TIMESTAMP_CHARS - 4] = 0x2e;
      writeDigits(target, at + this.timestampOffset + TIMESTAMP_CHARS - 3, 3, ms % 1000);
      at += this.recordChars;
    }
    return length;
  }

  /** Gives a body of {@link page} back once it was sent (large ones are reused). */
  release(body: Buffer): void {
    if (body.length >= POOLED_BYTES && body.buffer.byteLength === this.pooledCapacity && this.pool.length < POOL_SIZE) {
      this.pool.push(Buffer.from(body.buffer, body.byteOffset, this.pooledCapacity));
    }
  }
}

/** Writes `value` as `width` decimal digits (zero-padded) at `offset`. */
function writeDigits(target: Buffer, offset: number, width: number, value: number): void {
  let rest = value;
  for (let i = offset + width - 1; i >= offset; i--) {
    target[i] = 0x30 + (rest % 10);
    rest = Math.floor(rest / 10);
  }
}

/** One KPL aggregate of `userRecordsPerRecord` user records of `recordBytes` each (partition keys `pk-0`…). */
function aggregate(shape: RecordShape): Buffer {
  const aggregator = new KplAggregator({ maxBytes: 1_048_000 });
  for (let i = 0; i < shape.userRecordsPerRecord; i++) {
    if (aggregator.add({ partitionKey: `pk-${i % 16}`, data: payload(shape.recordBytes) }) !== undefined) {
      throw new RangeError(`${shape.userRecordsPerRecord} user records of ${shape.recordBytes} bytes do not fit in one aggregate of 1 MB`);
    }
  }
  const whole = aggregator.flush();
  if (whole === undefined) throw new RangeError('an aggregate needs at least one user record');
  return whole.data;
}
