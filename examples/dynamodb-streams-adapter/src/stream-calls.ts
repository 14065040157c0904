import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type _Record,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import { ConfigurationError, SourceError, StartupError, type Logger } from 'shardline';
import { type DynamoDbStreamsRecordSourceOptions } from './source-options';

/** How a failed call is handled: retried, reopened from the last position, or fatal. */
export type StreamErrorKind = 'aborted' | 'retryable' | 'not-found' | 'expired-iterator' | 'trimmed' | 'fatal';

const RETRYABLE_NAMES = new Set([
  'LimitExceededException',
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
]);
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ENOTFOUND', 'EHOSTUNREACH', 'ECONNABORTED']);

/** Classifies an SDK error by its name, HTTP status and network code. */
export function classifyStreamError(error: unknown): StreamErrorKind {
  const e = error as { name?: string; code?: string; $metadata?: { httpStatusCode?: number }; $retryable?: unknown };
  const name = e?.name ?? '';
  if (name === 'AbortError') return 'aborted';
  if (name === 'ResourceNotFoundException') return 'not-found';
  if (name === 'ExpiredIteratorException') return 'expired-iterator';
  if (name === 'TrimmedDataAccessException') return 'trimmed';
  const status = e?.$metadata?.httpStatusCode ?? 0;
  if (RETRYABLE_NAMES.has(name) || status >= 500 || status === 429 || e?.$retryable !== undefined) return 'retryable';
  if (NETWORK_CODES.has(e?.code ?? '')) return 'retryable';
  return 'fatal';
}

/** A shard as DescribeStream lists it. */
export interface StreamShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  /** Set once the shard is closed (it gets no new records; it was split or rolled over). */
  readonly endingSequenceNumber: string | undefined;
}

/** The stream as DescribeStream sees it. */
export interface StreamSnapshot {
  readonly status: string;
  readonly shards: readonly StreamShard[];
}

/** Where a shard iterator starts. */
export type IteratorStart = { readonly type: 'TRIM_HORIZON' | 'LATEST' } | { readonly type: 'AFTER_SEQUENCE_NUMBER'; readonly sequenceNumber: string };

/** Sleeps `ms`, or until `signal` aborts (then rejects with an AbortError). */
export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(abortError());
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(abortError());
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

function abortError(): Error {
  const error = new Error('stopped');
  error.name = 'AbortError';
  return error;
}

/**
 * The DynamoDB Streams calls of one run, each retried with capped exponential backoff and full jitter while the error
 * is retryable (throttles, 5xx, network errors), and logged at most once per operation every 10 s.
 */
export class StreamCalls {
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly random: () => number;
  private readonly lastWarnAt = new Map<string, number>();

  constructor(
    private readonly options: DynamoDbStreamsRecordSourceOptions,
    private readonly logger: Logger,
    private readonly signal: AbortSignal,
  ) {
    this.baseMs = options.retryBaseMs ?? 100;
    this.capMs = options.retryCapMs ?? 5_000;
    this.random = options.random ?? Math.random;
  }

  /** The stream's ARN: `streamArn`, or the table's LatestStreamArn. */
  async resolveStreamArn(deadline: number): Promise<string> {
    const { streamArn, tableName, dynamoDbClient } = this.options;
    if (streamArn !== undefined) return streamArn;
    if (tableName === undefined || dynamoDbClient === undefined) {
      throw new ConfigurationError('the DynamoDB Streams source needs streamArn, or tableName with dynamoDbClient');
    }
    const table = await this.startupCall('DescribeTable', deadline, (signal) =>
      dynamoDbClient.send(new DescribeTableCommand({ TableName: tableName }), { abortSignal: signal }),
    );
    const arn = table.Table?.LatestStreamArn;
    if (arn === undefined || table.Table?.StreamSpecification?.StreamEnabled !== true) {
      throw new StartupError(`table ${tableName} has no stream enabled: enable one (StreamSpecification StreamEnabled=true, StreamViewType NEW_AND_OLD_IMAGES)`);
    }
    return arn;
  }

  /** DescribeStream at start-up: fails with one StartupError when the stream cannot be read within the deadline. */
  describeAtStartup(streamArn: string, deadline: number): Promise<StreamSnapshot> {
    return this.startupCall('DescribeStream', deadline, () => this.describe(streamArn));
  }

  /** Every shard of the stream (DescribeStream, following LastEvaluatedShardId), retried while retryable. */
  describeStream(streamArn: string): Promise<StreamSnapshot> {
    return this.call('DescribeStream', undefined, () => this.describe(streamArn));
  }

  getIterator(streamArn: string, shardId: string, start: IteratorStart): Promise<string | undefined> {
    return this.call('GetShardIterator', shardId, async (signal) => {
      const output = await this.options.client.send(
        new GetShardIteratorCommand({
          StreamArn: streamArn,
          ShardId: shardId,
          ShardIteratorType: start.type,
          ...(start.type === 'AFTER_SEQUENCE_NUMBER' ? { SequenceNumber: start.sequenceNumber } : {}),
        }),
        { abortSignal: signal },
      );
      return output.ShardIterator;
    });
  }

  /** One GetRecords call, not retried: the reader decides (a failed iterator is taken again from the last position). */
  async getRecords(iterator: string, limit: number): Promise<{ records: readonly _Record[]; nextIterator: string | undefined }> {
    const output = await this.options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), { abortSignal: this.signal });
    return { records: output.Records ?? [], nextIterator: output.NextShardIterator ?? undefined };
  }

  /** Waits the backoff of the `attempt`-th retry (from 0), logging the error at most every 10 s per key. */
  async backoff(key: string, attempt: number, error: unknown, log: Logger = this.logger): Promise<void> {
    const ceiling = Math.min(this.capMs, this.baseMs * 2 ** Math.min(attempt, 20));
    const delayMs = Math.round(this.random() * ceiling);
    const now = Date.now();
    if (now - (this.lastWarnAt.get(key) ?? 0) >= 10_000) {
      this.lastWarnAt.set(key, now);
      log.warn(`${key} failed (${describeError(error)}); retrying in ${delayMs} ms`);
    }
    await abortableSleep(delayMs, this.signal);
  }

  private async describe(streamArn: string): Promise<StreamSnapshot> {
    const shards: StreamShard[] = [];
    let status = 'ENABLED';
    let exclusiveStartShardId: string | undefined;
    // Bounded paging: a stream has at most a few thousand shards in its 24 h of lineage.
    for (let page = 0; page < 1_000; page++) {
      const output = await this.options.client.send(
        new DescribeStreamCommand({ StreamArn: streamArn, ...(exclusiveStartShardId === undefined ? {} : { ExclusiveStartShardId: exclusiveStartShardId }) }),
        { abortSignal: this.signal },
      );
      const description = output.StreamDescription;
      status = description?.StreamStatus ?? status;
      for (const shard of description?.Shards ?? []) {
        const listed = toStreamShard(shard);
        if (listed !== undefined && !shards.some((s) => s.shardId === listed.shardId)) shards.push(listed);
      }
      const next = description?.LastEvaluatedShardId;
      if (next === undefined || next === exclusiveStartShardId) break;
      exclusiveStartShardId = next;
    }
    return { status, shards };
  }

  /** Runs a call, retrying retryable errors until the run stops; other errors are thrown. */
  private async call<T>(operation: string, shardId: string | undefined, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const log = shardId === undefined ? this.logger : this.logger.child({ shardId });
    for (let attempt = 0; ; attempt++) {
      try {
        return await run(this.signal);
      } catch (error) {
        if (classifyStreamError(error) !== 'retryable') throw error;
        await this.backoff(operation, attempt, error, log);
      }
    }
  }

  /** A start-up call: retried until `deadline`, then one StartupError naming the stream and where it was looked for. */
  private async startupCall<T>(operation: string, deadline: number, run: (signal: AbortSignal) => Promise<T>): Promise<T> {
    const where = this.options.endpointDescription === undefined ? '' : ` at ${this.options.endpointDescription}`;
    const what = this.options.streamArn ?? (operation === 'DescribeTable' ? `table ${this.options.tableName ?? '?'}` : `the stream of table ${this.options.tableName ?? '?'}`);
    for (let attempt = 0; ; attempt++) {
      try {
        return await run(this.signal);
      } catch (error) {
        const kind = classifyStreamError(error);
        if (kind === 'aborted') throw error;
        if (kind === 'not-found') {
          throw new StartupError(`${what} does not exist${where} (${operation}); check the table name or stream ARN, the region and the endpoint`, { cause: error });
        }
        if (kind !== 'retryable' || Date.now() >= deadline) {
          throw new StartupError(`${operation} of ${what}${where} failed: ${describeError(error)}; check the endpoint, the region and the credentials`, {
            cause: error,
          });
        }
        await this.backoff(operation, attempt, error);
      }
    }
  }
}

function toStreamShard(shard: Shard): StreamShard | undefined {
  if (shard.ShardId === undefined) return undefined;
  return { shardId: shard.ShardId, parentShardId: shard.ParentShardId ?? undefined, endingSequenceNumber: shard.SequenceNumberRange?.EndingSequenceNumber ?? undefined };
}

/** One line about an error (never its stack; an HTML 5xx body is not worth printing). */
export function describeError(error: unknown): string {
  const e = error as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  const status = e?.$metadata?.httpStatusCode;
  const message = (e?.message ?? String(error)).split('\n')[0] ?? '';
  return `${e?.name ?? 'Error'}${status === undefined ? '' : ` (HTTP ${status})`}: ${message.slice(0, 200)}`;
}

/** Wraps an unexpected error of the run as a SourceError naming the stream. */
export function toSourceError(error: unknown, streamArn: string | undefined): SourceError {
  if (error instanceof SourceError) return error;
  return new SourceError(`reading DynamoDB stream ${streamArn ?? '?'} failed: ${describeError(error)}`, { cause: error });
}
