import 'reflect-metadata';

/* Decorators */
export { Consumer, OnRecords, Every, Secret, OnInit, OnShutdown, OnLeaseLost, OnShardEnded, OnDeadLetter, SECRET_SCHEMES } from './decorators';
export type { OnRecordsOptions, SecretOptions } from './decorators';

/* Core */
export { ShardlineApp, type ShardlineAppOptions } from './core/shardline-app';
export { KinesisRecord, type KinesisRecordInit } from './core/kinesis-record';
export { ShardContext } from './core/shard-context';
export { ShardCheckpointer } from './core/shard-checkpointer';
export { comparePositions, formatPosition, type CheckpointPosition } from './core/checkpoint-position';
export type { Checkpointer } from './core/checkpointer';
export type { RecordBatch, FailedBatch, ShutdownReason } from './core/record-batch';
export type {
  ConsumerOptions,
  CheckpointPolicyOption,
  ErrorPolicyOptions,
  FailureAction,
  InitialPosition,
  NormalizedConsumerOptions,
} from './core/consumer-options';
export type { LogOptions, LogLevel } from './core/log-options';
export { createLogger, type Logger, type AppLogger } from './core/logger';
export { parseDuration, type Duration } from './core/duration';
export type { RecordDecoder, DecoderName } from './core/record-decoder';
export type { Provider } from './core/provider';
export { SECRET_PROVIDER, type SecretProvider, type SecretRequest } from './core/secret-provider';
export { SHARDLINE_LOGGER, CONSUMER_DEFINITION } from './core/tokens';
export { exploreConsumer, isConsumerClass, type ConsumerClass } from './core/consumer-explorer';
export type { ConsumerDefinition } from './decorators/metadata-types';
export type { ShardEvent, ShardLease, EventOutcome, Ack } from './core/shard-event';

/* Adapters */
export { RECORD_SOURCE, type RecordSource } from './adapters/record-source';
export { InMemoryRecordSource } from './adapters/memory/in-memory-record-source';

/* Errors */
export {
  ShardlineError,
  InvalidDecoratorError,
  ConfigurationError,
  SourceError,
  ProtocolError,
  HandlerError,
  CheckpointError,
  SecretResolutionError,
  RecordDecodeError,
} from './core/errors';
