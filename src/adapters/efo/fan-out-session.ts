import { type KinesisClient } from '@aws-sdk/client-kinesis';

/** What the fan-out readers of one source share: the consumer, the HTTP/2 client and the retry settings. */
export interface FanOutSession {
  /** The client SubscribeToShard goes through (HTTP/2 on AWS). */
  readonly subscribeClient: KinesisClient;
  /** Least time between two subscriptions of a shard (Kinesis allows one call per second per shard and consumer). */
  readonly minSubscribeIntervalMs: number;
  /** A subscription without any event (nor end) for this long is dropped and opened again. */
  readonly idleTimeoutMs: number;
  /** A subscription ending sooner than this is counted and retried as a broken one (the SDK hides resets). */
  readonly earlyEndMs: number;
  /** Backoff of failed subscriptions: capped exponential with full jitter. */
  readonly retry: { readonly baseMs: number; readonly capMs: number };
  /** The consumer's ARN, once it is registered and ACTIVE (registered at the first call, shared by every shard). */
  consumerArn(signal: AbortSignal): Promise<string>;
  /**
   * After ResourceNotFoundException: looks the consumer up again (registering it again if it was deleted). True when
   * its ARN changed (subscribe again with the new one), false when it is unchanged (the shard itself is gone).
   */
  consumerChanged(signal: AbortSignal): Promise<boolean>;
}
