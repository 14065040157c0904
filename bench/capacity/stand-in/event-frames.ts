import { crc32 } from 'node:zlib';
import { type PageBuilder } from './page-builder';

/** Bytes of an event-stream message's prelude (total length, headers length, prelude CRC) and of its trailing CRC. */
const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
/** Header value type 7: a string (2-byte length, then UTF-8). */
const STRING_TYPE = 7;

/** The headers block of an event-stream message, every value a string. */
function encodeHeaders(headers: Readonly<Record<string, string>>): Buffer {
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(headers)) {
    const nameBytes = Buffer.from(name, 'utf8');
    const valueBytes = Buffer.from(value, 'utf8');
    const head = Buffer.alloc(1 + nameBytes.length + 3);
    head[0] = nameBytes.length;
    nameBytes.copy(head, 1);
    head[1 + nameBytes.length] = STRING_TYPE;
    head.writeUInt16BE(valueBytes.length, 2 + nameBytes.length);
    parts.push(head, valueBytes);
  }
  return Buffer.concat(parts);
}

/** Writes the prelude for a message of `total` bytes at offset 0 and the message CRC at its end (`target` holds the whole message). */
function seal(target: Buffer, total: number, headersLength: number): void {
  target.writeUInt32BE(total, 0);
  target.writeUInt32BE(headersLength, 4);
  target.writeUInt32BE(crc32(target.subarray(0, 8)), 8);
  target.writeUInt32BE(crc32(target.subarray(0, total - CRC_BYTES)), total - CRC_BYTES);
}

/** One whole event-stream message (prelude, string headers, payload, CRCs), as the AWS event-stream encoding frames it. */
export function eventStreamMessage(headers: Readonly<Record<string, string>>, payload: Buffer): Buffer {
  const head = encodeHeaders(headers);
  const total = PRELUDE_BYTES + head.length + payload.length + CRC_BYTES;
  const message = Buffer.allocUnsafe(total);
  head.copy(message, PRELUDE_BYTES);
  payload.copy(message, PRELUDE_BYTES + head.length);
  seal(message, total, head.length);
  return message;
}

/** The first message of a SubscribeToShard stream: `initial-response` with an empty JSON object. */
export function initialResponse(): Buffer {
  return eventStreamMessage({ ':message-type': 'event', ':event-type': 'initial-response', ':content-type': 'application/json' }, Buffer.from('{}'));
}

/** An exception message (`:message-type exception`): the SDK throws it as that exception class. */
export function exceptionMessage(type: string, message: string): Buffer {
  return eventStreamMessage({ ':message-type': 'exception', ':exception-type': type, ':content-type': 'application/json' }, Buffer.from(JSON.stringify({ message })));
}

const EVENT_HEADERS = encodeHeaders({ ':message-type': 'event', ':event-type': 'SubscribeToShardEvent', ':content-type': 'application/json' });
const RECORDS_HEAD = Buffer.from('{"Records":[', 'latin1');
/** Room for `],"ContinuationSequenceNumber":"<56 digits>","MillisBehindLatest":<digits>}`. */
const TAIL_ROOM = 160;

/**
 * Builds SubscribeToShardEvent messages fast: the records' JSON comes from the {@link PageBuilder}'s pre-built run of
 * record templates, written straight into a message buffer taken from a pool (given back with {@link release} once
 * the socket has taken it), and the CRCs are zlib's native CRC-32 (the event-stream checksum is the same CRC-32).
 */
export class SubscribeEventBuilder {
  private readonly pool: Buffer[] = [];
  private readonly capacity: number;

  /** @param maxRecords the most records one event carries (the pooled buffers are sized for that). */
  constructor(
    private readonly pages: PageBuilder,
    readonly maxRecords: number,
  ) {
    this.capacity = PRELUDE_BYTES + EVENT_HEADERS.length + RECORDS_HEAD.length + pages.recordsLength(maxRecords) + TAIL_ROOM + CRC_BYTES;
  }

  /** Buffers in the pool now (each {@link event} takes one, {@link release} gives it back). */
  get pooled(): number {
    return this.pool.length;
  }

  /**
   * The message of one event: `count` records of shard `shardIndex` from `position` on (arrival times by
   * `arrivalMs`), its ContinuationSequenceNumber and MillisBehindLatest.
   */
  event(shardIndex: number, position: number, count: number, arrivalMs: (position: number) => number, continuation: string, millisBehindLatest: number): Buffer {
    if (count > this.maxRecords) throw new RangeError(`an event carries at most ${this.maxRecords} records, not ${count}`);
    const target = this.pool.pop() ?? Buffer.allocUnsafeSlow(this.capacity);
    let at = PRELUDE_BYTES;
    at += EVENT_HEADERS.copy(target, at);
    at += RECORDS_HEAD.copy(target, at);
    at += this.pages.writeRecords(target, at, shardIndex, position, count, arrivalMs);
    at += target.write(`],"ContinuationSequenceNumber":"${continuation}","MillisBehindLatest":${Math.max(0, Math.round(millisBehindLatest))}}`, at, 'latin1');
    const total = at + CRC_BYTES;
    seal(target, total, EVENT_HEADERS.length);
    return target.subarray(0, total);
  }

  /** Gives back a message of {@link event} once written out (never one still queued on a socket). */
  release(message: Buffer): void {
    if (message.buffer.byteLength === this.capacity && message.byteOffset === 0) {
      this.pool.push(Buffer.from(message.buffer, 0, this.capacity));
    }
  }
}
