import 'reflect-metadata';

/* Decorators */
export { Consumer, OnRecords, Every, Secret, OnInit, OnShutdown, OnLeaseLost, OnShardEnded, OnDeadLetter, SECRET_SCHEMES } from './decorators';
export type { OnRecordsOptions, SecretOptions } from './decorators';

/* Dependency injection: tsyringe's decorators and container, re-exported so that a project needs no direct
   dependency on tsyringe (two copies would mean two global containers). */
export { inject, injectable, singleton, container, type DependencyContainer, type InjectionToken } from 'tsyringe';

/* Core */
export { ShardlineApp, type ShardlineAppOptions } from './core/shardline-app';
export { KinesisRecord, type KinesisRecordInit } from './core/kinesis-record';
export { ShardContext } from './core/shard-context';
export { ShardCheckpointer } from './core/shard-checkpointer';
export { comparePositions, formatPosition, type CheckpointPosition } from './core/checkpoint-position';
export type { Checkpointer } from './core/checkpointer';
export type { RecordBatch, FailedBatch, ShutdownReason } from './core/record-batch';
export type { BatchItemFailures } from './core/batch-item-failures';
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
export type { ShardEvent, ShardOpenedEvent, ShardRecordsEvent, ShardClosingEvent, ShardLease, EventOutcome, Ack } from './core/shard-event';

/* Adapters */
export { RECORD_SOURCE, type RecordSource } from './adapters/record-source';
export { InMemoryRecordSource, type RecordInput } from './adapters/memory/in-memory-record-source';
export { KclRecordSource, type KclRecordSourceOptions, type KclCheckpointRetryOptions } from './adapters/kcl/kcl-record-source';
export { buildKclProperties, formatKclProperties, type KclPropertiesInput, type KclProperty, type KclRetrievalMode } from './kcl-daemon/kcl-properties';
export { KclDaemonError } from './kcl-daemon/kcl-daemon-launcher';
export { reserveStdoutForProtocol, type KclStdoutGuard } from './adapters/kcl/kcl-stdout-guard';
export { deferSignalsToDaemon } from './adapters/kcl/kcl-signal-guard';
export { PollingRecordSource, type PollingRecordSourceOptions, type PollingLeaseOptions } from './adapters/polling/polling-record-source';
export { KCL_TAKEOVER_PROFILES, kclTakeoverNotes, kclTakeoverSettings, type KclTakeoverProfile, type KclTakeoverSetting } from './kcl-daemon/kcl-takeover-profile';
export { parseInitialPosition } from './adapters/polling/parse-initial-position';
export { MemoryBudget, BudgetLease, DEFAULT_MAX_BUFFERED_BYTES } from './adapters/polling/memory-budget';
export { measureShardLag, type ShardLag } from './adapters/polling/measure-shard-lag';
export { type ShardFetcher, type ShardFetcherFactory, type FetchedPage, type FetcherContext } from './adapters/polling/shard-fetcher';
export { EnhancedFanOut, type EnhancedFanOutOptions } from './adapters/efo/enhanced-fan-out';
export { createFanOutClient, DEFAULT_FAN_OUT_WINDOW_BYTES, type FanOutClientOptions } from './adapters/efo/fan-out-client';
export { StreamConsumers, FanOutPermissionError, type StreamConsumerInfo, type EnsureConsumerOptions } from './adapters/efo/stream-consumers';
export { CONSUMER_NAME_PATTERN, consumerNameProblem } from './adapters/efo/consumer-name';

/* The CLI adapter contract: what `shardline run --adapter <name | path | package>` loads (docs/adapters.md) */
export type { CliAdapter, AdapterSetup, AdapterContext, RunOptions } from './cli/cli-adapter';
export { pollingSetup, type CliReadMode } from './cli/adapters/polling.cli-adapter';

/* Metrics, health and the status page */
export {
  combineRecorders,
  type MetricsRecorder,
  type AppRef,
  type ShardRef,
  type ShardCloseReason,
  type GetRecordsResult,
} from './metrics/metrics-recorder';
export { PrometheusMetrics, type PrometheusMetricsOptions } from './metrics/prometheus-metrics';
export { EmfMetrics, type EmfMetricsOptions } from './metrics/emf-metrics';
export { ShardStatusBoard, type ShardStatusBoardOptions } from './metrics/shard-status-board';
export { MeteredRecordSource } from './metrics/metered-record-source';
export { startMetricsServer, type MetricsServer, type MetricsServerOptions } from './metrics/metrics-server';
export { renderStatusPage, type StatusPageOptions } from './metrics/status-page';
export type { StatusSnapshot, ApplicationStatus, ShardStatus, ShardState, LagSample, ReadinessResult } from './metrics/status-snapshot';

/* Checkpoint stores (polling adapter) */
export {
  SHARD_END_CHECKPOINT,
  isCheckpointSentinel,
  type CheckpointStore,
  type CheckpointSentinel,
  type StoredShard,
  type LeaseRequest,
  type HashKeyRange,
} from './checkpoint-stores/checkpoint-store';
export { FileCheckpointStore, DEFAULT_CHECKPOINT_DIRECTORY, type FileCheckpointStoreOptions } from './checkpoint-stores/file-checkpoint-store';
export { DynamoDbCheckpointStore, LEASE_OWNER_INDEX, type DynamoDbCheckpointStoreOptions } from './checkpoint-stores/dynamodb-checkpoint-store';
export { MemoryCheckpointStore } from './checkpoint-stores/memory-checkpoint-store';
export {
  createCheckpointStore,
  parseCheckpointStoreSpec,
  assertSeparateCheckpoints,
  type CheckpointStoreSpec,
  type CheckpointOwner,
} from './checkpoint-stores/create-checkpoint-store';

/*
 * Leases of a polling fleet (docs/leases.md): the protocol the polling adapter runs with DynamoDB checkpoints, on the
 * KCL lease-table schema. LeaseCoordinator = one worker's renewer and taker over a LeaseTable; DynamoDbLeaseTable =
 * the KCL table (created by DynamoDbCheckpointStore.open()); LeaseConflictError = a running Java KCL on the table.
 */
export { LeaseCoordinator, type LeaseCoordinatorStatus } from './leases/lease-coordinator';
export {
  resolveLeaseTiming,
  type LeaseCoordinatorOptions,
  type LeaseLoss,
  type LeaseLossReason,
  type ResolvedLeaseTiming,
} from './leases/lease-coordinator-options';
export { DynamoDbLeaseTable, type DynamoDbLeaseTableOptions } from './leases/dynamodb-lease-table';
export {
  type LeaseTable,
  type LeaseScanResult,
  type LeaseGetResult,
  type LeaseCreateResult,
  type LeaseWriteResult,
} from './leases/lease-table';
export { SHARD_END, type Lease, type LeaseCheckpoint, type LeaseScan, type NewLease, type NonLeaseItem } from './leases/lease';
export { LeaseConflictError, LeaseTableError, type LeaseTableFailure } from './leases/lease-errors';
export { createShardlineWorkerId, isShardlineWorkerId, SHARDLINE_WORKER_PREFIX } from './leases/worker-id';
export { systemLeaseClock, type LeaseClock, type LeaseTimer } from './leases/lease-clock';

/* Kinesis clients and local development */
export { createKinesisClient, DEFAULT_REGION, type KinesisClientOptions } from './kinesis/create-kinesis-client';
export { startLocalKinesis, isPortListening, type LocalKinesisServer, type StartLocalKinesisOptions } from './kinesis/local-kinesis-server';
export type { ProduceFunction, PutFunction, ProducedData } from './kinesis/producer-module';

/* Producer and stream administration */
export {
  KinesisProducer,
  type ProducerData,
  type PutOptions,
  type PutResult,
  type ProducerRecord,
  type PutManyResult,
  type ProducerStats,
} from './producer/kinesis-producer';
export {
  KINESIS_PRODUCER_OPTIONS,
  KINESIS_CLIENT,
  PUT_RECORDS_MAX_RECORDS,
  PUT_RECORDS_MAX_BYTES,
  RECORD_MAX_BYTES,
  type KinesisProducerOptions,
  type ProducerOrdering,
} from './producer/producer-options';
export { ShardMap, loadShardMap, type ShardRange, type StreamReference } from './producer/shard-map';
export { partitionKeyHash, partitionKeyHashKey, hashKeyToBytes, bytesToHashKey } from './producer/hash-key';
export { StreamAdmin, type StreamAdminOptions, type CreateStreamOptions, type WaitOption } from './admin/stream-admin';
export type { StreamDescription, ShardDescription, StreamListEntry, StreamMode } from './admin/stream-description';

/* KMS */
export { KmsService, KMS_MAX_PLAINTEXT_BYTES, type DataKey, type KmsFileOptions } from './kms/kms.service';
export { KmsSecretProvider } from './kms/kms-secret-provider';
export { KMS_SERVICE_OPTIONS, type KmsServiceOptions } from './kms/kms-options';
export type { EncryptionContext } from './kms/encryption-context';
export type { EnvelopeDecryptResult, ProgressListener } from './kms/envelope-cipher';

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
  ProducerError,
  StreamAdminError,
  ShardStoppedError,
  NonRetryableError,
  LeaseLostError,
  StartupError,
  type StoppedShard,
} from './core/errors';
export { KmsError } from './kms/kms-error';
export { UsageError } from './cli/usage-error';
