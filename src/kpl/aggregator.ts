import { createHash } from 'node:crypto';
import { KplFormatError } from './kpl-format-error';
import {
  KPL_DEFAULT_MAX_AGGREGATE_BYTES,
  KPL_MAGIC_LENGTH,
  KPL_OVERHEAD_BYTES,
  TAG_EXPLICIT_HASH_KEY_TABLE,
  TAG_PARTITION_KEY_TABLE,
  TAG_RECORD_DATA,
  TAG_RECORD_EXPLICIT_HASH_KEY_INDEX,
  TAG_RECORD_PARTITION_KEY_INDEX,
  TAG_RECORDS,
  isValidExplicitHashKey,
  recordBodySize,
  utf8Length,
  varintSize,
} from './kpl-format';
import { writeVarint } from './protobuf-wire';

/** Longest ASCII key written with a byte loop rather than `Buffer#write`. */
const SHORT_ASCII_KEY = 64;

/** A user record to be packed into a KPL aggregated record. */
export interface KplUserRecord {
  /** The user record's partition key (non-empty). */
  partitionKey: string;
  /** Optional explicit hash key: a decimal integer between 0 and 2^128 - 1. */
  explicitHashKey?: string;
  /** The payload. It is referenced, not copied, until the next {@link KplAggregator.flush}. */
  data: Buffer;
}

/** One encoded KPL aggregated record, ready to be sent as the data of a Kinesis record. */
export interface KplAggregate {
  /** The encoded aggregate: magic, protobuf message, MD5 digest. */
  data: Buffer;
  /**
   * Default partition key for the outer Kinesis record: the first user record's key. Only
   * correct if every user record maps to the same shard (or the consumer does not filter
   * de-aggregated records by shard hash range, as the KCL does).
   */
  partitionKey: string;
  /** The first user record's explicit hash key, when it has one. */
  explicitHashKey?: string;
  /** Number of user records in the aggregate. */
  count: number;
}

/** Options of {@link KplAggregator}. */
export interface KplAggregatorOptions {
  /**
   * Upper bound on `data.length` of each aggregate produced. Defaults to
   * {@link KPL_DEFAULT_MAX_AGGREGATE_BYTES} (1 MiB minus room for the outer partition key).
   */
  maxBytes?: number;
  /** Upper bound on the number of user records per aggregate. Unlimited by default. */
  maxRecords?: number;
}

/**
 * Accumulates user records and encodes them as KPL aggregated records.
 *
 * Partition keys and explicit hash keys are deduplicated into the aggregate's tables, and the
 * exact encoded size is maintained incrementally so deciding whether a record fits is O(1).
 * {@link KplAggregator.flush} encodes straight into a single buffer of the precomputed size
 * and hashes it once.
 *
 * @example
 * ```ts
 * const aggregator = new KplAggregator({ maxBytes: 50_000 });
 * for (const record of records) {
 *   const full = aggregator.add(record);
 *   if (full) send(full);
 * }
 * const last = aggregator.flush();
 * if (last) send(last);
 * ```
 */
export class KplAggregator {
  /** Upper bound on the encoded size of each aggregate. */
  readonly maxBytes: number;
  /** Upper bound on the number of user records per aggregate. */
  readonly maxRecords: number;

  private readonly partitionKeyIndexes = new Map<string, number>();
  private readonly partitionKeys: string[] = [];
  private readonly partitionKeyLengths: number[] = [];
  private readonly explicitHashKeyIndexes = new Map<string, number>();
  private readonly explicitHashKeys: string[] = [];
  private readonly explicitHashKeyLengths: number[] = [];
  private readonly recordData: Buffer[] = [];
  private readonly recordPartitionKeyIndexes: number[] = [];
  private readonly recordExplicitHashKeyIndexes: number[] = [];
  private protobufLength = 0;

  // Result of the last measure() call, consumed by commit().
  private measuredPartitionKeyIndex = 0;
  private measuredPartitionKeyLength = -1;
  private measuredExplicitHashKeyIndex = -1;
  private measuredExplicitHashKeyLength = -1;

  /**
   * @param options - size and count limits
   */
  constructor(options: KplAggregatorOptions = {}) {
    const maxBytes = options.maxBytes ?? KPL_DEFAULT_MAX_AGGREGATE_BYTES;
    const maxRecords = options.maxRecords ?? Number.POSITIVE_INFINITY;
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= KPL_OVERHEAD_BYTES) {
      throw new RangeError(`maxBytes must be an integer greater than ${KPL_OVERHEAD_BYTES}, got ${maxBytes}`);
    }
    if (maxRecords !== Number.POSITIVE_INFINITY && (!Number.isSafeInteger(maxRecords) || maxRecords < 1)) {
      throw new RangeError(`maxRecords must be a positive integer, got ${maxRecords}`);
    }
    this.maxBytes = maxBytes;
    this.maxRecords = maxRecords;
  }

  /** Number of user records currently buffered. */
  get count(): number {
    return this.recordData.length;
  }

  /** Whether no user record is buffered. */
  get isEmpty(): boolean {
    return this.recordData.length === 0;
  }

  /** Exact `data.length` that {@link KplAggregator.flush} would produce now (0 when empty). */
  get size(): number {
    return this.recordData.length === 0 ? 0 : KPL_OVERHEAD_BYTES + this.protobufLength;
  }

  /**
   * Exact encoded size the aggregate would have if `record` were added now.
   *
   * @param record - candidate user record
   * @throws KplFormatError if the record is invalid (empty partition key, bad explicit hash key)
   */
  sizeWith(record: KplUserRecord): number {
    return KPL_OVERHEAD_BYTES + this.protobufLength + this.measure(record);
  }

  /**
   * Whether `record` can be added without exceeding `maxBytes` or `maxRecords`.
   *
   * @param record - candidate user record
   * @throws KplFormatError if the record is invalid
   */
  canAdd(record: KplUserRecord): boolean {
    return this.recordData.length < this.maxRecords && this.sizeWith(record) <= this.maxBytes;
  }

  /**
   * Adds `record` if it fits in the current aggregate.
   *
   * @param record - user record to add
   * @returns `true` if added, `false` if the current aggregate is full (flush and retry)
   * @throws KplFormatError if the record is invalid or could not fit even in an empty aggregate
   */
  tryAdd(record: KplUserRecord): boolean {
    const added = this.measure(record);
    const count = this.recordData.length;
    if (count < this.maxRecords && KPL_OVERHEAD_BYTES + this.protobufLength + added <= this.maxBytes) {
      this.commit(record, added);
      return true;
    }
    if (count === 0) throw this.tooLarge(record, KPL_OVERHEAD_BYTES + added);
    const alone = this.sizeAlone(record);
    if (alone > this.maxBytes) throw this.tooLarge(record, alone);
    return false;
  }

  /**
   * Adds `record`, first flushing the current aggregate if the record does not fit in it.
   *
   * @param record - user record to add
   * @returns the aggregate that was flushed to make room, or `undefined`
   * @throws KplFormatError if the record is invalid or could not fit even in an empty aggregate
   */
  add(record: KplUserRecord): KplAggregate | undefined {
    if (this.tryAdd(record)) return undefined;
    const flushed = this.flush();
    this.tryAdd(record);
    return flushed;
  }

  /**
   * Encodes the buffered user records into one aggregated record and empties the aggregator.
   *
   * @returns the aggregate, or `undefined` if no record is buffered
   */
  flush(): KplAggregate | undefined {
    const count = this.recordData.length;
    if (count === 0) return undefined;

    const protobufEnd = KPL_MAGIC_LENGTH + this.protobufLength;
    const buf = Buffer.allocUnsafeSlow(KPL_OVERHEAD_BYTES + this.protobufLength);
    buf[0] = 0xf3;
    buf[1] = 0x89;
    buf[2] = 0x9a;
    buf[3] = 0xc2;
    let pos = KPL_MAGIC_LENGTH;

    const partitionKeys = this.partitionKeys;
    const partitionKeyLengths = this.partitionKeyLengths;
    for (let i = 0; i < partitionKeys.length; i++) {
      const key = partitionKeys[i]!;
      const length = partitionKeyLengths[i]!;
      buf[pos++] = TAG_PARTITION_KEY_TABLE;
      pos = writeVarint(buf, pos, length);
      if (length === key.length && length <= SHORT_ASCII_KEY) {
        // UTF-8 length equal to UTF-16 length means pure ASCII; a plain loop beats Buffer#write for short keys.
        for (let c = 0; c < length; c++) buf[pos++] = key.charCodeAt(c);
      } else {
        pos += buf.write(key, pos, length, 'utf8');
      }
    }
    const explicitHashKeys = this.explicitHashKeys;
    const explicitHashKeyLengths = this.explicitHashKeyLengths;
    for (let i = 0; i < explicitHashKeys.length; i++) {
      const length = explicitHashKeyLengths[i]!;
      buf[pos++] = TAG_EXPLICIT_HASH_KEY_TABLE;
      pos = writeVarint(buf, pos, length);
      pos += buf.write(explicitHashKeys[i]!, pos, length, 'latin1'); // decimal digits only
    }

    const recordData = this.recordData;
    const recordPartitionKeyIndexes = this.recordPartitionKeyIndexes;
    const recordExplicitHashKeyIndexes = this.recordExplicitHashKeyIndexes;
    for (let i = 0; i < count; i++) {
      const data = recordData[i]!;
      const partitionKeyIndex = recordPartitionKeyIndexes[i]!;
      const explicitHashKeyIndex = recordExplicitHashKeyIndexes[i]!;
      buf[pos++] = TAG_RECORDS;
      pos = writeVarint(buf, pos, recordBodySize(partitionKeyIndex, explicitHashKeyIndex, data.length));
      buf[pos++] = TAG_RECORD_PARTITION_KEY_INDEX;
      pos = writeVarint(buf, pos, partitionKeyIndex);
      if (explicitHashKeyIndex >= 0) {
        buf[pos++] = TAG_RECORD_EXPLICIT_HASH_KEY_INDEX;
        pos = writeVarint(buf, pos, explicitHashKeyIndex);
      }
      buf[pos++] = TAG_RECORD_DATA;
      pos = writeVarint(buf, pos, data.length);
      pos += data.copy(buf, pos);
    }

    if (pos !== protobufEnd) {
      // Only reachable if a buffered Buffer was resized/replaced or a string changed length.
      throw new KplFormatError(`internal size mismatch: encoded ${pos - KPL_MAGIC_LENGTH} protobuf bytes, expected ${this.protobufLength}`);
    }
    createHash('md5').update(buf.subarray(KPL_MAGIC_LENGTH, protobufEnd)).digest().copy(buf, protobufEnd);

    const result: KplAggregate = { data: buf, partitionKey: partitionKeys[0]!, count };
    const firstExplicitHashKeyIndex = recordExplicitHashKeyIndexes[0]!;
    if (firstExplicitHashKeyIndex >= 0) result.explicitHashKey = explicitHashKeys[firstExplicitHashKeyIndex]!;
    this.clear();
    return result;
  }

  /** Discards every buffered user record without encoding them. */
  clear(): void {
    this.partitionKeyIndexes.clear();
    this.partitionKeys.length = 0;
    this.partitionKeyLengths.length = 0;
    this.explicitHashKeyIndexes.clear();
    this.explicitHashKeys.length = 0;
    this.explicitHashKeyLengths.length = 0;
    this.recordData.length = 0;
    this.recordPartitionKeyIndexes.length = 0;
    this.recordExplicitHashKeyIndexes.length = 0;
    this.protobufLength = 0;
  }

  /** Protobuf bytes `record` would add to the current aggregate; remembers the table lookups for commit(). */
  private measure(record: KplUserRecord): number {
    const { partitionKey, explicitHashKey, data } = record;
    let added = 0;

    let partitionKeyIndex = this.partitionKeyIndexes.get(partitionKey);
    if (partitionKeyIndex === undefined) {
      if (typeof partitionKey !== 'string' || partitionKey.length === 0) {
        throw new KplFormatError('user record partitionKey must be a non-empty string');
      }
      const length = utf8Length(partitionKey);
      partitionKeyIndex = this.partitionKeys.length;
      this.measuredPartitionKeyLength = length;
      added += 1 + varintSize(length) + length;
    } else {
      this.measuredPartitionKeyLength = -1;
    }
    this.measuredPartitionKeyIndex = partitionKeyIndex;

    let explicitHashKeyIndex = -1;
    this.measuredExplicitHashKeyLength = -1;
    if (explicitHashKey !== undefined) {
      const known = this.explicitHashKeyIndexes.get(explicitHashKey);
      if (known === undefined) {
        if (typeof explicitHashKey !== 'string' || !isValidExplicitHashKey(explicitHashKey)) {
          throw new KplFormatError(
            `user record explicitHashKey must be a decimal integer between 0 and 2^128 - 1, got ${JSON.stringify(explicitHashKey)}`,
          );
        }
        const length = explicitHashKey.length; // ASCII digits: one byte each
        explicitHashKeyIndex = this.explicitHashKeys.length;
        this.measuredExplicitHashKeyLength = length;
        added += 1 + varintSize(length) + length;
      } else {
        explicitHashKeyIndex = known;
      }
    }
    this.measuredExplicitHashKeyIndex = explicitHashKeyIndex;

    if (!Buffer.isBuffer(data)) {
      throw new KplFormatError('user record data must be a Buffer');
    }
    const body = recordBodySize(partitionKeyIndex, explicitHashKeyIndex, data.length);
    return added + 1 + varintSize(body) + body;
  }

  /** Appends `record` using the lookups of the immediately preceding measure() call. */
  private commit(record: KplUserRecord, added: number): void {
    if (this.measuredPartitionKeyLength >= 0) {
      this.partitionKeyIndexes.set(record.partitionKey, this.measuredPartitionKeyIndex);
      this.partitionKeys.push(record.partitionKey);
      this.partitionKeyLengths.push(this.measuredPartitionKeyLength);
    }
    if (this.measuredExplicitHashKeyLength >= 0) {
      const explicitHashKey = record.explicitHashKey!;
      this.explicitHashKeyIndexes.set(explicitHashKey, this.measuredExplicitHashKeyIndex);
      this.explicitHashKeys.push(explicitHashKey);
      this.explicitHashKeyLengths.push(this.measuredExplicitHashKeyLength);
    }
    this.recordData.push(record.data);
    this.recordPartitionKeyIndexes.push(this.measuredPartitionKeyIndex);
    this.recordExplicitHashKeyIndexes.push(this.measuredExplicitHashKeyIndex);
    this.protobufLength += added;
  }

  /** Encoded size of an aggregate holding only `record` (already validated by measure()). */
  private sizeAlone(record: KplUserRecord): number {
    const partitionKeyLength = Buffer.byteLength(record.partitionKey, 'utf8');
    let size = KPL_OVERHEAD_BYTES + 1 + varintSize(partitionKeyLength) + partitionKeyLength;
    let explicitHashKeyIndex = -1;
    if (record.explicitHashKey !== undefined) {
      const length = record.explicitHashKey.length;
      size += 1 + varintSize(length) + length;
      explicitHashKeyIndex = 0;
    }
    const body = recordBodySize(0, explicitHashKeyIndex, record.data.length);
    return size + 1 + varintSize(body) + body;
  }

  private tooLarge(record: KplUserRecord, size: number): KplFormatError {
    const key = record.partitionKey.length > 64 ? `${record.partitionKey.slice(0, 64)}...` : record.partitionKey;
    return new KplFormatError(
      `user record (partitionKey ${JSON.stringify(key)}, ${record.data.length} data bytes) encodes to ${size} bytes as a single-record aggregate, more than maxBytes ${this.maxBytes}`,
    );
  }
}
