/**
 * Constants and size arithmetic for the KPL aggregated record format.
 *
 * Layout of an aggregated record:
 *
 * ```
 * magic (4 bytes: F3 89 9A C2) | protobuf AggregatedRecord | MD5(protobuf) (16 bytes)
 * ```
 *
 * ```proto
 * message AggregatedRecord {
 *   repeated string partition_key_table     = 1;
 *   repeated string explicit_hash_key_table = 2;
 *   repeated Record records                 = 3;
 * }
 * message Record {
 *   required uint64 partition_key_index     = 1;
 *   optional uint64 explicit_hash_key_index = 2;
 *   required bytes  data                    = 3;
 *   repeated Tag    tags                    = 4;
 * }
 * message Tag { required string key = 1; optional string value = 2; }
 * ```
 *
 * All fields used by this format have field numbers below 16, so every field tag
 * occupies exactly one byte on the wire.
 */

/** The four magic bytes that prefix every KPL aggregated record. */
export const KPL_MAGIC: readonly number[] = Object.freeze([0xf3, 0x89, 0x9a, 0xc2]);

/** Length of {@link KPL_MAGIC} in bytes. */
export const KPL_MAGIC_LENGTH = 4;

/** Length of the trailing MD5 digest of the protobuf message, in bytes. */
export const KPL_DIGEST_LENGTH = 16;

/** Fixed bytes added around the protobuf message: magic prefix plus MD5 suffix. */
export const KPL_OVERHEAD_BYTES = KPL_MAGIC_LENGTH + KPL_DIGEST_LENGTH;

/** Maximum size of a Kinesis record (data blob plus partition key), in bytes. */
export const KINESIS_MAX_RECORD_BYTES = 1_048_576;

/**
 * Bytes reserved by default for the partition key of the outer Kinesis record, which counts
 * against {@link KINESIS_MAX_RECORD_BYTES} together with the data blob (a partition key is at
 * most 256 characters, i.e. at most 1024 bytes of UTF-8).
 */
export const KPL_DEFAULT_HEADROOM_BYTES = 1024;

/** Default upper bound on the encoded size of one aggregated record produced by the aggregator. */
export const KPL_DEFAULT_MAX_AGGREGATE_BYTES = KINESIS_MAX_RECORD_BYTES - KPL_DEFAULT_HEADROOM_BYTES;

/** Protobuf wire type of varint fields. */
export const WIRE_TYPE_VARINT = 0;
/** Protobuf wire type of 64-bit fixed fields. */
export const WIRE_TYPE_FIXED64 = 1;
/** Protobuf wire type of length-delimited fields (strings, bytes, embedded messages). */
export const WIRE_TYPE_LENGTH_DELIMITED = 2;
/** Protobuf wire type of 32-bit fixed fields. */
export const WIRE_TYPE_FIXED32 = 5;

/** `AggregatedRecord.partition_key_table` tag byte (field 1, length-delimited). */
export const TAG_PARTITION_KEY_TABLE = 0x0a;
/** `AggregatedRecord.explicit_hash_key_table` tag byte (field 2, length-delimited). */
export const TAG_EXPLICIT_HASH_KEY_TABLE = 0x12;
/** `AggregatedRecord.records` tag byte (field 3, length-delimited). */
export const TAG_RECORDS = 0x1a;
/** `Record.partition_key_index` tag byte (field 1, varint). */
export const TAG_RECORD_PARTITION_KEY_INDEX = 0x08;
/** `Record.explicit_hash_key_index` tag byte (field 2, varint). */
export const TAG_RECORD_EXPLICIT_HASH_KEY_INDEX = 0x10;
/** `Record.data` tag byte (field 3, length-delimited). */
export const TAG_RECORD_DATA = 0x1a;

/** Largest explicit hash key accepted by Kinesis: 2^128 - 1. */
const MAX_EXPLICIT_HASH_KEY = (1n << 128n) - 1n;
const DECIMAL_DIGITS = /^[0-9]{1,39}$/;

/**
 * Number of bytes a non-negative integer occupies as a protobuf varint.
 *
 * @param value - a non-negative safe integer (at most `Number.MAX_SAFE_INTEGER`)
 * @returns a size between 1 and 8
 */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x200000) return 3;
  if (value < 0x10000000) return 4;
  if (value < 0x800000000) return 5;
  if (value < 0x40000000000) return 6;
  if (value < 0x2000000000000) return 7;
  return 8; // < 2^56, which covers every safe integer
}

/**
 * Encoded size of a length-delimited field (one tag byte, the varint length, the payload).
 *
 * @param payloadLength - payload length in bytes
 */
export function lengthDelimitedFieldSize(payloadLength: number): number {
  return 1 + varintSize(payloadLength) + payloadLength;
}

/**
 * Encoded size of the body of one `Record` message (without its own tag and length prefix).
 *
 * @param partitionKeyIndex - index into the partition key table
 * @param explicitHashKeyIndex - index into the explicit hash key table, or `-1` when absent
 * @param dataLength - length of the user data in bytes
 */
export function recordBodySize(partitionKeyIndex: number, explicitHashKeyIndex: number, dataLength: number): number {
  let size = 1 + varintSize(partitionKeyIndex) + 1 + varintSize(dataLength) + dataLength;
  if (explicitHashKeyIndex >= 0) size += 1 + varintSize(explicitHashKeyIndex);
  return size;
}

/**
 * Encoded size of one `records` entry of an `AggregatedRecord` (tag, length prefix and body).
 *
 * @param partitionKeyIndex - index into the partition key table
 * @param explicitHashKeyIndex - index into the explicit hash key table, or `-1` when absent
 * @param dataLength - length of the user data in bytes
 */
export function recordFieldSize(partitionKeyIndex: number, explicitHashKeyIndex: number, dataLength: number): number {
  return lengthDelimitedFieldSize(recordBodySize(partitionKeyIndex, explicitHashKeyIndex, dataLength));
}

/**
 * Total size of an aggregated record whose protobuf message is `protobufLength` bytes long.
 *
 * @param protobufLength - encoded length of the `AggregatedRecord` message
 */
export function aggregatedRecordSize(protobufLength: number): number {
  return KPL_OVERHEAD_BYTES + protobufLength;
}

/**
 * Whether `key` is a valid Kinesis explicit hash key: the decimal representation of an
 * integer between 0 and 2^128 - 1.
 *
 * @param key - candidate explicit hash key
 */
export function isValidExplicitHashKey(key: string): boolean {
  return DECIMAL_DIGITS.test(key) && BigInt(key) <= MAX_EXPLICIT_HASH_KEY;
}

/**
 * UTF-8 length of a string. Partition keys are short and almost always ASCII: a character loop answers those
 * without a native call; anything else goes to `Buffer.byteLength`.
 */
export function utf8Length(value: string): number {
  const length = value.length;
  if (length > 64) return Buffer.byteLength(value, 'utf8');
  for (let i = 0; i < length; i++) if (value.charCodeAt(i) >= 0x80) return Buffer.byteLength(value, 'utf8');
  return length;
}
