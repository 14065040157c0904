import { createServer } from 'node:net';
import { ConfigurationError } from 'shardline';
import { startMetricsServer } from '../../../src/metrics/metrics-server';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics';
import { ShardStatusBoard } from '../../../src/metrics/shard-status-board';

const APP = { application: 'app', stream: 's' };

describe('the metrics server', () => {
  it('serves /metrics, /healthz, /readyz (503 with reasons until ready), /status.json and 404 elsewhere', async () => {
    const prometheus = new PrometheusMetrics({ processMetrics: false });
    const board = new ShardStatusBoard();
    const server = await startMetricsServer({ port: 0, prometheus, board, statusPage: () => '<html>status</html>' });
    try {
      prometheus.batchReceived({ ...APP, shardId: 'sh-1' }, { records: 3, bytes: 30 });
      const metrics = await fetch(`${server.url}/metrics`);
      expect(metrics.status).toBe(200);
      expect(metrics.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
      expect(await metrics.text()).toContain('shardline_records_total{application="app",stream="s",shard="sh-1"} 3');

      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(200);
      expect(await health.json()).toMatchObject({ status: 'ok', eventLoopDelayMs: { p99: expect.any(Number) } });

      const notReady = await fetch(`${server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ status: 'error', reasons: ['no consumer has started yet'] });
      board.applicationStarted(APP, 'polling');
      board.shardOpened({ ...APP, shardId: 'sh-1' });
      const ready = await fetch(`${server.url}/readyz`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', reasons: [] });

      const status = (await (await fetch(`${server.url}/status.json`)).json()) as { applications: Array<{ shards: Array<{ shardId: string }> }> };
      expect(status.applications[0]!.shards.map((s) => s.shardId)).toEqual(['sh-1']);
      const page = await fetch(`${server.url}/`);
      expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await page.text()).toBe('<html>status</html>');
      expect((await fetch(`${server.url}/nope`)).status).toBe(404);
    } finally {
      await server.close();
      board.close();
    }
  });

  it('/healthz fails, saying why, after the event loop was blocked past the limit', async () => {
    const board = new ShardStatusBoard();
    const server = await startMetricsServer({ port: 0, board, livenessMaxEventLoopDelayMs: 100 });
    try {
      await new Promise((resolve) => setTimeout(resolve, 100)); // the monitor has been running for a while
      const until = Date.now() + 300;
      while (Date.now() < until) {
        // block the event loop, as a handler doing synchronous work would
      }
      await new Promise((resolve) => setTimeout(resolve, 60)); // the monitor records the delay on the loop's next turn
      const health = await fetch(`${server.url}/healthz`);
      expect(health.status).toBe(503);
      expect(((await health.json()) as { reason: string }).reason).toMatch(/^the event loop was blocked for \d+(\.\d)? ms \(over 100 ms\)/);
      expect((await fetch(`${server.url}/healthz`)).status).toBe(200); // measured since the previous check
    } finally {
      await server.close();
      board.close();
    }
  });

  it('a port in use is one ConfigurationError naming it', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    const board = new ShardStatusBoard();
    try {
      const attempt = startMetricsServer({ port, board });
      await expect(attempt).rejects.toThrow(ConfigurationError);
      await expect(startMetricsServer({ port, board })).rejects.toThrow(`--metrics-port ${port} on 127.0.0.1 is in use by another process: choose another port`);
    } finally {
      board.close();
      await new Promise((resolve) => blocker.close(resolve));
    }
  });
});
