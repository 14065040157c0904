import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { readCounters } from '../flights-redis/read-counters';
import { createIoRedisClient, type FlightsRedisClient } from '../flights-redis/redis-client';
import { dashboardPage } from './dashboard-page';
import { squarify } from './squarify';

/** Options of {@link startDashboard}. */
export interface DashboardOptions {
  /** The Redis the flights consumer writes to: a URL, or a ready client (the dashboard then does not close it). */
  readonly redis: string | FlightsRedisClient;
  /** Port to listen on; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Address to bind. Default `127.0.0.1`; use `0.0.0.0` to reach it from a phone on the same network. */
  readonly host?: string;
  /** How often the page refreshes the treemap. Default 2,000. */
  readonly refreshMs?: number;
  /** Airport name for a code (`LAX` → `Los Angeles International`); unknown codes show the code alone. */
  readonly airportName?: (code: string) => string | undefined;
  /** Page title. Default "Flights by destination". */
  readonly title?: string;
}

/** A running dashboard. */
export interface Dashboard {
  /** `http://host:port/` */
  readonly url: string;
  readonly port: number;
  /** Stops the server (and the Redis client it created). */
  close(): Promise<void>;
}

/** One tile of `GET /api/treemap`. */
export interface TreemapTileJson {
  readonly dest: string;
  readonly name: string;
  readonly count: number;
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** Body of `GET /api/treemap`. */
export interface TreemapResponse {
  readonly updatedAt: string;
  readonly total: number;
  readonly invalid: number;
  readonly tiles: readonly TreemapTileJson[];
}

const MAX_SIDE_PX = 10_000;

function readSide(url: URL, name: string, fallback: number): number {
  const raw = url.searchParams.get(name);
  const value = raw === null ? fallback : Number(raw);
  if (!Number.isFinite(value) || value < 0) return fallback;
  return Math.min(Math.floor(value), MAX_SIDE_PX);
}

const round = (n: number): number => Math.round(n * 10) / 10;

/**
 * Serves the flights dashboard: `GET /` (the page), `GET /api/treemap?width=&height=` (the counters from Redis laid
 * out as a squarified treemap of that size), `GET /api/counters` (the raw counters) and `GET /healthz`.
 */
export async function startDashboard(options: DashboardOptions): Promise<Dashboard> {
  const owned = typeof options.redis === 'string' ? createIoRedisClient(options.redis) : undefined;
  const redis: FlightsRedisClient = owned ?? (options.redis as FlightsRedisClient);
  const airportName = options.airportName ?? ((): undefined => undefined);
  const page = dashboardPage({ refreshMs: options.refreshMs ?? 2_000, title: options.title ?? 'Flights by destination' });

  const handle = async (request: IncomingMessage, response: ServerResponse): Promise<void> => {
    const url = new URL(request.url ?? '/', 'http://dashboard.local');
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      send(response, 405, 'text/plain; charset=utf-8', 'Only GET is supported\n');
      return;
    }
    switch (url.pathname) {
      case '/':
      case '/index.html':
        send(response, 200, 'text/html; charset=utf-8', page);
        return;
      case '/healthz':
        send(response, 200, 'text/plain; charset=utf-8', 'ok\n');
        return;
      case '/api/counters': {
        const counters = await readCounters(redis);
        sendJson(response, { updatedAt: new Date().toISOString(), ...counters });
        return;
      }
      case '/api/treemap': {
        const counters = await readCounters(redis);
        const width = readSide(url, 'width', 800);
        const height = readSide(url, 'height', 600);
        const layout = squarify(
          counters.destinations.map((d) => ({ value: d.count, data: d })),
          { x: 0, y: 0, width, height },
        );
        const body: TreemapResponse = {
          updatedAt: new Date().toISOString(),
          total: counters.total,
          invalid: counters.invalid,
          tiles: layout.map((t) => ({
            dest: t.data.dest,
            name: airportName(t.data.dest) ?? t.data.dest,
            count: t.data.count,
            x: round(t.x),
            y: round(t.y),
            width: round(t.width),
            height: round(t.height),
          })),
        };
        sendJson(response, body);
        return;
      }
      default:
        send(response, 404, 'text/plain; charset=utf-8', 'Not found\n');
    }
  };

  const server: Server = createServer((request, response) => {
    handle(request, response).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      if (!response.headersSent) send(response, 503, 'application/json', `${JSON.stringify({ error: `cannot read the counters from Redis: ${message}` })}\n`);
      else response.destroy();
    });
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8080, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const shownHost = host === '0.0.0.0' || host === '::' ? 'localhost' : host;
  return {
    url: `http://${shownHost}:${port}/`,
    port,
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      owned?.disconnect();
    },
  };
}

function send(response: ServerResponse, status: number, contentType: string, body: string): void {
  response.writeHead(status, { 'content-type': contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
  response.end(body);
}

function sendJson(response: ServerResponse, body: unknown): void {
  send(response, 200, 'application/json; charset=utf-8', JSON.stringify(body));
}
