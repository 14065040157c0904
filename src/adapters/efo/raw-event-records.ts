import { type SubscribeToShardCommand } from '@aws-sdk/client-kinesis';
import { pipeline, Readable, Transform, type TransformCallback } from 'node:stream';
import * as zlib from 'node:zlib';
import { type WireRecord } from '../polling/record-converter';
import { jsonText } from '../polling/json-text';

/** Bytes of an event-stream message's prelude (total length, headers length, prelude CRC) and of its trailing CRC. */
const PRELUDE_BYTES = 12;
const CRC_BYTES = 4;
/** Bytes of a header value of each type after the type byte (strings and byte arrays: a 2-byte length, then that). */
const FIXED_VALUE_BYTES: Readonly<Record<number, number>> = { 0: 0, 1: 0, 2: 1, 3: 2, 4: 4, 5: 8, 8: 8, 9: 16 };

/** zlib's native CRC-32 (Node 20.15 and later); without it the SDK decodes the records itself. */
const crc32: ((data: Uint8Array, value?: number) => number) | undefined = (zlib as { crc32?: (data: Uint8Array, value?: number) => number }).crc32;

interface RawWireRecord {
  Data?: string;
  PartitionKey?: string;
  SequenceNumber?: string;
  ApproximateArrivalTimestamp?: number;
}

interface HttpResponseLike {
  statusCode?: number;
  body?: unknown;
}

/**
 * The records of a subscription's events, taken out of each SubscribeToShardEvent message before the SDK decodes it:
 * the SDK would check every record's base64 with a regular expression, decode it and walk its schema (about a third
 * of a fan-out reader's CPU at full rate). A middleware just inside the SDK's deserializer passes the response body
 * through a transform that, for each event message, checks its CRCs, parses its JSON, keeps the `Records` (payloads
 * stay base64 text until a handler reads them), and hands the SDK the same message with `"Records":[]` (new CRCs);
 * every other message (initial-response, exceptions) passes unchanged. The SDK yields the events in order, so the
 * n-th event it yields takes the n-th records kept here ({@link take}).
 *
 * Backpressure holds: the transform handles one message at a time and its output buffer is one message, so an
 * unread stream still stops the reading (HTTP/2 flow control or the TCP window).
 */
export class RawEventRecords {
  private readonly kept: WireRecord[][] = [];

  /** Adds the middleware to `command` (a no-op without zlib's CRC-32: the SDK's records are used then). */
  install(command: SubscribeToShardCommand): void {
    if (crc32 === undefined) return;
    command.middlewareStack.add(
      (next) => async (args) => {
        const result = await next(args);
        const response = result.response as HttpResponseLike;
        if (response.statusCode !== 200 || !(response.body instanceof Readable)) return result;
        const splitter = new RecordsSplitter(crc32, (records) => this.kept.push(records));
        response.body = pipeline(response.body, splitter, () => undefined);
        return result;
      },
      { step: 'deserialize', name: 'shardlineRawSubscribeRecords', priority: 'low' },
    );
  }

  /**
   * The records of the next event the SDK yields: those kept here, or `sdkRecords` when none is kept (the middleware
   * did not run, or the splitter passed the rest of the stream unchanged and the SDK decoded the records itself).
   */
  take(sdkRecords: readonly WireRecord[] | undefined): readonly WireRecord[] {
    return this.kept.shift() ?? sdkRecords ?? [];
  }
}

/** Splits an event-stream body into messages and takes the records out of SubscribeToShardEvent messages. */
export class RecordsSplitter extends Transform {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Set on a message it cannot frame or whose headers it cannot read: from then on everything passes unchanged (the SDK decodes it all). */
  private passThrough = false;

  constructor(
    private readonly crc: (data: Uint8Array, value?: number) => number,
    private readonly keep: (records: WireRecord[]) => void,
  ) {
    super({ readableHighWaterMark: 1 });
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.passThrough) {
      this.push(chunk);
      callback();
      return;
    }
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < PRELUDE_BYTES) break;
      const head = this.chunks[0] !== undefined && this.chunks[0].length >= 4 ? this.chunks[0] : this.flatten();
      const total = head.readUInt32BE(0);
      if (total < PRELUDE_BYTES + CRC_BYTES) {
        // Not an event stream the splitter understands: pass the rest through as it is, the SDK reports it.
        this.passThrough = true;
        this.push(this.flatten());
        this.chunks = [];
        this.buffered = 0;
        break;
      }
      if (this.buffered < total) break;
      const whole = this.flatten();
      const message = whole.subarray(0, total);
      const rest = whole.subarray(total);
      this.chunks = rest.length > 0 ? [rest] : [];
      this.buffered = rest.length;
      this.push(this.rewrite(message));
      if (this.passThrough) {
        // From the message it could not read on, everything goes to the SDK as it came (records stay paired in order).
        if (this.buffered > 0) this.push(this.flatten());
        this.chunks = [];
        this.buffered = 0;
        break;
      }
    }
    callback();
  }

  override _flush(callback: TransformCallback): void {
    if (this.buffered > 0) this.push(this.flatten());
    callback();
  }

  private flatten(): Buffer {
    const whole = this.chunks.length === 1 ? (this.chunks[0] as Buffer) : Buffer.concat(this.chunks, this.buffered);
    this.chunks = [whole];
    return whole;
  }

  /** The message with its records taken out, or unchanged when it is not a SubscribeToShardEvent (or fails a check). */
  private rewrite(message: Buffer): Buffer {
    const total = message.length;
    const headersLength = message.readUInt32BE(4);
    // A message that fails a check passes unchanged and the SDK throws on it (the stream ends there).
    if (PRELUDE_BYTES + headersLength + CRC_BYTES > total) return message;
    if (this.crc(message.subarray(0, 8)) !== message.readUInt32BE(8)) return message;
    if (this.crc(message.subarray(0, total - CRC_BYTES)) !== message.readUInt32BE(total - CRC_BYTES)) return message;
    const headers = readStringHeaders(message.subarray(PRELUDE_BYTES, PRELUDE_BYTES + headersLength));
    if (headers === undefined) {
      // Headers this reader cannot read (the SDK may): stop taking records out, so that the records kept so far and
      // the SDK's events stay paired in order.
      this.passThrough = true;
      return message;
    }
    if (headers[':message-type'] !== 'event' || headers[':event-type'] !== 'SubscribeToShardEvent') return message;
    let parsed: unknown;
    try {
      parsed = JSON.parse(jsonText(message.subarray(PRELUDE_BYTES + headersLength, total - CRC_BYTES)));
    } catch {
      return message; // the SDK reports the bad body
    }
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) return message; // not an event body: the SDK reports it
    const body = parsed as { Records?: RawWireRecord[] };
    const raw = Array.isArray(body.Records) ? body.Records : [];
    body.Records = [];
    const payload = Buffer.from(JSON.stringify(body), 'utf8');
    const out = Buffer.allocUnsafe(PRELUDE_BYTES + headersLength + payload.length + CRC_BYTES);
    out.writeUInt32BE(out.length, 0);
    out.writeUInt32BE(headersLength, 4);
    out.writeUInt32BE(this.crc(out.subarray(0, 8)), 8);
    message.copy(out, PRELUDE_BYTES, PRELUDE_BYTES, PRELUDE_BYTES + headersLength);
    payload.copy(out, PRELUDE_BYTES + headersLength);
    out.writeUInt32BE(this.crc(out.subarray(0, out.length - CRC_BYTES)), out.length - CRC_BYTES);
    // The parsed objects become the wire records in place: arrival times from epoch seconds to ms, Data base64 text.
    for (const r of raw) {
      if (typeof r.ApproximateArrivalTimestamp === 'number') r.ApproximateArrivalTimestamp *= 1000;
      r.Data ??= '';
    }
    this.keep(raw);
    return out;
  }
}

/** The string headers of an event-stream message (other types skipped), or `undefined` when the block is malformed. */
function readStringHeaders(block: Buffer): Record<string, string> | undefined {
  const headers: Record<string, string> = {};
  let at = 0;
  while (at < block.length) {
    const nameLength = block[at] ?? 0;
    const name = block.toString('utf8', at + 1, at + 1 + nameLength);
    at += 1 + nameLength;
    const type = block[at];
    at += 1;
    if (type === undefined) return undefined;
    if (type === 6 || type === 7) {
      if (at + 2 > block.length) return undefined;
      const length = block.readUInt16BE(at);
      if (type === 7) headers[name] = block.toString('utf8', at + 2, at + 2 + length);
      at += 2 + length;
    } else {
      const size = FIXED_VALUE_BYTES[type];
      if (size === undefined) return undefined;
      at += size;
    }
  }
  return at === block.length ? headers : undefined;
}
