/**
 * A loopback HTTP proxy in front of dynalite that fails a seeded fraction of DynamoDB calls of one operation (by
 * default UpdateItem, the checkpoint write) with HTTP 400 `ProvisionedThroughputExceededException` in DynamoDB's JSON
 * error shape, in bursts long enough to outlast the SDK's own retries, so that the failure reaches shardline.
 * Point a consumer at it with `AWS_ENDPOINT_URL_DYNAMODB`.
 */
import { createServer, request, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { type SeededRandom } from './seeded-random';

/** Options of {@link startFaultProxy}. */
export interface FaultProxyOptions {
  /** Where calls go when not failed, e.g. dynalite's endpoint. */
  readonly target: string;
  readonly random: SeededRandom;
  /** The operation to fail (the `X-Amz-Target` suffix). Default `UpdateItem`. */
  readonly operation?: string;
  /** Chance that a call of the operation starts a burst of failures. Default 0.1. */
  readonly failureRate?: number;
  /** Consecutive calls of the operation failed per burst. Default 4 (the SDK tries 3 times). */
  readonly burstLength?: number;
}

/** A running proxy. */
export interface FaultProxy {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Calls of the operation seen, and how many were failed. */
  stats(): { readonly calls: number; readonly failed: number };
  close(): Promise<void>;
}

/** Starts the proxy on a free loopback port. */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const target = new URL(options.target);
  const operation = options.operation ?? 'UpdateItem';
  const rate = options.failureRate ?? 0.1;
  const burst = options.burstLength ?? 4;
  let calls = 0;
  let failed = 0;
  let burstLeft = 0;

  const handle = (req: IncomingMessage, res: ServerResponse): void => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      const amzTarget = String(req.headers['x-amz-target'] ?? '');
      if (amzTarget.endsWith(`.${operation}`)) {
        calls++;
        if (burstLeft === 0 && options.random.next() < rate) burstLeft = burst;
        if (burstLeft > 0) {
          burstLeft--;
          failed++;
          const error = JSON.stringify({
            __type: 'com.amazonaws.dynamodb.v20120810#ProvisionedThroughputExceededException',
            message: 'The level of configured provisioned throughput for the table was exceeded (injected by the chaos suite)',
          });
          res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0', 'content-length': Buffer.byteLength(error) });
          res.end(error);
          return;
        }
      }
      const upstream = request(
        { host: target.hostname, port: target.port, method: req.method, path: req.url, headers: { ...req.headers, host: target.host } },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(res);
        },
      );
      upstream.on('error', (error) => {
        res.writeHead(502);
        res.end(String(error));
      });
      upstream.end(body);
    });
  };

  const server: Server = createServer(handle);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stats: () => ({ calls, failed }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
