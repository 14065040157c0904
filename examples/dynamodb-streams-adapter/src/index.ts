/* shardline-dynamodb-streams: a shardline record source over a DynamoDB table's stream. */
export { DynamoDbStreamsRecordSource, tableOfStreamArn, type DynamoDbStreamsRecordSourceOptions } from './dynamodb-streams-record-source';
export { type StreamChange, type ItemJson, type RecordDataMapper, toKinesisRecord } from './stream-change';
export { attributeToJson, imageToJson, type JsonAttribute } from './attribute-json';
export { classifyStreamError, type StreamErrorKind } from './stream-calls';
export { adapter } from './adapter';
export { parseAdapterOptions, type DynamoDbStreamsCliOptions } from './adapter-options';
