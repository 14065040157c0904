import { type KinesisClient } from '@aws-sdk/client-kinesis';
import { ConfigurationError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type ShardFetcherFactory } from '../polling/shard-fetcher';
import { consumerNameProblem } from './consumer-name';
import { FanOutFetcher } from './fan-out-fetcher';
import { type FanOutSession } from './fan-out-session';
import { StreamConsumers, type StreamConsumerInfo } from './stream-consumers';

/** Options of {@link EnhancedFanOut}. */
export interface EnhancedFanOutOptions {
  /** The stream's name or ARN (the same as the polling source's). */
  readonly streamName: string;
  /** The stream consumer to read as (registered if missing): 1 to 128 characters of letters, digits, `_ . -`. */
  readonly consumerName: string;
  /** An ordinary client (HTTP/1.1, `createKinesisClient`) for DescribeStreamSummary and the consumer calls. */
  readonly client: KinesisClient;
  /** The client for SubscribeToShard: `createFanOutClient` (HTTP/2). */
  readonly subscribeClient: KinesisClient;
  readonly logger?: Logger;
  /** Bound on waiting for a registered consumer to become ACTIVE. Default 120,000. */
  readonly activeTimeoutMs?: number;
  /** First backoff after a refused or failed subscription; doubles each time in a row, with full jitter. Default 1,000. */
  readonly subscribeRetryBaseMs?: number;
  /** Upper bound of that backoff. Default 10,000. */
  readonly subscribeRetryCapMs?: number;
  /** Least time between two subscriptions of one shard. Default 1,000 (Kinesis allows one per second). */
  readonly minSubscribeIntervalMs?: number;
  /** A subscription with no event for this long is opened again (Kinesis sends one every few seconds, even idle). Default 60,000. */
  readonly idleTimeoutMs?: number;
  /**
   * A subscription that ends sooner than this after it started is treated as broken (counted, logged, retried after
   * a backoff): the SDK ends the event stream quietly when the connection is reset or sent GOAWAY, while Kinesis
   * ends a healthy one after 5 minutes. Default 240,000.
   */
  readonly earlyEndMs?: number;
}

/**
 * Enhanced fan-out as a read mode of the polling adapter: each shard is read by SubscribeToShard (HTTP/2, pushed,
 * 2 MiB/s per shard for this consumer alone) instead of GetRecords, while discovery, leases, checkpoints,
 * resharding and the memory budget stay the polling adapter's.
 *
 * @example
 * ```ts
 * const client = createKinesisClient({ region: 'eu-west-1' });
 * const fanOut = new EnhancedFanOut({ streamName: 'flights', consumerName: 'billing', client, subscribeClient: createFanOutClient({ region: 'eu-west-1' }) });
 * await fanOut.prepare(); // registers the consumer (billed per shard-hour) and waits until it is ACTIVE
 * const source = new PollingRecordSource({ streamName: 'flights', client, checkpointStore, shardFetcher: fanOut.fetcher });
 * ```
 */
export class EnhancedFanOut implements FanOutSession {
  readonly subscribeClient: KinesisClient;
  readonly minSubscribeIntervalMs: number;
  readonly idleTimeoutMs: number;
  readonly earlyEndMs: number;
  readonly retry: { readonly baseMs: number; readonly capMs: number };
  /** Give it to the polling source as `shardFetcher`. */
  readonly fetcher: ShardFetcherFactory = (context) => new FanOutFetcher(context, this);
  private readonly consumers: StreamConsumers;
  private consumer: Promise<StreamConsumerInfo> | undefined;

  /** @throws ConfigurationError when the consumer name is not one Kinesis accepts. */
  constructor(private readonly options: EnhancedFanOutOptions) {
    const problem = consumerNameProblem(options.consumerName);
    if (problem !== undefined) throw new ConfigurationError(problem);
    this.subscribeClient = options.subscribeClient;
    this.minSubscribeIntervalMs = options.minSubscribeIntervalMs ?? 1_000;
    this.idleTimeoutMs = options.idleTimeoutMs ?? 60_000;
    this.earlyEndMs = options.earlyEndMs ?? 240_000;
    this.retry = { baseMs: options.subscribeRetryBaseMs ?? 1_000, capMs: options.subscribeRetryCapMs ?? 10_000 };
    this.consumers = new StreamConsumers(options.client);
  }

  /**
   * Finds or registers the consumer and waits until it is ACTIVE (once; the readers call it too).
   * @throws FanOutPermissionError naming a missing permission; StartupError when it does not become ACTIVE in time.
   */
  prepare(signal?: AbortSignal): Promise<StreamConsumerInfo> {
    this.consumer ??= this.consumers
      .ensure(this.options.streamName, this.options.consumerName, {
        ...(this.options.activeTimeoutMs === undefined ? {} : { activeTimeoutMs: this.options.activeTimeoutMs }),
        ...(this.options.logger === undefined ? {} : { logger: this.options.logger }),
        ...(signal === undefined ? {} : { signal }),
      })
      .catch((error: unknown) => {
        this.consumer = undefined; // the next reader tries again
        throw error;
      });
    return this.consumer;
  }

  async consumerArn(signal: AbortSignal): Promise<string> {
    return (await this.prepare(signal)).arn;
  }

  async consumerChanged(signal: AbortSignal): Promise<boolean> {
    const known = this.consumer;
    const before = known === undefined ? undefined : (await known.catch(() => undefined))?.arn;
    if (this.consumer === known) this.consumer = undefined; // one lookup for every shard that noticed
    const now = await this.prepare(signal);
    if (now.arn !== before) this.options.logger?.warn(`Stream consumer ${this.options.consumerName} was registered again (its previous ARN is gone): subscribing with the new one`);
    return now.arn !== before;
  }
}
