import { NodeHttpHandler } from '@smithy/node-http-handler';

/** Options of {@link createHttpHandler}. */
export interface HttpHandlerOptions {
  /** A connection not established within this many ms fails the call. */
  readonly connectionTimeoutMs: number;
  /**
   * A call with no response within this many ms fails with a `TimeoutError`, and so does a connection silent this
   * long. Leave it out for calls that stay open by design (SubscribeToShard's event stream).
   */
  readonly requestTimeoutMs?: number;
  /** Keep-alive connections per endpoint at most. Default: the handler's own (50). */
  readonly maxSockets?: number;
}

/**
 * The HTTP/1.1 handler of every AWS client shardline creates (Kinesis, DynamoDB, KMS). Its request timeout fails the
 * call: the handler's `requestTimeout` alone only logs a warning, so a call to an endpoint that accepts and never
 * answers would wait for ever (a stuck shard, a lease renewal or a secret that never comes).
 */
export function createHttpHandler(options: HttpHandlerOptions): NodeHttpHandler {
  const agent = options.maxSockets === undefined ? undefined : { keepAlive: true, maxSockets: options.maxSockets };
  return new NodeHttpHandler({
    connectionTimeout: options.connectionTimeoutMs,
    ...(options.requestTimeoutMs === undefined
      ? {}
      : { requestTimeout: options.requestTimeoutMs, throwOnRequestTimeout: true, socketTimeout: options.requestTimeoutMs }),
    ...(agent === undefined ? {} : { httpAgent: agent, httpsAgent: agent }),
  });
}
