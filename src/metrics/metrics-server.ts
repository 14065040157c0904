import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { monitorEventLoopDelay, type IntervalHistogram } from 'node:perf_hooks';
import { ConfigurationError } from '../core/errors';
import { type PrometheusMetrics } from './prometheus-metrics';
import { type ShardStatusBoard } from './shard-status-board';
import { STATUS_PAGE_CONTENT_SECURITY_POLICY } from './status-page';

/** Options of {@link startMetricsServer}. */
export interface MetricsServerOptions {
  /** TCP port; 0 picks a free one. */
  readonly port: number;
  /** Interface to listen on. Default `127.0.0.1`; `0.0.0.0` to be scraped from outside the host or container. */
  readonly host?: string;
  /** Serves `/metrics` when given. */
  readonly prometheus?: PrometheusMetrics;
  /** Serves `/readyz`, `/status.json` and the status page. */
  readonly board: ShardStatusBoard;
  /** The status page's HTML (served at `/`). */
  readonly statusPage?: () => string;
  /** `/healthz` fails when the event loop was blocked longer than this since the previous check. Default 10,000. */
  readonly livenessMaxEventLoopDelayMs?: number;
}

/** A running metrics and health server. */
export interface MetricsServer {
  /** `http://host:port`. */
  readonly url: string;
  readonly port: number;
  close(): Promise<void>;
}

/**
 * One HTTP server for operators, on one port: `/metrics` (Prometheus), `/healthz` (liveness: the process answers
 * and its event loop is not blocked), `/readyz` (readiness: every shard open and none stopped, lag under the
 * threshold), `/status.json` and `/` (the live status page). Health bodies are JSON and say why not (HTTP 503).
 * @throws ConfigurationError when the port is in use or not allowed, naming it.
 */
export async function startMetricsServer(options: MetricsServerOptions): Promise<MetricsServer> {
  const host = options.host ?? '127.0.0.1';
  const loop: IntervalHistogram = monitorEventLoopDelay({ resolution: 20 });
  loop.enable();
  const started = Date.now();
  const maxDelayMs = options.livenessMaxEventLoopDelayMs ?? 10_000;
  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const path = new URL(request.url ?? '/', 'http://localhost').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') return send(response, 405, 'text/plain', 'only GET\n');
    switch (path) {
      case '/metrics':
        if (options.prometheus === undefined) return send(response, 404, 'text/plain', 'Prometheus metrics are off\n');
        return send(response, 200, options.prometheus.contentType, await options.prometheus.render());
      case '/healthz': {
        const delayMs = { p99: round(loop.percentile(99) / 1e6), max: round(loop.max / 1e6) };
        loop.reset();
        const ok = delayMs.max <= maxDelayMs;
        return json(response, ok ? 200 : 503, {
          status: ok ? 'ok' : 'error',
          uptimeSeconds: Math.round((Date.now() - started) / 1_000),
          eventLoopDelayMs: delayMs,
          ...(ok ? {} : { reason: `the event loop was blocked for ${delayMs.max} ms (over ${maxDelayMs} ms): a handler runs synchronous work for too long` }),
        });
      }
      case '/readyz': {
        const ready = options.board.readiness();
        return json(response, ready.status === 'ok' ? 200 : 503, ready);
      }
      case '/status.json':
        return json(response, 200, options.board.snapshot());
      case '/':
        if (options.statusPage === undefined) return send(response, 404, 'text/plain', 'no status page\n');
        response.setHeader('content-security-policy', STATUS_PAGE_CONTENT_SECURITY_POLICY);
        return send(response, 200, 'text/html; charset=utf-8', options.statusPage());
      default:
        return send(response, 404, 'text/plain', 'not found: try /metrics, /healthz, /readyz, /status.json or /\n');
    }
  };
  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => send(response, 500, 'text/plain', `${(error as Error).message}\n`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) => {
      loop.disable();
      const what = `--metrics-port ${options.port} on ${host}`;
      if (error.code === 'EADDRINUSE') reject(new ConfigurationError(`${what} is in use by another process: choose another port`, { cause: error }));
      else if (error.code === 'EACCES') reject(new ConfigurationError(`${what} is not allowed for this user (ports below 1024 need privileges): choose a port from 1024 to 65535`, { cause: error }));
      else reject(new ConfigurationError(`cannot listen on ${what}: ${error.message}`, { cause: error }));
    });
    server.listen(options.port, host, () => resolve());
  });
  const address = server.address();
  const port = typeof address === 'object' && address !== null ? address.port : options.port;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve) => {
        loop.disable();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store' });
  response.end(body);
}

function json(response: ServerResponse, status: number, body: unknown): void {
  send(response, status, 'application/json', `${JSON.stringify(body)}\n`);
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
