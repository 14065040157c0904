import { createHash } from 'node:crypto';
import { KplFormatError } from './kpl-format-error';
import { KPL_DIGEST_LENGTH, KPL_MAGIC_LENGTH, KPL_OVERHEAD_BYTES, WIRE_TYPE_LENGTH_DELIMITED, WIRE_TYPE_VARINT } from './kpl-format';
import { ProtobufReader } from './protobuf-wire';

/** One user record extracted from a KPL aggregated record. */
export interface DeaggregatedRecord {
  /** The user record's own partition key (not the aggregate's). */
  partitionKey: string;
  /** The user record's explicit hash key, when the producer set one. */
  explicitHashKey?: string;
  /** The user payload: a zero-copy view into the aggregated buffer. */
  data: Buffer;
  /** Position of the user record inside the aggregate, starting at 0. */
  subSequenceNumber: number;
}

const WIRE_TYPE_NAMES = ['varint', 'fixed64', 'length-delimited', 'start-group', 'end-group', 'fixed32'];

/**
 * Whether `data` looks like a KPL aggregated record: it starts with the magic bytes
 * `F3 89 9A C2` and is long enough to hold the MD5 trailer.
 *
 * This is a cheap prefix check; the digest and protobuf body are only verified by
 * {@link deaggregate}.
 *
 * @param data - the data blob of a Kinesis record
 */
export function isAggregated(data: Uint8Array): boolean {
  return data.length >= KPL_OVERHEAD_BYTES && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2;
}

/**
 * Splits a KPL aggregated record into its user records, in order.
 *
 * The MD5 trailer is verified, the protobuf body is parsed strictly (bounds checked, required
 * fields present, table indexes in range) and each user record's `data` is a `subarray` of
 * `data` (no copy: keep the aggregate alive only as long as the views are needed).
 *
 * Unlike the KCL, which silently treats a record with a bad digest or body as a plain
 * (non-aggregated) record, this function throws; callers wanting the KCL behaviour can catch
 * {@link KplFormatError} and fall back to the raw record. Records are not filtered by shard
 * hash range.
 *
 * @param data - the data blob of a Kinesis record
 * @returns the user records, with `subSequenceNumber` equal to their index
 * @throws KplFormatError if `data` is not a valid aggregated record
 */
export function deaggregate(data: Buffer): DeaggregatedRecord[] {
  if (!isAggregated(data)) {
    if (data.length >= KPL_MAGIC_LENGTH && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2) {
      throw new KplFormatError(
        `truncated KPL aggregated record: ${data.length} bytes, at least ${KPL_OVERHEAD_BYTES} (magic + MD5) are required`,
      );
    }
    throw new KplFormatError('not a KPL aggregated record: data does not start with the magic bytes F3 89 9A C2');
  }

  const protobufEnd = data.length - KPL_DIGEST_LENGTH;
  const expected = data.subarray(protobufEnd);
  const actual = createHash('md5').update(data.subarray(KPL_MAGIC_LENGTH, protobufEnd)).digest();
  if (!actual.equals(expected)) {
    throw new KplFormatError(
      `KPL aggregated record MD5 mismatch: trailer is ${expected.toString('hex')}, computed ${actual.toString('hex')} over ${protobufEnd - KPL_MAGIC_LENGTH} protobuf bytes`,
    );
  }

  // Pass 1: tables and the byte ranges of the records (fields may appear in any order).
  const reader = new ProtobufReader(data, KPL_MAGIC_LENGTH, protobufEnd);
  const partitionKeys: string[] = [];
  const explicitHashKeys: string[] = [];
  const recordRanges: number[] = [];
  while (!reader.done) {
    const tagOffset = reader.offset;
    const tag = reader.readVarint();
    const field = Math.floor(tag / 8);
    const wireType = tag % 8;
    switch (field) {
      case 1:
        expectWireType('AggregatedRecord.partition_key_table', wireType, WIRE_TYPE_LENGTH_DELIMITED, tagOffset);
        partitionKeys.push(reader.readString());
        break;
      case 2:
        expectWireType('AggregatedRecord.explicit_hash_key_table', wireType, WIRE_TYPE_LENGTH_DELIMITED, tagOffset);
        explicitHashKeys.push(reader.readString());
        break;
      case 3: {
        expectWireType('AggregatedRecord.records', wireType, WIRE_TYPE_LENGTH_DELIMITED, tagOffset);
        const recordEnd = reader.readLengthPrefix();
        recordRanges.push(reader.offset, recordEnd);
        reader.seek(recordEnd);
        break;
      }
      case 0:
        throw new KplFormatError(`invalid protobuf field number 0 at offset ${tagOffset}`);
      default:
        reader.skipField(wireType);
    }
  }

  // Pass 2: decode each record and resolve its table indexes.
  const count = recordRanges.length / 2;
  const records = new Array<DeaggregatedRecord>(count);
  for (let i = 0; i < count; i++) {
    const start = recordRanges[2 * i]!;
    reader.reset(start, recordRanges[2 * i + 1]!);
    let partitionKeyIndex = -1;
    let explicitHashKeyIndex = -1;
    let dataStart = -1;
    let dataEnd = -1;
    while (!reader.done) {
      const tagOffset = reader.offset;
      const tag = reader.readVarint();
      const field = Math.floor(tag / 8);
      const wireType = tag % 8;
      switch (field) {
        case 1:
          expectWireType('Record.partition_key_index', wireType, WIRE_TYPE_VARINT, tagOffset);
          partitionKeyIndex = reader.readVarint();
          break;
        case 2:
          expectWireType('Record.explicit_hash_key_index', wireType, WIRE_TYPE_VARINT, tagOffset);
          explicitHashKeyIndex = reader.readVarint();
          break;
        case 3:
          expectWireType('Record.data', wireType, WIRE_TYPE_LENGTH_DELIMITED, tagOffset);
          dataEnd = reader.readLengthPrefix();
          dataStart = reader.offset;
          reader.seek(dataEnd);
          break;
        case 0:
          throw new KplFormatError(`invalid protobuf field number 0 at offset ${tagOffset} in user record ${i}`);
        default:
          reader.skipField(wireType); // tags (field 4) and unknown fields
      }
    }

    if (partitionKeyIndex < 0) {
      throw new KplFormatError(`user record ${i} (offset ${start}) is missing required field partition_key_index`);
    }
    if (dataStart < 0) {
      throw new KplFormatError(`user record ${i} (offset ${start}) is missing required field data`);
    }
    const partitionKey = partitionKeys[partitionKeyIndex];
    if (partitionKey === undefined) {
      throw new KplFormatError(
        `user record ${i}: partition_key_index ${partitionKeyIndex} is out of range (partition key table has ${partitionKeys.length} entries)`,
      );
    }
    const record: DeaggregatedRecord = { partitionKey, data: data.subarray(dataStart, dataEnd), subSequenceNumber: i };
    if (explicitHashKeyIndex >= 0) {
      const explicitHashKey = explicitHashKeys[explicitHashKeyIndex];
      if (explicitHashKey === undefined) {
        throw new KplFormatError(
          `user record ${i}: explicit_hash_key_index ${explicitHashKeyIndex} is out of range (explicit hash key table has ${explicitHashKeys.length} entries)`,
        );
      }
      record.explicitHashKey = explicitHashKey;
    }
    records[i] = record;
  }
  return records;
}

function expectWireType(field: string, actual: number, expected: number, offset: number): void {
  if (actual !== expected) {
    throw new KplFormatError(
      `field ${field} at offset ${offset} has wire type ${WIRE_TYPE_NAMES[actual] ?? actual}, expected ${WIRE_TYPE_NAMES[expected] ?? expected}`,
    );
  }
}
