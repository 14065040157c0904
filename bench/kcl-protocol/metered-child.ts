/**
 * The shardline demo consumer as a KCL child, set up exactly as `shardline run examples/demo-app/demo-app.ts
 * --adapter kcl` does (the compiled modules in dist/, the kcl CLI adapter, the same logger and ShardlineApp options),
 * with or without a MetricsRecorder:
 *   node -r ./dist/cli/register.js bench/kcl-protocol/metered-child.ts off   # no recorder (the control)
 *   node -r ./dist/cli/register.js bench/kcl-protocol/metered-child.ts on    # Prometheus + status board + EMF to a null sink
 * The CLI refuses `--metrics-port` in KCL mode (one child per shard cannot share a port), so this is the only way to
 * measure every recorder in a KCL child. Nothing scrapes `/metrics` here: the Prometheus registry is rendered once at
 * the end (a scrape costs per scrape, not per record), and the EMF lines of every flush are discarded.
 */
import path from 'node:path';

// The demo module imports 'shardline', which Node resolves to this package's dist/ (self-reference): load
// shardline from dist/ too, or the consumer's decorators and the runtime would be two copies of the code.
// Types come from src/ (the same code, before compilation).
/* eslint-disable @typescript-eslint/no-require-imports -- compiled modules, loaded at run time from dist/ */
const DIST = path.resolve(__dirname, '..', '..', 'dist');
const load = <T>(module: string): T => require(path.join(DIST, module)) as T;
const { kclCliAdapter } = load<typeof import('../../src/cli/adapters/kcl.cli-adapter')>('cli/adapters/kcl.cli-adapter');
const { loadConsumers } = load<typeof import('../../src/cli/load-consumers')>('cli/load-consumers');
const { exploreConsumer } = load<typeof import('../../src/core/consumer-explorer')>('core/consumer-explorer');
const { createLogger } = load<typeof import('../../src/core/logger')>('core/logger');
const { ShardlineApp } = load<typeof import('../../src/core/shardline-app')>('core/shardline-app');
const { PrometheusMetrics } = load<typeof import('../../src/metrics/prometheus-metrics')>('metrics/prometheus-metrics');
const { ShardStatusBoard } = load<typeof import('../../src/metrics/shard-status-board')>('metrics/shard-status-board');
const { EmfMetrics } = load<typeof import('../../src/metrics/emf-metrics')>('metrics/emf-metrics');
const { combineRecorders } = load<typeof import('../../src/metrics/metrics-recorder')>('metrics/metrics-recorder');
const { container } = require('tsyringe') as typeof import('tsyringe');
/* eslint-enable @typescript-eslint/no-require-imports */

async function main(): Promise<void> {
  const metricsOn = process.argv[2] === 'on';
  kclCliAdapter.prepare?.();
  const classes = loadConsumers(path.resolve(__dirname, '..', '..', 'examples', 'demo-app', 'demo-app.ts'));
  const definitions = classes.map(exploreConsumer);
  const logger = createLogger(definitions[0]!.options.log, { stdoutReserved: true });
  // Built only with metrics on: prom-client's process metrics watch every GC, which the control must not pay for.
  const metrics = metricsOn
    ? { prometheus: new PrometheusMetrics({ buildInfo: { version: 'bench', adapter: 'kcl' } }), board: new ShardStatusBoard(), emf: new EmfMetrics({ write: () => undefined, flushIntervalMs: 1_000 }) }
    : undefined;
  const recorder = metrics ? combineRecorders([metrics.prometheus, metrics.board, metrics.emf]) : undefined;
  const options = { adapter: 'kcl', shutdownTimeoutMs: 30_000 };
  const setup = await kclCliAdapter.setup(definitions, options, { logger, container, ...(recorder ? { metrics: recorder } : {}) });
  try {
    const app = await ShardlineApp.start({
      consumer: classes[0]!,
      source: setup.sources[0]!,
      logger,
      handleSignals: setup.handleSignals,
      shutdownTimeoutMs: options.shutdownTimeoutMs,
      ...(recorder ? { metrics: recorder } : {}),
    });
    await app.done;
    await app.stop();
  } finally {
    await setup.dispose?.();
    metrics?.emf.close();
    metrics?.board.close();
    await logger.close();
  }
  if (metrics !== undefined) {
    // What a scrape would read: make sure it holds what the run measured.
    const text = await metrics.prometheus.render();
    if (!/^shardline_records_total\{[^}]*\} [1-9]/m.test(text)) throw new Error('metrics on, but shardline_records_total stayed 0');
  }
}

main().then(
  () => process.exit(0),
  (error: unknown) => {
    process.stderr.write(`metered-child: ${(error as Error).stack ?? String(error)}\n`);
    process.exit(1);
  },
);
