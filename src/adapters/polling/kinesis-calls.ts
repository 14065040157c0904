import {
  DescribeStreamSummaryCommand,
  GetShardIteratorCommand,
  ListShardsCommand,
  type GetShardIteratorCommandInput,
  type KinesisClient,
  type ListShardsCommandOutput,
} from '@aws-sdk/client-kinesis';
import { type CheckpointPosition } from '../../core/checkpoint-position';
import { ShardlineError, SourceError, StartupError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { backoffWithJitter } from '../../core/sleep';
import { classifyKinesisError } from './kinesis-error-kind';
import { type GetRecordsResult } from '../../metrics/metrics-recorder';
import { type RunTimers } from './run-timers';
import { type DiscoveredShard } from './shard-lineage';

/** Where a shard's iterator starts. */
export type StartSpec =
  | { readonly type: 'TRIM_HORIZON' | 'LATEST' }
  | { readonly type: 'AT_TIMESTAMP'; readonly timestamp: Date }
  | { readonly type: 'AT_SEQUENCE_NUMBER'; readonly position: CheckpointPosition };

/** Settings of {@link KinesisCalls}. */
export interface KinesisCallsOptions {
  readonly client: KinesisClient;
  readonly streamName: string;
  readonly logger: Logger;
  readonly timers: RunTimers;
  readonly retryBaseMs: number;
  readonly retryCapMs: number;
  /** At most one retry warning per operation and shard in this many ms (the others are counted in the next line). */
  readonly retryWarnIntervalMs: number;
  readonly random: () => number;
  /** Told of each attempt of an operation (duration and result), e.g. for GetRecords metrics. */
  readonly observe?: (operation: string, shardId: string | undefined, durationMs: number, result: GetRecordsResult) => void;
  /** How to name the endpoint in a start-up error (`--endpoint http://…` or `region eu-west-1`); derived from the client otherwise. */
  readonly endpointDescription?: string;
}

/** A call's limits: the signal that aborts it, and (during start-up) the time after which it gives up. */
export interface CallLimits {
  readonly signal: AbortSignal;
  /** Epoch ms: past it, retryable errors end the call with a {@link StartupError} instead of another retry. */
  readonly deadline?: number;
}

/**
 * The Kinesis calls of a polling run, each retried on throttling, 5xx and network errors with capped exponential
 * backoff and full jitter. Retries are visible (a warn line, at most one per operation and shard every
 * `retryWarnIntervalMs`). During start-up a deadline bounds the retries: an unreachable endpoint, an unknown host or
 * a missing stream ends the start with one {@link StartupError} saying what to check.
 */
export class KinesisCalls {
  private readonly lastWarn = new Map<string, { at: number; suppressed: number }>();

  constructor(private readonly options: KinesisCallsOptions) {}

  /** `{ StreamName }`, or `{ StreamARN }` for an ARN. */
  streamRef(): { StreamName: string } | { StreamARN: string } {
    const name = this.options.streamName;
    return name.startsWith('arn:') ? { StreamARN: name } : { StreamName: name };
  }

  /**
   * Checks that the stream exists and Kinesis answers, within `timeoutMs`.
   * @throws StartupError naming the stream, the endpoint or region, and what to check.
   */
  async checkStream(timeoutMs: number, signal: AbortSignal): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    const bounded = AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]);
    try {
      await this.call('DescribeStreamSummary', undefined, (s) => this.options.client.send(new DescribeStreamSummaryCommand(this.streamRef()), { abortSignal: s }), {
        signal: bounded,
        deadline,
      });
    } catch (error) {
      if (error instanceof StartupError || signal.aborted) throw error;
      const where = await this.where();
      if (classifyKinesisError(error) === 'not-found') {
        throw new StartupError(
          `stream ${this.options.streamName} does not exist at ${where}: create it (shardline streams create ${this.options.streamName}) or check --stream, --region and --endpoint`,
          { cause: error },
        );
      }
      if (classifyKinesisError(error) === 'aborted') throw await this.startupTimeout(error);
      if (error instanceof ShardlineError) throw error;
      throw new StartupError(`cannot read stream ${this.options.streamName} at ${where}: ${(error as Error).message}; check the credentials and permissions`, {
        cause: error,
      });
    }
  }

  /** Every shard of the stream (ListShards with paging). */
  async listShards(limits: CallLimits, stopped: () => boolean): Promise<DiscoveredShard[]> {
    const shards: DiscoveredShard[] = [];
    let nextToken: string | undefined;
    do {
      const token = nextToken;
      const page: ListShardsCommandOutput = await this.call(
        'ListShards',
        undefined,
        (signal) => this.options.client.send(new ListShardsCommand(token !== undefined ? { NextToken: token } : this.streamRef()), { abortSignal: signal }),
        limits,
      );
      for (const shard of page.Shards ?? []) {
        if (shard.ShardId === undefined) continue;
        shards.push({
          shardId: shard.ShardId,
          parentShardIds: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id): id is string => id !== undefined),
          ...(shard.HashKeyRange?.StartingHashKey !== undefined && shard.HashKeyRange.EndingHashKey !== undefined
            ? { hashKeyRange: { startingHashKey: shard.HashKeyRange.StartingHashKey, endingHashKey: shard.HashKeyRange.EndingHashKey } }
            : {}),
          ...(shard.SequenceNumberRange?.StartingSequenceNumber !== undefined ? { startingSequenceNumber: shard.SequenceNumberRange.StartingSequenceNumber } : {}),
        });
      }
      nextToken = page.NextToken;
    } while (nextToken !== undefined && !stopped());
    return shards;
  }

  /** A shard iterator at `spec`. */
  async getIterator(shardId: string, spec: StartSpec, signal: AbortSignal): Promise<string> {
    const input: GetShardIteratorCommandInput = { ...this.streamRef(), ShardId: shardId, ShardIteratorType: spec.type };
    if (spec.type === 'AT_TIMESTAMP') input.Timestamp = spec.timestamp;
    if (spec.type === 'AT_SEQUENCE_NUMBER') input.StartingSequenceNumber = spec.position.sequenceNumber;
    const out = await this.call('GetShardIterator', shardId, (s) => this.options.client.send(new GetShardIteratorCommand(input), { abortSignal: s }), { signal });
    if (out.ShardIterator === undefined) throw new SourceError(`GetShardIterator gave no iterator for ${shardId}`, { shardId });
    return out.ShardIterator;
  }

  /** Runs a Kinesis call, retrying throttles and network errors with capped exponential backoff and full jitter. */
  async call<T>(operation: string, shardId: string | undefined, send: (signal: AbortSignal) => Promise<T>, limits: CallLimits): Promise<T> {
    const { timers } = this.options;
    const observe = this.options.observe;
    for (let attempt = 0; ; attempt++) {
      const started = observe === undefined ? 0 : performance.now();
      try {
        const result = await send(limits.signal);
        observe?.(operation, shardId, performance.now() - started, 'ok');
        return result;
      } catch (error) {
        const kind = classifyKinesisError(error);
        if (kind !== 'aborted') observe?.(operation, shardId, performance.now() - started, kind === 'throttled' ? 'throttled' : kind === 'expired-iterator' ? 'expired_iterator' : 'error');
        if (timers.isCancelled) throw error;
        if (kind === 'aborted' && limits.deadline !== undefined && Date.now() >= limits.deadline - 5) {
          throw await this.startupTimeout(error, operation);
        }
        if (kind === 'fatal') {
          throw new SourceError(`${operation} on ${this.options.streamName}${shardId ? `/${shardId}` : ''} failed: ${(error as Error).message}; check the stream name, region, endpoint and permissions`, {
            cause: error,
            ...(shardId ? { shardId } : {}),
          });
        }
        if (kind !== 'throttled' && kind !== 'network') throw error;
        const delayMs = backoffWithJitter(attempt, this.options.retryBaseMs, this.options.retryCapMs, this.options.random);
        if (limits.deadline !== undefined && Date.now() + delayMs >= limits.deadline) throw await this.startupTimeout(error, operation);
        if (limits.deadline === undefined) this.warnRetry(operation, shardId, kind, error as Error, attempt, delayMs);
        // During start-up a retry is not news: the one line that matters is the StartupError if the deadline passes.
        else this.options.logger.debug(`${operation} failed (${(error as Error).message}); retry ${attempt + 1} in ${delayMs} ms`);
        await timers.sleep(delayMs);
        if (timers.isCancelled) throw error;
      }
    }
  }

  private warnRetry(operation: string, shardId: string | undefined, kind: string, error: Error, attempt: number, delayMs: number): void {
    const key = `${operation}|${shardId ?? ''}`;
    const now = Date.now();
    const last = this.lastWarn.get(key);
    if (last !== undefined && now - last.at < this.options.retryWarnIntervalMs) {
      last.suppressed++;
      return;
    }
    const suppressed = last?.suppressed ?? 0;
    this.lastWarn.set(key, { at: now, suppressed: 0 });
    (shardId ? this.options.logger.child({ shardId }) : this.options.logger).warn(
      `${operation} ${kind === 'throttled' ? 'throttled' : 'failed'} (${error.name}: ${error.message}); retry ${attempt + 1} in ${delayMs} ms` +
        (suppressed > 0 ? ` (${suppressed} more retries since the last line)` : ''),
    );
  }

  /** The start-up error once the start-up timeout passed. */
  private async startupTimeout(error: unknown, operation = 'DescribeStreamSummary'): Promise<StartupError> {
    const where = await this.where();
    const cause = error as Error;
    return new StartupError(
      `cannot reach Kinesis at ${where} for stream ${this.options.streamName} (${operation}: ${cause.name === 'AbortError' ? 'no answer' : cause.message}); ` +
        'check --endpoint/--region, the network and the credentials, or raise --startup-timeout-ms',
      { cause: error },
    );
  }

  /** `--endpoint http://…` or `region us-east-1`. */
  private async where(): Promise<string> {
    if (this.options.endpointDescription !== undefined) return this.options.endpointDescription;
    return describeClientEndpoint(this.options.client);
  }
}

/** Names the client's endpoint (`http://127.0.0.1:4567`) or, for AWS, its region (`region eu-west-1`). */
export async function describeClientEndpoint(client: KinesisClient): Promise<string> {
  const config = client.config as unknown as { endpoint?: () => Promise<unknown>; region?: () => Promise<string>; isCustomEndpoint?: boolean };
  try {
    if (config.isCustomEndpoint === true && typeof config.endpoint === 'function') {
      const ep = (await config.endpoint()) as { protocol?: string; hostname?: string; port?: number; path?: string } | undefined;
      if (ep?.hostname !== undefined) return `endpoint ${ep.protocol ?? 'https:'}//${ep.hostname}${ep.port === undefined ? '' : `:${ep.port}`}`;
    }
    if (typeof config.region === 'function') return `region ${await config.region()}`;
  } catch {
    // fall through
  }
  return 'the configured endpoint';
}
