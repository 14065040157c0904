import { type RecordSource } from '../adapters/record-source';
import { type DependencyContainer } from 'tsyringe';
import { type ConsumerDefinition } from '../decorators/metadata-types';
import { type AppLogger } from '../core/logger';
import { type MetricsRecorder } from '../metrics/metrics-recorder';

/** Options of `shardline run`, shared by every adapter (each reads the ones it needs). */
export interface RunOptions {
  readonly adapter: string;
  readonly consumer?: string;
  readonly stream?: string;
  readonly endpoint?: string;
  readonly region?: string;
  readonly from?: string;
  readonly checkpoints?: string;
  readonly logLevel?: string;
  readonly logFile?: string;
  readonly shutdownTimeoutMs: number;
  /** `--metrics-port`: serve /metrics, /healthz, /readyz and the status page. */
  readonly metricsPort?: number;
  readonly metricsHost?: string;
  /** `--metrics-emf [file]`: true for stderr, or a file. */
  readonly metricsEmf?: boolean | string;
  readonly metricsEmfNamespace?: string;
  readonly readyMaxLagMs?: number;
  /** Polling: bound on start-up (the stream must be reachable within it). */
  readonly startupTimeoutMs?: number;
  /** Polling: bound on the record bytes buffered across all shards. */
  readonly maxBufferedBytes?: number;
  /** efo: the stream consumer to read as (default: each consumer's applicationName). */
  readonly consumerName?: string;
}

/** What an adapter sets up for one `shardline run`. */
export interface AdapterSetup {
  /** One source per consumer, in the same order. */
  readonly sources: readonly RecordSource[];
  /** Whether the app owns the process and stops gracefully on SIGTERM/SIGINT (false under the KCL daemon). */
  readonly handleSignals: boolean;
  /** Whether stdout belongs to a protocol (KCL): no log may go there. */
  readonly stdoutReserved: boolean;
  /** Called after every app ended. */
  dispose?(): Promise<void>;
}

/** An adapter as the CLI knows it: `--adapter <name>`. */
export interface CliAdapter {
  readonly name: string;
  readonly description: string;
  /** At most this many consumers per process (the KCL daemon gives a child one shard of one stream). */
  readonly maxConsumers?: number;
  /** Runs before the user's module is loaded (KCL: reserve stdout, so even a top-level console.log cannot reach it). */
  prepare?(): void;
  setup(
    consumers: readonly ConsumerDefinition[],
    options: RunOptions,
    context: { logger: AppLogger; container: DependencyContainer; metrics?: MetricsRecorder },
  ): Promise<AdapterSetup>;
}
