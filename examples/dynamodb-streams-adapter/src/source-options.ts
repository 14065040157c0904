import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { type DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { type CheckpointStore, type Logger } from 'shardline';
import { type RecordDataMapper } from './stream-change';

/** Options of {@link DynamoDbStreamsRecordSource}. Give `tableName` (with `dynamoDbClient`) or `streamArn`. */
export interface DynamoDbStreamsRecordSourceOptions {
  readonly client: DynamoDBStreamsClient;
  /** The table whose latest stream is read (found with DescribeTable, so `dynamoDbClient` is needed too). */
  readonly tableName?: string;
  /** The stream to read, instead of `tableName`. */
  readonly streamArn?: string;
  /** Client for DescribeTable when `tableName` is given. */
  readonly dynamoDbClient?: DynamoDBClient;
  /**
   * Where checkpoints live (the public `CheckpointStore` of shardline: `FileCheckpointStore`, `MemoryCheckpointStore`,
   * `DynamoDbCheckpointStore`). Its stream name should name the table (or the stream).
   */
  readonly checkpointStore: CheckpointStore;
  /** Where shards without a checkpoint start. Default `TRIM_HORIZON` (DynamoDB Streams have no AT_TIMESTAMP). */
  readonly initialPosition?: 'TRIM_HORIZON' | 'LATEST';
  /** GetRecords `Limit` (DynamoDB Streams allow at most 1,000). Default 1,000. */
  readonly maxRecordsPerCall?: number;
  /** Wait before the next GetRecords of a shard whose last page was empty. Default 1,000. */
  readonly idlePollIntervalMs?: number;
  /** How often DescribeStream looks for new shards (DynamoDB rolls shards over every few hours). Default 10,000. */
  readonly shardSyncIntervalMs?: number;
  /** The stream must answer within this at start-up, or the source fails with a StartupError. Default 30,000. */
  readonly startupTimeoutMs?: number;
  /** First retry delay after a throttle, a 5xx or a network error; doubled up to `retryCapMs`, with jitter. Default 100. */
  readonly retryBaseMs?: number;
  /** Longest retry delay. Default 5,000. */
  readonly retryCapMs?: number;
  /** A checkpoint write is tried this many times before the shard is released and reopened. Default 5. */
  readonly checkpointAttempts?: number;
  /**
   * Complete the event stream once every shard was read to its end and the stream is disabled (no shard can appear
   * any more). Default true. With false the source polls until it is unsubscribed.
   */
  readonly completeWhenDisabled?: boolean;
  /**
   * What each record's `data` holds. Default: the JSON of the {@link StreamChange} (read it with
   * `record.json<StreamChange>()`). Give a function to hand handlers something else, e.g. one attribute of the new image.
   */
  readonly recordData?: RecordDataMapper;
  /** Named in start-up errors (the endpoint or region), so that one line says where the stream was looked for. */
  readonly endpointDescription?: string;
  readonly logger?: Logger;
  /** Random numbers for the jitter (tests pass a fixed one). Default Math.random. */
  readonly random?: () => number;
}
