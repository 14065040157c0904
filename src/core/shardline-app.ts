import { concatMap, defer, filter, finalize, groupBy, mergeMap, Subject, type Observable, type Subscription } from 'rxjs';
import { container as globalContainer, type DependencyContainer } from 'tsyringe';
import { RECORD_SOURCE, type RecordSource } from '../adapters/record-source';
import { type ConsumerDefinition } from '../decorators/metadata-types';
import { MeteredRecordSource } from '../metrics/metered-record-source';
import { type AppRef, type MetricsRecorder } from '../metrics/metrics-recorder';
import { type ConsumerClass, exploreConsumer } from './consumer-explorer';
import { ShardlineError, ShardStoppedError, SourceError, type StoppedShard } from './errors';
import { type AppLogger, createLogger, type Logger } from './logger';
import { type Provider, registerProviders } from './provider';
import { SECRET_PROVIDER, type SecretProvider } from './secret-provider';
import { type ResolvedSecrets, resolveSecrets } from './secret-resolver';
import { type ShardClosingEvent, type ShardEvent } from './shard-event';
import { ShardWorker } from './shard-worker';
import { CONSUMER_DEFINITION, SHARDLINE_LOGGER } from './tokens';

/** Options of {@link ShardlineApp.start}. */
export interface ShardlineAppOptions {
  /** The `@Consumer` class to run, one instance per shard. */
  readonly consumer: ConsumerClass;
  /** Where records come from (KCL, polling, in-memory). */
  readonly source: RecordSource;
  /**
   * The stream the source reads, when it is not the `@Consumer`'s `streamName` (the CLI's `--stream`): named in the
   * start line and in the `stream` of every metric. Default: the `@Consumer`'s.
   */
  readonly streamName?: string;
  /** Services for the consumer's constructor, or replacements of registered ones (a mocked client in a test). */
  readonly providers?: readonly Provider[];
  /** Parent container. Default: tsyringe's global container (the app works in a child of it). */
  readonly container?: DependencyContainer;
  /** The logger. Default: one built from the consumer's `log` options. */
  readonly logger?: AppLogger;
  /** Resolves `kms:` / `kms-file:` secrets. Default: whatever is registered under `SECRET_PROVIDER`. */
  readonly secretProvider?: SecretProvider;
  /** Stop gracefully on SIGTERM/SIGINT (when the app owns the process; never in KCL mode). Default false. */
  readonly handleSignals?: boolean;
  /** Bound on a graceful stop: after this, shards still busy are abandoned (not checkpointed). Default 30,000. */
  readonly shutdownTimeoutMs?: number;
  /**
   * Where measurements go: a {@link PrometheusMetrics}, {@link EmfMetrics}, {@link ShardStatusBoard}, several of them
   * through {@link combineRecorders}, or your own {@link MetricsRecorder}. Default: none.
   */
  readonly metrics?: MetricsRecorder;
}

/**
 * Runs a consumer class on a record source: per-shard instances in child containers, batches in order per shard,
 * shards concurrently, hooks, timers, checkpoint and error policies, graceful shutdown.
 *
 * @example
 * ```ts
 * const app = await ShardlineApp.start({ consumer: FlightCounter, source });
 * await app.done;
 * ```
 */
export class ShardlineApp {
  /** Errors of handlers, checkpoints and the source, as they happen (they are also logged). */
  readonly errors$: Observable<ShardlineError>;
  /**
   * Settles when the source ended or the app was stopped. Rejects if the source failed, or with a
   * {@link ShardStoppedError} when a shard stopped (its error policy gave up, or its consumer failed to start): the app
   * then stops the other shards gracefully, as a process that cannot handle every shard should exit and be restarted.
   */
  readonly done: Promise<void>;
  readonly logger: Logger;
  readonly definition: ConsumerDefinition;

  private readonly errorSubject = new Subject<ShardlineError>();
  private readonly workers = new Map<string, ShardWorker>();
  /** The source as measured, when metrics are on. */
  private metered: MeteredRecordSource | undefined;
  /** Ends a shard's RxJS group (a shard that stopped gets no closing event). */
  private readonly groupEnds = new Subject<string>();
  private openGroups = 0;
  /** Shards that stopped after a failure: `done` rejects with a {@link ShardStoppedError} naming them. */
  private readonly stoppedShards = new Map<string, StoppedShard>();
  private readonly busy = new Map<string, Promise<void>>();
  private subscription: Subscription | undefined;
  private stopping: Promise<void> | undefined;
  /** Settles once every shard ran its shutdown hooks and final checkpoint during a graceful stop. */
  private readonly workersClosed = deferred();
  private finished = false;
  private settle!: { resolve: () => void; reject: (error: Error) => void };
  private readonly signalHandlers: Array<[NodeJS.Signals, () => void]> = [];

  private constructor(
    private readonly options: ShardlineAppOptions,
    private readonly container: DependencyContainer,
    private readonly appLogger: AppLogger,
    private readonly ownsLogger: boolean,
    private readonly secrets: ResolvedSecrets,
    definition: ConsumerDefinition,
  ) {
    this.definition = definition;
    this.logger = appLogger;
    this.errors$ = this.errorSubject.asObservable();
    this.done = new Promise<void>((resolve, reject) => {
      this.settle = { resolve, reject };
    });
    // `done` is for callers who want it; an unobserved rejection must not crash the process.
    this.done.catch(() => undefined);
  }

  /**
   * Validates the consumer, resolves its secrets (before any hook runs) and starts reading the source.
   * @throws ConfigurationError or SecretResolutionError: nothing is read when start-up fails.
   */
  static async start(options: ShardlineAppOptions): Promise<ShardlineApp> {
    const definition = exploreConsumer(options.consumer);
    const ownsLogger = options.logger === undefined;
    const logger = options.logger ?? createLogger(definition.options.log);
    const container = (options.container ?? globalContainer).createChildContainer();
    container.register(RECORD_SOURCE, { useValue: options.source });
    container.register(SHARDLINE_LOGGER, { useValue: logger });
    container.register(CONSUMER_DEFINITION, { useValue: definition });
    if (options.secretProvider !== undefined) container.register(SECRET_PROVIDER, { useValue: options.secretProvider });
    registerProviders(container, options.providers ?? []);
    let secrets: ResolvedSecrets;
    try {
      const provider = container.isRegistered(SECRET_PROVIDER, true) ? container.resolve(SECRET_PROVIDER) : undefined;
      secrets = await resolveSecrets(definition, provider);
    } catch (error) {
      // A caller that passed its own logger (the CLI) reports the thrown error itself: logging it here too would
      // print the failure twice.
      if (ownsLogger) {
        logger.error((error as Error).message);
        await logger.close();
      }
      throw error;
    }
    const metered =
      options.metrics === undefined
        ? undefined
        : new MeteredRecordSource(options.source, options.metrics, { application: definition.options.applicationName, stream: options.streamName ?? definition.options.streamName });
    const app = new ShardlineApp(metered === undefined ? options : { ...options, source: metered }, container, logger, ownsLogger, secrets, definition);
    app.metered = metered;
    app.run();
    return app;
  }

  /**
   * What the app holds (for leak tests): workers of shards not closed yet, and RxJS groups of shards.
   * @internal
   */
  get heldResources(): { readonly workers: number; readonly groups: number } {
    return { workers: this.workers.size, groups: this.openGroups };
  }

  /** True once the app is stopping or stopped (asked to, after a stopped shard, or at the end of its source). */
  get stopped(): boolean {
    return this.stopping !== undefined || this.finished;
  }

  private get appRef(): AppRef {
    return { application: this.definition.options.applicationName, stream: this.options.streamName ?? this.definition.options.streamName };
  }

  /** Shards with a live consumer instance. */
  get activeShards(): readonly string[] {
    return [...this.workers.values()].filter((w) => !w.finished).map((w) => w.shardId);
  }

  /**
   * Stops gracefully: no new batch is started, batches in flight finish, `@OnShutdown('stopped')` runs and what was
   * processed is checkpointed, then the source is released. Bounded by `shutdownTimeoutMs`. Safe to call twice.
   */
  stop(): Promise<void> {
    if (this.finished && this.stopping === undefined) return this.done.catch(() => undefined);
    if (this.stopping === undefined) {
      this.metered?.markStopping();
      this.options.metrics?.applicationStopping?.(this.appRef);
    }
    this.stopping ??= this.shutdown();
    return this.stopping;
  }

  private run(): void {
    const { definition } = this;
    this.logger.info(
      `Starting shardline consumer ${definition.name} (application ${definition.options.applicationName}, stream ${this.options.streamName ?? definition.options.streamName}, source ${this.options.source.name})`,
    );
    if (this.options.handleSignals === true) this.installSignalHandlers();
    this.options.metrics?.applicationStarted?.(this.appRef, this.options.source.name);
    this.subscription = this.options.source
      .events()
      .pipe(
        // A shard's group ends once its closing event was handled (or the shard stopped), so that closed shards
        // leave nothing behind; a shard opened again later gets a new group. (The duration must not subscribe to the
        // group itself: groupBy would then keep the source subscribed after the app let go of it.)
        groupBy((event) => event.shardId, { duration: (shard$) => this.groupEnds.pipe(filter((id) => id === shard$.key)) }),
        mergeMap((shard$) => {
          this.openGroups++;
          return shard$.pipe(
            concatMap((event) => defer(() => this.track(event.shardId, this.dispatch(event)))),
            finalize(() => this.openGroups--),
          );
        }),
      )
      .subscribe({
        error: (error: unknown) => {
          const sourceError =
            error instanceof ShardlineError ? error : new SourceError(`the ${this.options.source.name} source failed: ${String(error)}`, { cause: error });
          this.logger.error(sourceError.message);
          this.report(sourceError);
          void this.finish(sourceError);
        },
        complete: () => {
          this.logger.info('The record source ended');
          void this.finish(undefined);
        },
      });
  }

  /** Remembers the event a shard is busy with, so that a graceful stop can wait for it. */
  private track(shardId: string, work: Promise<void>): Promise<void> {
    this.busy.set(shardId, work);
    return work.finally(() => {
      if (this.busy.get(shardId) === work) this.busy.delete(shardId);
    });
  }

  /** Handles one event; never throws (a failure of one shard must not end the others). */
  private async dispatch(event: ShardEvent): Promise<void> {
    if (this.stopping !== undefined) {
      // The source is about to be released; nothing new starts, but every event is still acknowledged once.
      if (event.type === 'opened' || event.type === 'records') {
        // Refusing the event makes the adapter give the shard up: not before the final checkpoints are stored, or
        // the store would no longer accept them (a released lease).
        await this.workersClosed.promise;
        event.ack({ status: 'failed', error: new ShardlineError(`not handled: the app is stopping`) });
      } else await this.closeShard(event);
      return;
    }
    try {
      switch (event.type) {
        case 'opened': {
          const previous = this.workers.get(event.shardId);
          if (previous !== undefined && !previous.finished) await previous.close('leaseLost');
          const worker = new ShardWorker(
            { definition: this.definition, consumerClass: this.options.consumer, container: this.container, logger: this.logger, secrets: this.secrets, reportError: (e) => this.report(e), metricsStream: this.appRef.stream, ...(this.options.metrics !== undefined ? { metrics: this.options.metrics } : {}) },
            event.lease,
          );
          this.workers.set(event.shardId, worker);
          try {
            await worker.open();
            event.ack({ status: 'ok' });
          } catch (error) {
            this.shardStopped(event.shardId, error as Error);
            event.ack({ status: 'failed', error: error as Error });
          }
          return;
        }
        case 'records': {
          const worker = this.liveWorker(event.shardId);
          if (worker === undefined) {
            event.ack({ status: 'failed', error: new SourceError(`records for ${event.shardId}, which is not open`, { shardId: event.shardId }) });
            return;
          }
          const error = await worker.handleRecords(event);
          if (error !== undefined) this.shardStopped(event.shardId, error);
          event.ack(error === undefined ? { status: 'ok' } : { status: 'failed', error });
          return;
        }
        default:
          await this.closeShard(event);
          return;
      }
    } catch (error) {
      const failure = error instanceof Error ? error : new Error(String(error));
      this.logger.error(`Unexpected failure on ${event.shardId}: ${failure.message}`);
      event.ack({ status: 'failed', error: failure });
    }
  }

  /**
   * Closes a shard for a closing event, then acknowledges it. A `shardEnded` event is acknowledged `ok` only when the
   * shard really closed as ended (`@OnShardEnded` ran): a shard already closed otherwise (`stopped` by a graceful stop
   * that got there first, or stopped after a failure) refuses it, so that the adapter does not store `SHARD_END` and
   * the shard is read again after a restart.
   */
  private async closeShard(event: ShardClosingEvent): Promise<void> {
    const worker = this.workers.get(event.shardId);
    if (event.type === 'leaseLost') worker?.disableCheckpointing();
    await worker?.close(event.type === 'shutdownRequested' ? 'requested' : event.type);
    // The shard is done here: its worker and its group go.
    if (worker !== undefined && this.workers.get(event.shardId) === worker) this.workers.delete(event.shardId);
    this.groupEnds.next(event.shardId);
    const endedAs = worker?.endedAs;
    if (event.type === 'shardEnded' && worker !== undefined && endedAs !== 'shardEnded') {
      const how = endedAs === 'failed' ? 'failed (a handler, or a hook that finishes the shard)' : `closed (${endedAs ?? 'not closed'}) before its end was handled`;
      event.ack({
        status: 'failed',
        error: new ShardlineError(`the end of ${event.shardId} was not handled: the shard ${how}, so SHARD_END must not be stored (the shard is read again after a restart)`),
      });
      return;
    }
    event.ack({ status: 'ok' });
  }

  /**
   * A shard stopped (the adapter stops reading it): its group ends, as no closing event will come, and the app stops
   * the other shards gracefully (a process with a stopped shard must not go on as if healthy, nor end in silence).
   */
  private shardStopped(shardId: string, error: Error): void {
    this.groupEnds.next(shardId);
    const checkpoint = this.workers.get(shardId)?.checkpointedAt;
    this.stoppedShards.set(shardId, { shardId, checkpointSequenceNumber: checkpoint?.sequenceNumber, cause: error });
    if (this.stopping === undefined && !this.finished) {
      this.logger.error(`Shard ${shardId} stopped: stopping the other shards gracefully (they checkpoint what they processed)`);
      void this.stop();
    }
  }

  /** The error `done` rejects with when shards stopped. */
  private stoppedShardError(): ShardStoppedError | undefined {
    return this.stoppedShards.size === 0 ? undefined : new ShardStoppedError([...this.stoppedShards.values()]);
  }

  private liveWorker(shardId: string): ShardWorker | undefined {
    const worker = this.workers.get(shardId);
    return worker !== undefined && !worker.finished ? worker : undefined;
  }

  private report(error: ShardlineError): void {
    const shardId = (error as { shardId?: unknown }).shardId;
    this.options.metrics?.errorReported?.(this.appRef, typeof shardId === 'string' ? shardId : undefined, error);
    this.errorSubject.next(error);
  }

  private async shutdown(): Promise<void> {
    const timeoutMs = this.options.shutdownTimeoutMs ?? 30_000;
    this.logger.info(`Stopping: finishing batches in flight (at most ${timeoutMs} ms)`);
    const graceful = (async () => {
      await Promise.allSettled([...this.busy.values()]);
      await Promise.allSettled([...this.workers.values()].map((w) => w.close('stopped')));
      this.workersClosed.resolve();
    })();
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), timeoutMs);
    });
    const late = await Promise.race([graceful.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) this.logger.warn(`Shutdown took longer than ${timeoutMs} ms: shards still busy were not checkpointed`);
    await this.finish(undefined);
  }

  private async finish(sourceError: Error | undefined): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    // A stopped shard is the reason to report, even when the source failed because of it (the KCL child's source
    // ends with an error once its only shard stopped).
    const stopped = this.stoppedShardError();
    const error = stopped ?? sourceError;
    if (stopped !== undefined && this.ownsLogger) this.logger.error(stopped.message);
    this.workersClosed.resolve();
    this.subscription?.unsubscribe();
    this.subscription = undefined;
    for (const worker of this.workers.values()) {
      // The source is gone (stdin closed, source failed): close what is left without checkpointing.
      if (!worker.finished) {
        worker.disableCheckpointing();
        await worker.close('stopped');
      }
    }
    this.workers.clear();
    this.groupEnds.complete();
    for (const [signal, handler] of this.signalHandlers) process.removeListener(signal, handler);
    this.signalHandlers.length = 0;
    this.errorSubject.complete();
    if (this.ownsLogger) await this.appLogger.close();
    if (error === undefined) this.settle.resolve();
    else this.settle.reject(error);
  }

  private installSignalHandlers(): void {
    for (const signal of ['SIGTERM', 'SIGINT'] as const) {
      const handler = (): void => {
        if (this.stopping !== undefined) {
          this.logger.warn(`Second ${signal}: exiting now without a final checkpoint`);
          process.exit(130);
        }
        this.logger.info(`Received ${signal}`);
        void this.stop();
      };
      process.on(signal, handler);
      this.signalHandlers.push([signal, handler]);
    }
  }
}

/** A promise with its resolve function. */
function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}
