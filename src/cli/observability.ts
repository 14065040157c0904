import { createWriteStream, mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { combineRecorders, type MetricsRecorder } from '../metrics/metrics-recorder';
import { EmfMetrics } from '../metrics/emf-metrics';
import { startMetricsServer, type MetricsServer } from '../metrics/metrics-server';
import { PrometheusMetrics } from '../metrics/prometheus-metrics';
import { ShardStatusBoard } from '../metrics/shard-status-board';
import { renderStatusPage } from '../metrics/status-page';
import { ConfigurationError } from '../core/errors';
import { type Logger } from '../core/logger';
import { UsageError } from './usage-error';

/** The observability options shared by `run` and `dev`. */
export interface ObservabilityOptions {
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  /** `true` for stderr, or a file path. */
  readonly metricsEmf?: boolean | string;
  readonly metricsEmfNamespace?: string;
  readonly readyMaxLagMs?: number;
}

/** What {@link startObservability} set up: the recorder to give the apps, and how to stop it. */
export interface Observability {
  readonly recorder: MetricsRecorder | undefined;
  readonly server: MetricsServer | undefined;
  dispose(): Promise<void>;
}

/**
 * Starts what the options ask for: the Prometheus / health / status server on `--metrics-port`, CloudWatch EMF
 * lines with `--metrics-emf`. In KCL mode every shard runs in its own child process, so a fixed port cannot work:
 * refused, pointing at EMF (each child reports its shard) and the daemon's own CloudWatch metrics.
 */
export async function startObservability(options: ObservabilityOptions, adapter: string, version: string, logger: Logger): Promise<Observability> {
  if (options.metricsPort !== undefined && adapter === 'kcl') {
    throw new UsageError(
      '--metrics-port cannot be used with --adapter kcl: the daemon runs one child process per shard, and they cannot share a port; use --metrics-emf (each child writes its shard\'s CloudWatch EMF lines) and the daemon\'s own metrics (kcl properties --metrics-level)',
    );
  }
  const recorders: MetricsRecorder[] = [];
  let server: MetricsServer | undefined;
  let board: ShardStatusBoard | undefined;
  let emf: EmfMetrics | undefined;
  let emfFile: ReturnType<typeof createWriteStream> | undefined;
  if (options.metricsPort !== undefined) {
    const prometheus = new PrometheusMetrics({ buildInfo: { version, adapter } });
    board = new ShardStatusBoard(options.readyMaxLagMs !== undefined ? { readyMaxLagMs: options.readyMaxLagMs } : {});
    try {
      server = await startMetricsServer({ port: options.metricsPort, host: options.metricsHost ?? '127.0.0.1', prometheus, board, statusPage: loadStatusPage() });
    } catch (error) {
      board.close();
      if (error instanceof ConfigurationError) throw new UsageError(error.message, { cause: error });
      throw error;
    }
    recorders.push(prometheus, board);
    logger.info(`Metrics on ${server.url}/metrics, health on /healthz and /readyz, status page on ${server.url}/`);
  }
  if (options.metricsEmf !== undefined && options.metricsEmf !== false) {
    let write: ((line: string) => void) | undefined;
    if (typeof options.metricsEmf === 'string') {
      mkdirSync(dirname(options.metricsEmf), { recursive: true });
      const file = createWriteStream(options.metricsEmf, { flags: 'a' });
      emfFile = file;
      write = (line) => file.write(`${line}\n`);
    }
    emf = new EmfMetrics({ ...(write ? { write } : {}), ...(options.metricsEmfNamespace ? { namespace: options.metricsEmfNamespace } : {}) });
    recorders.push(emf);
  }
  return {
    recorder: recorders.length === 0 ? undefined : recorders.length === 1 ? recorders[0] : combineRecorders(recorders),
    server,
    async dispose() {
      emf?.close();
      if (emfFile !== undefined) await new Promise<void>((resolve) => emfFile.end(resolve));
      board?.close();
      await server?.close();
    },
  };
}

/** The status page, rendered once (it is static: it reads status.json by itself). */
function loadStatusPage(): () => string {
  const html = renderStatusPage();
  return () => html;
}
