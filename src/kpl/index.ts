/** KPL aggregated record codec: de-aggregation for consumers, aggregation for producers. */
export { KplAggregator } from './aggregator';
export type { KplAggregate, KplAggregatorOptions, KplUserRecord } from './aggregator';
export { deaggregate, isAggregated } from './deaggregate';
export type { DeaggregatedRecord } from './deaggregate';
export {
  KINESIS_MAX_RECORD_BYTES,
  KPL_DEFAULT_HEADROOM_BYTES,
  KPL_DEFAULT_MAX_AGGREGATE_BYTES,
  KPL_DIGEST_LENGTH,
  KPL_MAGIC,
  KPL_MAGIC_LENGTH,
  KPL_OVERHEAD_BYTES,
  aggregatedRecordSize,
  isValidExplicitHashKey,
  lengthDelimitedFieldSize,
  recordBodySize,
  recordFieldSize,
  varintSize,
} from './kpl-format';
export { KplFormatError } from './kpl-format-error';
export { ProtobufReader, ProtobufWriter, writeVarint } from './protobuf-wire';
