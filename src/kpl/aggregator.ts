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

/** What a cleared slot of the record table holds (so that it does not keep a payload alive). */
const EMPTY = Buffer.alloc(0);

/** A copy of `array` with twice the room. */
function grow(array: Int32Array<ArrayBuffer>): Int32Array<ArrayBuffer> {
  const bigger = new Int32Array(array.length * 2);
  bigger.set(array);
  return bigger;
}

/** FNV-1a over the UTF-16 code units of `key`: the dedup index's hash (not stored, not a format). */
function stringHash(key: string): number {
  let hash = 0x811c9dc5 | 0;
  for (let i = 0; i < key.length; i++) hash = Math.imul(hash ^ key.charCodeAt(i), 0x01000193);
  return hash;
}

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

  // The tables are kept from one aggregate to the next (a count, not a new array, says how much is in use), so that
  // packing a record allocates nothing once they have grown to an aggregate's size.
  /** Partition key table: the distinct keys, their UTF-8 lengths and their string hashes (for the dedup index). */
  private partitionKeys: string[] = [];
  private partitionKeyLengths = new Int32Array(64);
  private partitionKeyHashes = new Int32Array(64);
  private partitionKeyCount = 0;
  /** Open-addressing index of the partition key table: slot → key index, valid when its stamp is the generation. */
  private keySlots = new Int32Array(128);
  private keyStamps = new Int32Array(128);
  private generation = 1;
  private readonly explicitHashKeyIndexes = new Map<string, number>();
  private readonly explicitHashKeys: string[] = [];
  private readonly explicitHashKeyLengths: number[] = [];
  /** The user records: data, partition key index, explicit hash key index (-1: none). */
  private recordData: Buffer[] = [];
  private recordPartitionKeyIndexes = new Int32Array(64);
  private recordExplicitHashKeyIndexes = new Int32Array(64);
  private recordCount = 0;
  private protobufLength = 0;

  // Result of the last measure() call, consumed by commit().
  private measuredPartitionKeyIndex = 0;
  private measuredPartitionKeyLength = -1;
  private measuredPartitionKeyHash = 0;
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
    return this.recordCount;
  }

  /** Whether no user record is buffered. */
  get isEmpty(): boolean {
    return this.recordCount === 0;
  }

  /** Exact `data.length` that {@link KplAggregator.flush} would produce now (0 when empty). */
  get size(): number {
    return this.recordCount === 0 ? 0 : KPL_OVERHEAD_BYTES + this.protobufLength;
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
    return this.recordCount < this.maxRecords && this.sizeWith(record) <= this.maxBytes;
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
    const count = this.recordCount;
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
    const count = this.recordCount;
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
    const partitionKeyCount = this.partitionKeyCount;
    for (let i = 0; i < partitionKeyCount; i++) {
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
      buf.set(data, pos); // a builtin: much cheaper than Buffer#copy for records of a few hundred bytes
      pos += data.length;
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
    // Drop the references (the payloads and keys can be collected) but keep the arrays' room for the next aggregate.
    this.recordData.fill(EMPTY, 0, this.recordCount);
    this.partitionKeys.fill('', 0, this.partitionKeyCount);
    this.recordCount = 0;
    this.partitionKeyCount = 0;
    if (++this.generation === 0x7fffffff) {
      this.generation = 1;
      this.keyStamps.fill(0);
    }
    if (this.explicitHashKeys.length > 0) {
      this.explicitHashKeyIndexes.clear();
      this.explicitHashKeys.length = 0;
      this.explicitHashKeyLengths.length = 0;
    }
    this.protobufLength = 0;
  }

  /** Protobuf bytes `record` would add to the current aggregate; remembers the table lookups for commit(). */
  private measure(record: KplUserRecord): number {
    const { partitionKey, explicitHashKey, data } = record;
    let added = 0;

    if (typeof partitionKey !== 'string' || partitionKey.length === 0) {
      throw new KplFormatError('user record partitionKey must be a non-empty string');
    }
    const hash = stringHash(partitionKey);
    let partitionKeyIndex = this.findPartitionKey(partitionKey, hash);
    if (partitionKeyIndex < 0) {
      const length = utf8Length(partitionKey);
      partitionKeyIndex = this.partitionKeyCount;
      this.measuredPartitionKeyLength = length;
      this.measuredPartitionKeyHash = hash;
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
    if (this.measuredPartitionKeyLength >= 0) this.addPartitionKey(record.partitionKey, this.measuredPartitionKeyLength, this.measuredPartitionKeyHash);
    if (this.measuredExplicitHashKeyLength >= 0) {
      const explicitHashKey = record.explicitHashKey!;
      this.explicitHashKeyIndexes.set(explicitHashKey, this.measuredExplicitHashKeyIndex);
      this.explicitHashKeys.push(explicitHashKey);
      this.explicitHashKeyLengths.push(this.measuredExplicitHashKeyLength);
    }
    const count = this.recordCount;
    if (count === this.recordPartitionKeyIndexes.length) {
      this.recordPartitionKeyIndexes = grow(this.recordPartitionKeyIndexes);
      this.recordExplicitHashKeyIndexes = grow(this.recordExplicitHashKeyIndexes);
    }
    this.recordData[count] = record.data;
    this.recordPartitionKeyIndexes[count] = this.measuredPartitionKeyIndex;
    this.recordExplicitHashKeyIndexes[count] = this.measuredExplicitHashKeyIndex;
    this.recordCount = count + 1;
    this.protobufLength += added;
  }

  /** Index of `key` in the partition key table of the current aggregate, or -1. */
  private findPartitionKey(key: string, hash: number): number {
    const mask = this.keySlots.length - 1;
    for (let slot = hash & mask; ; slot = (slot + 1) & mask) {
      if (this.keyStamps[slot] !== this.generation) return -1;
      const index = this.keySlots[slot]!;
      if (this.partitionKeyHashes[index] === hash && this.partitionKeys[index] === key) return index;
    }
  }

  /** Appends a key to the partition key table and its index (kept at most half full). */
  private addPartitionKey(key: string, length: number, hash: number): void {
    const index = this.partitionKeyCount;
    if (index === this.partitionKeyLengths.length) {
      this.partitionKeyLengths = grow(this.partitionKeyLengths);
      this.partitionKeyHashes = grow(this.partitionKeyHashes);
    }
    this.partitionKeys[index] = key;
    this.partitionKeyLengths[index] = length;
    this.partitionKeyHashes[index] = hash;
    this.partitionKeyCount = index + 1;
    if (this.partitionKeyCount * 2 > this.keySlots.length) this.rebuildKeyIndex(this.keySlots.length * 2);
    else this.indexKey(index, hash);
  }

  private indexKey(index: number, hash: number): void {
    const mask = this.keySlots.length - 1;
    let slot = hash & mask;
    while (this.keyStamps[slot] === this.generation) slot = (slot + 1) & mask;
    this.keySlots[slot] = index;
    this.keyStamps[slot] = this.generation;
  }

  private rebuildKeyIndex(slots: number): void {
    this.keySlots = new Int32Array(slots);
    this.keyStamps = new Int32Array(slots);
    for (let i = 0; i < this.partitionKeyCount; i++) this.indexKey(i, this.partitionKeyHashes[i]!);
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
