import { KinesisClient } from '@aws-sdk/client-kinesis';
import type { KinesisClientConfig } from '@aws-sdk/client-kinesis';
import { createHttpHandler } from '../core/http-handler';

/** Options for {@link createKinesisClient}. */
export interface KinesisClientOptions {
  /** AWS region; defaults to `AWS_REGION`, then `AWS_DEFAULT_REGION`, then `us-east-1`. */
  readonly region?: string;
  /** A custom endpoint URL (kinesis-local, kinesalite, a VPC endpoint). */
  readonly endpoint?: string;
  /**
   * Credentials or a credential provider. When omitted: the SDK's default chain for AWS endpoints, and a dummy
   * static pair for `http://` endpoints (the local emulators accept any credentials).
   */
  readonly credentials?: KinesisClientConfig['credentials'];
  /**
   * A named profile of `~/.aws/config` / `~/.aws/credentials` for the SDK's default credential chain (and region
   * settings) of this client only, instead of `AWS_PROFILE`. Ignored when `credentials` is given.
   */
  readonly profile?: string;
  /** Maximum attempts the SDK itself makes per call (its own retry strategy); shardline's readers retry on top. Default 3. */
  readonly maxAttempts?: number;
  /**
   * A call with no response within this many milliseconds fails with a `TimeoutError` (retried like any network
   * error), and so does a response whose connection stays silent this long. Default 30 000.
   */
  readonly requestTimeoutMs?: number;
  /**
   * Connections kept open to the endpoint at most (requests beyond wait for one). Default 256: the SDK's own default
   * of 50 queued the GetRecords of a process reading more than 50 shards at once (the polling adapter's memory budget
   * bounds how many calls are in flight).
   */
  readonly maxSockets?: number;
}

/** Default of {@link KinesisClientOptions.maxSockets}. */
export const DEFAULT_MAX_SOCKETS = 256;

/** Region used when none is given and none is set in the environment. */
export const DEFAULT_REGION = 'us-east-1';

/**
 * Creates a {@link KinesisClient} configured the way shardline needs it.
 *
 * It always passes an HTTP/1.1 `NodeHttpHandler` (the SDK's default handler fails at random against the local
 * emulators) with keep-alive connections, up to `maxSockets` of them, uses dummy static credentials for plain-HTTP endpoints unless credentials are given, and resolves
 * the region from the options, then `AWS_REGION` / `AWS_DEFAULT_REGION`, then `us-east-1`.
 */
export function createKinesisClient(options: KinesisClientOptions = {}): KinesisClient {
  const region = options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? DEFAULT_REGION;
  const isLocalHttp = options.endpoint !== undefined && options.endpoint.startsWith('http://');
  const credentials =
    options.credentials ?? (isLocalHttp ? { accessKeyId: 'shardline-local', secretAccessKey: 'shardline-local' } : undefined);
  const config: KinesisClientConfig = {
    region,
    requestHandler: createHttpHandler({
      connectionTimeoutMs: 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 30_000,
      maxSockets: options.maxSockets ?? DEFAULT_MAX_SOCKETS,
    }),
    maxAttempts: options.maxAttempts ?? 3,
  };
  if (options.endpoint !== undefined) config.endpoint = options.endpoint;
  if (credentials !== undefined) config.credentials = credentials;
  if (options.profile !== undefined) config.profile = options.profile;
  return new KinesisClient(config);
}
