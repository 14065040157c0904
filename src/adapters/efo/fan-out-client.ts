import { KinesisClient, type KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { NodeHttp2Handler } from '@smithy/node-http-handler';
import { createHttpHandler } from '../../core/http-handler';
import { DEFAULT_REGION, type KinesisClientOptions } from '../../kinesis/create-kinesis-client';

/** Default HTTP/2 flow-control window of a subscription: what Kinesis may send ahead of the reader (512 KiB, as the KCL). */
export const DEFAULT_FAN_OUT_WINDOW_BYTES = 512 * 1024;

/** Options of {@link createFanOutClient}. */
export interface FanOutClientOptions extends Pick<KinesisClientOptions, 'region' | 'endpoint' | 'credentials' | 'profile'> {
  /**
   * HTTP/2, as AWS requires for SubscribeToShard. Default: true, except for `http://` endpoints (the local emulators:
   * kinesis-local breaks SubscribeToShard streams over HTTP/2, see docs/efo.md).
   */
  readonly http2?: boolean;
  /**
   * HTTP/2 flow-control window per subscription: the bytes Kinesis may send that the reader has not taken yet. It
   * bounds the memory of a shard whose handler is slow, and the throughput (at most one window per round trip).
   * Default {@link DEFAULT_FAN_OUT_WINDOW_BYTES}.
   */
  readonly windowBytes?: number;
}

/**
 * A Kinesis client for SubscribeToShard only: HTTP/2 with a session per subscription and no request timeout (a
 * subscription is idle while its reader waits for a slow handler; the fan-out reader has its own watchdog). Keep an
 * ordinary client (`createKinesisClient`, HTTP/1.1) for every other call. The SDK does not retry here: the fan-out
 * reader does, paced to one call per second per shard.
 */
export function createFanOutClient(options: FanOutClientOptions = {}): KinesisClient {
  const http2 = options.http2 ?? !(options.endpoint?.startsWith('http://') ?? false);
  const windowBytes = options.windowBytes ?? DEFAULT_FAN_OUT_WINDOW_BYTES;
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? DEFAULT_REGION;
  const local = options.endpoint?.startsWith('http://') ?? false;
  const credentials = options.credentials ?? (local ? { accessKeyId: 'shardline-local', secretAccessKey: 'shardline-local' } : undefined);
  const config: KinesisClientConfig = {
    region,
    requestHandler: http2
      ? new NodeHttp2Handler({ disableConcurrentStreams: true, nodeHttp2ConnectOptions: { settings: { initialWindowSize: windowBytes } } })
      : // Each subscription holds its connection for up to 5 minutes: the SDK's default of 50 sockets left every shard
        // past the 50th waiting for a connection for ever.
        createHttpHandler({ connectionTimeoutMs: 10_000, maxSockets: Infinity }),
    // The fan-out reader retries on its own, at most one call per second per shard (the SDK would retry at once).
    maxAttempts: 1,
    ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    ...(credentials === undefined ? {} : { credentials }),
    ...(options.profile === undefined ? {} : { profile: options.profile }),
  };
  return new KinesisClient(config);
}
