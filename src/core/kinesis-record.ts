import { RecordDecodeError } from './errors';
import { type CheckpointPosition } from './checkpoint-position';

/** What an adapter knows about a record when it creates a {@link KinesisRecord}. */
export interface KinesisRecordInit {
  /** The payload, as bytes or as the base64 text the wire carried (decoded lazily, on first access to `data`). */
  readonly data: Buffer | string;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber?: number;
  readonly approximateArrivalTimestamp?: Date | number;
  readonly shardId: string;
  readonly explicitHashKey?: string;
}

const BASE64_PAD = 61; // '='

/**
 * One Kinesis record as a handler sees it. The payload is decoded from base64 only when `data`, `text()` or `json()`
 * is first called, so a handler that never reads it (counting records, say) never pays for the decoding.
 */
export class KinesisRecord implements CheckpointPosition {
  readonly partitionKey: string;
  /** The record's sequence number: a decimal string of up to 128 bits, never a number. */
  readonly sequenceNumber: string;
  /** Position inside a KPL aggregate (0 for records that were not aggregated). */
  readonly subSequenceNumber: number;
  readonly shardId: string;
  readonly explicitHashKey: string | undefined;
  private readonly arrival: Date | number | undefined;
  private raw: Buffer | string;

  constructor(init: KinesisRecordInit) {
    this.raw = init.data;
    this.partitionKey = init.partitionKey;
    this.sequenceNumber = init.sequenceNumber;
    this.subSequenceNumber = init.subSequenceNumber ?? 0;
    this.arrival = init.approximateArrivalTimestamp;
    this.shardId = init.shardId;
    this.explicitHashKey = init.explicitHashKey;
  }

  /** When Kinesis accepted the record (the epoch when the adapter did not know it). */
  get approximateArrivalTimestamp(): Date {
    const value = this.arrival;
    return value instanceof Date ? value : new Date(value ?? 0);
  }

  /**
   * The payload bytes.
   * @throws RecordDecodeError when the wire text is not valid base64.
   */
  get data(): Buffer {
    const raw = this.raw;
    if (typeof raw !== 'string') return raw;
    const decoded = decodeBase64Strict(raw, this);
    this.raw = decoded;
    return decoded;
  }

  /** The payload's size in bytes, without decoding it (computed from the base64 length while it is still encoded). */
  get byteLength(): number {
    const raw = this.raw;
    if (typeof raw !== 'string') return raw.length;
    const padding = raw.endsWith('==') ? 2 : raw.endsWith('=') ? 1 : 0;
    return Math.max(0, Math.floor((raw.length * 3) / 4) - padding);
  }

  /** The payload as text (UTF-8 unless told otherwise). */
  text(encoding: BufferEncoding = 'utf8'): string {
    return this.data.toString(encoding);
  }

  /**
   * The payload parsed as JSON.
   * @throws RecordDecodeError naming the record when the payload is not JSON.
   */
  json<T = unknown>(): T {
    const text = this.text();
    try {
      return JSON.parse(text) as T;
    } catch (cause) {
      throw new RecordDecodeError(
        `record ${this.sequenceNumber} of ${this.shardId} is not JSON (${(cause as Error).message}); decode it as 'text' or 'buffer' instead`,
        { cause },
      );
    }
  }

  /** The record's position, for a checkpoint. */
  get position(): CheckpointPosition {
    return { sequenceNumber: this.sequenceNumber, subSequenceNumber: this.subSequenceNumber };
  }
}

/**
 * Decodes base64 and rejects text that is not base64. Node's decoder silently skips bad characters, so a decoded
 * length shorter than the text implies is the cheap, exact signal of bad input.
 */
function decodeBase64Strict(text: string, record: KinesisRecord): Buffer {
  const decoded = Buffer.from(text, 'base64');
  const length = text.length;
  let padding = 0;
  if (length > 0 && text.charCodeAt(length - 1) === BASE64_PAD) padding++;
  if (length > 1 && text.charCodeAt(length - 2) === BASE64_PAD) padding++;
  const expected = Math.floor((length * 3) / 4) - padding;
  if (length % 4 !== 0 || decoded.length !== expected) {
    throw new RecordDecodeError(
      `record ${record.sequenceNumber} of ${record.shardId}: data is not valid base64 (${length} characters)`,
    );
  }
  return decoded;
}
