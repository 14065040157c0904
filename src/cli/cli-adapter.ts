import { type RecordSource } from '../adapters/record-source';
import { type DependencyContainer } from 'tsyringe';
import { type ConsumerDefinition } from '../decorators/metadata-types';
import { type AppLogger } from '../core/logger';
import { type MetricsRecorder } from '../metrics/metrics-recorder';

/**
 * Options of `shardline run`, shared by every adapter (each reads the ones it needs). Part of the public adapter
 * contract: a plug-in adapter gets them in {@link CliAdapter.setup}.
 */
export interface RunOptions {
  /** `--adapter`: a built-in name, a path or a package name, as given. */
  readonly adapter: string;
  /**
   * `--adapter-option key=value` (repeatable): options of a plug-in adapter, which validates them itself. The CLI always
   * sets it (`{}` when none); optional so that code building RunOptions by hand need not.
   */
  readonly adapterOptions?: Readonly<Record<string, string>>;
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
  /** Polling fleet (DynamoDB checkpoints): lease timing and this process's worker id. */
  readonly failoverTimeMs?: number;
  readonly leaseRenewalIntervalMs?: number;
  readonly leaseTakerIntervalMs?: number;
  readonly workerId?: string;
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

/** What the CLI hands to {@link CliAdapter.setup} besides the consumers and the options. */
export interface AdapterContext {
  /** The run's logger (stderr or `--log-file`; never stdout). */
  readonly logger: AppLogger;
  /** The container the consumers are resolved from. */
  readonly container: DependencyContainer;
  /** Set when metrics are on (`--metrics-port`, `--metrics-emf`): report reads and lag to it. */
  readonly metrics?: MetricsRecorder;
}

/**
 * An adapter as the CLI knows it: `shardline run app.ts --adapter <name | path | package>`. The built-in adapters
 * (memory, kcl, polling, efo) implement it, and a plug-in module exports one as `adapter` (or as its default export).
 * `setup` builds one {@link RecordSource} per consumer; the CLI runs each consumer on its source, then calls `dispose`.
 * Throwing a `UsageError` from `setup` ends the run with exit code 2 (a bad option), any other error with exit code 1;
 * either way its message is the one line the user sees.
 */
export interface CliAdapter {
  /** The adapter's name, for logs and metrics: `polling`, `my-queue`. */
  readonly name: string;
  /** One line for `shardline run --help` and logs. */
  readonly description?: string;
  /** At most this many consumers per process (the KCL daemon gives a child one shard of one stream). */
  readonly maxConsumers?: number;
  /** Runs before the user's module is loaded (KCL: reserve stdout, so even a top-level console.log cannot reach it). */
  prepare?(): void;
  /** Builds the sources (one per consumer, in order). Called once per run, after the user's module was loaded. */
  setup(consumers: readonly ConsumerDefinition[], options: RunOptions, context: AdapterContext): Promise<AdapterSetup>;
}
