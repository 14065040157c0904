import { type InjectionToken } from 'tsyringe';
import { type KinesisClient } from '@aws-sdk/client-kinesis';
import { type Logger } from '../core/logger';
import { ConfigurationError } from '../core/errors';

/** How the producer keeps records of one partition key in order. */
export type ProducerOrdering =
  /** No ordering promise: batches go out in parallel and a retried record may land after a later one of its key. */
  | 'none'
  /** At most one record per partition key in flight; a key's next record waits until the previous one is accepted. Batched (PutRecords). */
  | 'per-key'
  /** As `per-key`, and each record is its own PutRecord call carrying `SequenceNumberForOrdering` (the previous record's sequence number). */
  | 'strict';

/** Options of {@link KinesisProducer}. Every limit carries its unit in its name. */
export interface KinesisProducerOptions {
  /** The stream to write to (this or {@link KinesisProducerOptions.streamArn}). */
  readonly streamName?: string;
  /** The stream's ARN (real Kinesis and kinesis-local; kinesalite needs the name). */
  readonly streamArn?: string;
  /** How long a record may wait for a fuller batch before it is sent. Default 100 (the KPL's RecordMaxBufferedTime). */
  readonly lingerMs?: number;
  /** Records per PutRecords call, at most 500 (the Kinesis limit). Default 500. */
  readonly maxBatchRecords?: number;
  /** Bytes (data + partition keys) per PutRecords call, at most 5 MiB (the Kinesis limit). Default 5 MiB. */
  readonly maxBatchBytes?: number;
  /** PutRecords calls in flight at once. Default 4. */
  readonly maxInFlightCalls?: number;
  /**
   * Records accepted by `put` and not settled yet; beyond this `put` waits (never drops). Default: plain mode
   * `2 × maxInFlightCalls × maxBatchRecords` (4 000 with the defaults, at most 20 000), aggregated mode 20 000.
   */
  readonly maxQueuedRecords?: number;
  /** Bytes accepted by `put` and not settled yet; beyond this `put` waits. Default 64 MiB. */
  readonly maxQueuedBytes?: number;
  /** Attempts per record (the first one included) before its `put` rejects. Default 30. */
  readonly maxAttempts?: number;
  /** Base of the capped exponential backoff between attempts (full jitter). Default 100. */
  readonly retryBaseMs?: number;
  /** Cap of the backoff between attempts. Default 5 000. */
  readonly retryCapMs?: number;
  /** Ordering of records of one partition key. Default `'none'`. */
  readonly ordering?: ProducerOrdering;
  /**
   * Pack records into KPL aggregated records (the KCL and shardline's polling adapter de-aggregate them), one
   * aggregate per predicted shard, sent with that shard's ExplicitHashKey so that every record stays on its own
   * key's shard. Default false.
   */
  readonly aggregate?: boolean;
  /** Upper bound on one aggregated record's size. Default 51 200 (the KPL's AggregationMaxSize); at most 1 MiB - 1 KiB. */
  readonly maxAggregateBytes?: number;
  /** How often the shard map used for aggregation is listed again (it is also refreshed when a record lands on an unexpected shard). Default 60 000. */
  readonly shardMapRefreshMs?: number;
  /** Bound on `close()`: records not accepted by then are rejected. Default 30 000. */
  readonly closeTimeoutMs?: number;
  /** Where retries and shard-map refreshes are logged. Default: nowhere. */
  readonly logger?: Logger;
}

/** Options with every default applied. */
export interface NormalizedProducerOptions {
  readonly streamName: string | undefined;
  readonly streamArn: string | undefined;
  readonly lingerMs: number;
  readonly maxBatchRecords: number;
  readonly maxBatchBytes: number;
  readonly maxInFlightCalls: number;
  readonly maxQueuedRecords: number;
  readonly maxQueuedBytes: number;
  readonly maxAttempts: number;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
  readonly ordering: ProducerOrdering;
  readonly aggregate: boolean;
  readonly maxAggregateBytes: number;
  readonly shardMapRefreshMs: number;
  readonly closeTimeoutMs: number;
  readonly logger: Logger | undefined;
}

/** Kinesis limit: records per PutRecords call. */
export const PUT_RECORDS_MAX_RECORDS = 500;
/** Kinesis limit: bytes per PutRecords call (data blobs and partition keys). */
export const PUT_RECORDS_MAX_BYTES = 5 * 1024 * 1024;
/** Kinesis limit: bytes of one record (data blob and partition key). */
export const RECORD_MAX_BYTES = 1024 * 1024;

/** Injection token of the producer's options (register `{ useValue: { streamName: 'orders' } }`). */
export const KINESIS_PRODUCER_OPTIONS: InjectionToken<KinesisProducerOptions> = Symbol.for('shardline:KinesisProducerOptions');

/** Injection token of the KinesisClient shardline services use (build it with `createKinesisClient`). */
export const KINESIS_CLIENT: InjectionToken<KinesisClient> = Symbol.for('shardline:KinesisClient');

function integer(name: string, value: number | undefined, fallback: number, min: number, max: number): number {
  const result = value ?? fallback;
  if (!Number.isSafeInteger(result) || result < min || result > max) {
    throw new ConfigurationError(`KinesisProducer option ${name} must be a whole number between ${min} and ${max}, got ${String(value)}`);
  }
  return result;
}

/** Applies defaults and checks ranges; throws a ConfigurationError naming the bad option. */
export function normalizeProducerOptions(options: KinesisProducerOptions): NormalizedProducerOptions {
  if ((options.streamName === undefined || options.streamName === '') && (options.streamArn === undefined || options.streamArn === '')) {
    throw new ConfigurationError('KinesisProducer needs a streamName (or streamArn) in its options');
  }
  const ordering = options.ordering ?? 'none';
  if (ordering !== 'none' && ordering !== 'per-key' && ordering !== 'strict') {
    throw new ConfigurationError(`KinesisProducer option ordering must be 'none', 'per-key' or 'strict', got ${String(ordering)}`);
  }
  const aggregate = options.aggregate ?? false;
  if (aggregate && ordering !== 'none') {
    throw new ConfigurationError(`KinesisProducer cannot combine aggregate with ordering '${ordering}': choose one (aggregates already keep the order of the records inside them)`);
  }
  const retryBaseMs = integer('retryBaseMs', options.retryBaseMs, 100, 1, 3_600_000);
  const maxBatchRecords = integer('maxBatchRecords', options.maxBatchRecords, PUT_RECORDS_MAX_RECORDS, 1, PUT_RECORDS_MAX_RECORDS);
  const maxInFlightCalls = integer('maxInFlightCalls', options.maxInFlightCalls, 4, 1, 1000);
  return {
    streamName: options.streamName,
    streamArn: options.streamArn,
    lingerMs: integer('lingerMs', options.lingerMs, 100, 0, 3_600_000),
    maxBatchRecords,
    maxBatchBytes: integer('maxBatchBytes', options.maxBatchBytes, PUT_RECORDS_MAX_BYTES, RECORD_MAX_BYTES, PUT_RECORDS_MAX_BYTES),
    maxInFlightCalls,
    maxQueuedRecords: integer('maxQueuedRecords', options.maxQueuedRecords, defaultMaxQueuedRecords(aggregate, maxInFlightCalls, maxBatchRecords), 1, Number.MAX_SAFE_INTEGER),
    maxQueuedBytes: integer('maxQueuedBytes', options.maxQueuedBytes, 64 * 1024 * 1024, RECORD_MAX_BYTES, Number.MAX_SAFE_INTEGER),
    maxAttempts: integer('maxAttempts', options.maxAttempts, 30, 1, 1_000_000),
    retryBaseMs,
    retryCapMs: integer('retryCapMs', options.retryCapMs, 5_000, retryBaseMs, 3_600_000),
    ordering,
    aggregate,
    maxAggregateBytes: integer('maxAggregateBytes', options.maxAggregateBytes, 51_200, 1024, RECORD_MAX_BYTES - 1024),
    shardMapRefreshMs: integer('shardMapRefreshMs', options.shardMapRefreshMs, 60_000, 1000, 86_400_000),
    closeTimeoutMs: integer('closeTimeoutMs', options.closeTimeoutMs, 30_000, 0, 86_400_000),
    logger: options.logger,
  };
}

/**
 * Default of `maxQueuedRecords`. Plain mode: twice what the calls in flight carry (the full batches in flight plus as
 * many ready to go), so that every call can be filled while the queue stays short enough for its records to die young
 * (a deeper queue only keeps records alive across garbage collections). Aggregated mode: 20 000, because one call carries
 * aggregates of many user records.
 */
export function defaultMaxQueuedRecords(aggregate: boolean, maxInFlightCalls: number, maxBatchRecords: number): number {
  return aggregate ? 20_000 : Math.min(20_000, 2 * maxInFlightCalls * maxBatchRecords);
}
