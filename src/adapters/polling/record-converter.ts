import { comparePositions, type CheckpointPosition } from '../../core/checkpoint-position';
import { KinesisRecord } from '../../core/kinesis-record';
import { type Logger } from '../../core/logger';
import { deaggregate, isAggregated } from '../../kpl/deaggregate';
import { KplFormatError } from '../../kpl/kpl-format-error';

/** A record as GetRecords returns it (the SDK's `Record`, or raw JSON whose `Data` is still base64 text). */
export interface WireRecord {
  readonly Data?: Uint8Array | string | undefined;
  readonly PartitionKey?: string | undefined;
  readonly SequenceNumber?: string | undefined;
  readonly ApproximateArrivalTimestamp?: Date | number | undefined;
}

/** Base64 of the KPL magic bytes F3 89 9A C2 starts with these 5 characters. */
const KPL_MAGIC_BASE64_PREFIX = '84maw';

/**
 * Turns a GetRecords page into {@link KinesisRecord}s: KPL aggregates are split into their user records (with
 * sub-sequence numbers), a corrupted aggregate is passed on as one raw record with a warning (never dropped), and
 * records at or before `skipUpTo` (already processed, when resuming inside an aggregate) are left out.
 */
export function toKinesisRecords(
  wire: readonly WireRecord[],
  shardId: string,
  options: { readonly deaggregate: boolean; readonly skipUpTo?: CheckpointPosition | undefined; readonly logger: Logger },
): KinesisRecord[] {
  const out: KinesisRecord[] = [];
  const skipUpTo = options.skipUpTo;
  for (const record of wire) {
    const sequenceNumber = record.SequenceNumber ?? '';
    const partitionKey = record.PartitionKey ?? '';
    const arrival = record.ApproximateArrivalTimestamp;
    const data = record.Data ?? Buffer.alloc(0);
    if (skipUpTo !== undefined && isBeforeOrAt(sequenceNumber, Number.MAX_SAFE_INTEGER, skipUpTo)) {
      continue; // a whole record before the checkpoint's record
    }
    if (options.deaggregate && looksAggregated(data)) {
      const bytes = toBuffer(data);
      if (isAggregated(bytes)) {
        try {
          for (const user of deaggregate(bytes)) {
            if (skipUpTo !== undefined && isBeforeOrAt(sequenceNumber, user.subSequenceNumber, skipUpTo)) continue;
            out.push(
              new KinesisRecord({
                data: user.data,
                partitionKey: user.partitionKey,
                sequenceNumber,
                subSequenceNumber: user.subSequenceNumber,
                shardId,
                ...(arrival === undefined ? {} : { approximateArrivalTimestamp: arrival }),
                ...(user.explicitHashKey === undefined ? {} : { explicitHashKey: user.explicitHashKey }),
              }),
            );
          }
          continue;
        } catch (error) {
          if (!(error instanceof KplFormatError)) throw error;
          options.logger.warn(`Record ${sequenceNumber} of ${shardId} looks like a KPL aggregate but is corrupted (${error.message}): passing it on as one raw record`);
        }
      }
      if (skipUpTo !== undefined && isBeforeOrAt(sequenceNumber, 0, skipUpTo)) continue;
      out.push(new KinesisRecord({ data: bytes, partitionKey, sequenceNumber, shardId, ...(arrival === undefined ? {} : { approximateArrivalTimestamp: arrival }) }));
      continue;
    }
    if (skipUpTo !== undefined && isBeforeOrAt(sequenceNumber, 0, skipUpTo)) continue;
    out.push(
      new KinesisRecord({
        data: typeof data === 'string' ? data : toBuffer(data),
        partitionKey,
        sequenceNumber,
        shardId,
        ...(arrival === undefined ? {} : { approximateArrivalTimestamp: arrival }),
      }),
    );
  }
  return out;
}

function isBeforeOrAt(sequenceNumber: string, subSequenceNumber: number, position: CheckpointPosition): boolean {
  return comparePositions({ sequenceNumber, subSequenceNumber }, position) <= 0;
}

function looksAggregated(data: Uint8Array | string): boolean {
  if (typeof data === 'string') return data.startsWith(KPL_MAGIC_BASE64_PREFIX);
  return data.length >= 4 && data[0] === 0xf3 && data[1] === 0x89 && data[2] === 0x9a && data[3] === 0xc2;
}

function toBuffer(data: Uint8Array | string): Buffer {
  if (typeof data === 'string') return Buffer.from(data, 'base64');
  return Buffer.isBuffer(data) ? data : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
}
