import { type _Record } from '@aws-sdk/client-dynamodb-streams';
import { KinesisRecord } from 'shardline';
import { imageToJson, type JsonAttribute } from './attribute-json';

/** An item (or its key) as plain JSON. */
export type ItemJson = { [name: string]: JsonAttribute };

/**
 * What a handler reads from a record of this adapter: `record.json<StreamChange>()`. One change of one item, with
 * the images as plain JSON (see {@link attributeToJson}). The images present depend on the stream's view type.
 */
export interface StreamChange {
  readonly eventId: string;
  readonly eventName: 'INSERT' | 'MODIFY' | 'REMOVE';
  readonly tableName: string;
  /** The item's key attributes. */
  readonly keys: ItemJson;
  /** The item after the change (NEW_IMAGE and NEW_AND_OLD_IMAGES streams; absent for REMOVE). */
  readonly newImage?: ItemJson;
  /** The item before the change (OLD_IMAGE and NEW_AND_OLD_IMAGES streams; absent for INSERT). */
  readonly oldImage?: ItemJson;
  readonly sequenceNumber: string;
  /** ISO time of the change, when the stream gave one. */
  readonly approximateCreationDateTime?: string;
  readonly sizeBytes?: number;
  readonly streamViewType?: string;
  /** Set for deletions made by TTL (`{ type: 'Service', principalId: 'dynamodb.amazonaws.com' }`). */
  readonly userIdentity?: { readonly type?: string; readonly principalId?: string };
}

/** What a record's `data` holds: by default the JSON of the whole change. */
export type RecordDataMapper = (change: StreamChange) => string | Buffer;

/**
 * Converts a stream record into the runtime's record type: `data` is the JSON of its {@link StreamChange} (or what
 * `toData` makes of the change), the sequence number is `dynamodb.SequenceNumber`, the partition key is the JSON of
 * the item's key (so the records of one item share it). Returns undefined for a record without a sequence number
 * (which cannot be checkpointed).
 */
export function toKinesisRecord(record: _Record, shardId: string, tableName: string, toData?: RecordDataMapper): KinesisRecord | undefined {
  const stream = record.dynamodb;
  const sequenceNumber = stream?.SequenceNumber;
  if (stream === undefined || sequenceNumber === undefined) return undefined;
  const keys = imageToJson(stream.Keys ?? {});
  const created = stream.ApproximateCreationDateTime;
  const change: StreamChange = {
    eventId: record.eventID ?? sequenceNumber,
    eventName: record.eventName ?? 'MODIFY',
    tableName,
    keys,
    ...(stream.NewImage === undefined ? {} : { newImage: imageToJson(stream.NewImage) }),
    ...(stream.OldImage === undefined ? {} : { oldImage: imageToJson(stream.OldImage) }),
    sequenceNumber,
    ...(created === undefined ? {} : { approximateCreationDateTime: created.toISOString() }),
    ...(stream.SizeBytes === undefined ? {} : { sizeBytes: stream.SizeBytes }),
    ...(stream.StreamViewType === undefined ? {} : { streamViewType: stream.StreamViewType }),
    ...(record.userIdentity === undefined ? {} : { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }),
  };
  return new KinesisRecord({
    data: toBuffer(toData === undefined ? JSON.stringify(change) : toData(change)),
    partitionKey: stableJson(keys),
    sequenceNumber,
    ...(created === undefined ? {} : { approximateArrivalTimestamp: created }),
    shardId,
  });
}

function toBuffer(data: string | Buffer): Buffer {
  return typeof data === 'string' ? Buffer.from(data) : data;
}

/** JSON with the top-level names sorted, so one item's key always reads the same. */
function stableJson(object: ItemJson): string {
  return JSON.stringify(Object.fromEntries(Object.entries(object).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))));
}
