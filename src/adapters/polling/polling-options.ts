import { type MetricsRecorder } from '../../metrics/metrics-recorder';
import { type KinesisClient } from '@aws-sdk/client-kinesis';
import { type CheckpointStore } from '../../checkpoint-stores/checkpoint-store';
import { type InitialPosition } from '../../core/consumer-options';
import { type Logger } from '../../core/logger';
import { type MemoryBudget } from './memory-budget';
import { type ShardFetcherFactory } from './shard-fetcher';

/**
 * Lease timing and identity of a polling process sharing a stream with others (checkpoints in DynamoDB): see
 * docs/leases.md for the protocol and why the defaults are what they are.
 */
export interface PollingLeaseOptions {
  /** A lease not renewed for this long may be taken by another process. Default 10,000 (the KCL's). */
  readonly failoverTimeMs?: number;
  /** How often this process renews the leases it holds. Default failover / 3 − 25 (3,308). */
  readonly leaseRenewalIntervalMs?: number;
  /** How often this process scans the table to take its fair share. Default failover / 2 (5,000). */
  readonly leaseTakerIntervalMs?: number;
  /** This process's `leaseOwner` (prefixed with `shardline:` when it lacks it). Default `shardline:<host>:<pid>:<random>`. */
  readonly workerId?: string;
}

/** Options of {@link PollingRecordSource}. */
export interface PollingRecordSourceOptions {
  /** The stream's name or ARN. */
  readonly streamName: string;
  /** A Kinesis client; make one with `createKinesisClient({ region, endpoint })`. */
  readonly client: KinesisClient;
  /**
   * Where checkpoints are kept (file or DynamoDB). The source opens it on subscribe and closes it in
   * {@link PollingRecordSource.close}. With a `DynamoDbCheckpointStore` the process is a member of a fleet: it reads
   * only the shards whose lease it holds, and shares the stream with every process on the same table (see `leases`).
   * The file and memory stores are for one process.
   */
  readonly checkpointStore: CheckpointStore;
  /** Where a shard without checkpoint starts (children of a resharding always start at TRIM_HORIZON). Default TRIM_HORIZON. */
  readonly initialPosition?: InitialPosition;
  readonly logger?: Logger;
  /** GetRecords `Limit`, at most 10,000. Default 10,000 (the memory budget can make it smaller). */
  readonly maxRecordsPerCall?: number;
  /**
   * Bound on the bytes of records read and not yet acknowledged by the application, across every shard of the
   * source: each GetRecords waits for room and its `Limit` is shaped to fit (at least 1 record, so a shard always
   * progresses). Counted per record: its payload as held (base64 text until read), partition key, sequence number and
   * 128 bytes of objects. Default 6,291,456 (6 MiB). Ignored when `memoryBudget` is given.
   */
  readonly maxBufferedBytes?: number;
  /** A budget shared with other sources of the process (the CLI gives one to all its consumers). Default: one per source. */
  readonly memoryBudget?: MemoryBudget;
  /** The source's name in logs and in the `source` of metrics. Default `polling` (`efo` when reading by enhanced fan-out under the CLI). */
  readonly sourceName?: string;
  /** Least time between two GetRecords calls of a shard that is behind (Kinesis allows 5 per second). Default 200. */
  readonly minPollIntervalMs?: number;
  /** Time between two GetRecords calls of a shard that is caught up (an empty page, or 0 ms behind). Default 1,000. */
  readonly idlePollIntervalMs?: number;
  /** How often ListShards looks for new shards (children are also found from `ChildShards` at a shard's end). Default 30,000. */
  readonly shardSyncIntervalMs?: number;
  /** First backoff delay after a throttled or failed call (Kinesis or checkpoint store); doubles each time, with full jitter. Default 100. */
  readonly retryBaseMs?: number;
  /** Upper bound of a backoff delay. Default 5,000. */
  readonly retryCapMs?: number;
  /** At most one warn line per operation and shard about retried calls in this many ms. Default 10,000. */
  readonly retryWarnIntervalMs?: number;
  /**
   * Bound on start-up: the stream must be found, and Kinesis must answer, within this time, or the source fails with
   * a `StartupError` naming the endpoint (an unreachable endpoint, an unknown host, a missing stream). Default 30,000.
   */
  readonly startupTimeoutMs?: number;
  /** How `StartupError` names the endpoint (`endpoint http://127.0.0.1:4567`). Default: read from the client. */
  readonly endpointDescription?: string;
  /**
   * Attempts of one checkpoint write on throttling, 5xx or network errors (the first included), with the backoff of
   * `retryBaseMs`/`retryCapMs`. A shard whose checkpoint still fails is released and reopened from its stored
   * checkpoint after `reopenDelayMs`. Default 6.
   */
  readonly checkpointAttempts?: number;
  /** First delay before a released shard is reopened (doubles on each failure in a row, up to 60,000, with jitter). Default 1,000. */
  readonly reopenDelayMs?: number;
  /** Split KPL aggregated records into user records. Default true. */
  readonly deaggregate?: boolean;
  /**
   * Parse GetRecords records from the response body directly, leaving payloads as base64 text until a handler reads
   * them (skips the SDK's per-record base64 validation and decoding). Default true; false uses the SDK's records.
   */
  readonly rawRecordParsing?: boolean;
  /** Random numbers for the jitter (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
  /** Lease timing and worker id when the checkpoint store is a `DynamoDbCheckpointStore` (ignored otherwise). */
  readonly leases?: PollingLeaseOptions;
  /** Told of every GetRecords call (duration and result), labelled with this application name. Default: none. */
  readonly metrics?: { readonly recorder: MetricsRecorder; readonly application: string };
  /**
   * Where each shard's pages come from. Default: GetRecords polling. `EnhancedFanOut.fetcher` reads by
   * SubscribeToShard instead (leases, checkpoints, resharding and the memory budget stay the polling adapter's).
   */
  readonly shardFetcher?: ShardFetcherFactory;
}
