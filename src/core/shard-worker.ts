import { exhaustMap, interval, type Subscription, Subscription as RxSubscription } from 'rxjs';
import { type DependencyContainer, type InjectionToken } from 'tsyringe';
import { type ConsumerDefinition, type LifecycleHook } from '../decorators/metadata-types';
import { comparePositions, formatPosition, type CheckpointPosition } from './checkpoint-position';
import { type ConsumerClass } from './consumer-explorer';
import { BatchRunner, type BatchRunnerDeps } from './batch-runner';
import { type MetricsRecorder } from '../metrics/metrics-recorder';
import { CheckpointError, HandlerError, ShardlineError } from './errors';
import { invokeAndSettle } from './invoke';
import { type Logger } from './logger';
import { type RecordBatch, type ShutdownReason } from './record-batch';
import { type ResolvedSecrets, injectSecrets } from './secret-resolver';
import { ShardCheckpointer } from './shard-checkpointer';
import { ShardContext } from './shard-context';
import { type ShardLease, type ShardRecordsEvent } from './shard-event';

/** What a shard worker needs from the app. */
export interface ShardWorkerDeps {
  readonly definition: ConsumerDefinition;
  readonly consumerClass: ConsumerClass;
  readonly container: DependencyContainer;
  readonly logger: Logger;
  readonly secrets: ResolvedSecrets;
  readonly reportError: (error: ShardlineError) => void;
  /** Told of retries and of records skipped or dead-lettered (see {@link MetricsRecorder}). */
  readonly metrics?: MetricsRecorder;
  /** The `stream` of its metrics: the app's (the stream read, else the `@Consumer`'s), the same as the app's other series. */
  readonly metricsStream?: string;
}

type Method = (...args: never[]) => unknown;

/**
 * Runs one consumer instance for one shard: creates it in a child container, runs its hooks and `@Every` timers,
 * handles its batches with the error policy, and checkpoints according to the checkpoint policy.
 * The app calls it for one event at a time per shard.
 */
export class ShardWorker {
  readonly shardId: string;
  private readonly logger: Logger;
  private readonly context: ShardContext;
  private readonly child: DependencyContainer;
  private instance: object | undefined;
  private timers: Subscription = new RxSubscription();
  private lastProcessed: CheckpointPosition | undefined;
  private lastDelivered: CheckpointPosition | undefined;
  private lastStored: CheckpointPosition | undefined;
  private recordsSinceCheckpoint = 0;
  private lastCheckpointAt = Date.now();
  private checkpointChain: Promise<void> = Promise.resolve();
  private checkpointingDisabled = false;
  private state: 'new' | 'open' | 'closed' | 'failed' = 'new';
  private closing: Promise<void> | undefined;
  private closedAs: ShutdownReason | undefined;

  constructor(
    private readonly deps: ShardWorkerDeps,
    private readonly lease: ShardLease,
  ) {
    this.shardId = lease.shardId;
    this.logger = deps.logger.child({ shardId: lease.shardId });
    this.lastStored = lease.lastCheckpoint;
    this.context = new ShardContext(
      deps.definition.options.applicationName,
      lease.streamName,
      lease.shardId,
      this.logger,
      lease.lastCheckpoint,
    );
    this.child = deps.container.createChildContainer();
  }

  /** True once the shard is closed or failed: no more events are handled. */
  get finished(): boolean {
    return this.state === 'closed' || this.state === 'failed';
  }

  /** Creates the consumer instance, injects its secrets, runs `@OnInit` and starts its timers. */
  async open(): Promise<void> {
    const { definition } = this.deps;
    this.logger.info(`Initializing ${definition.name}${this.lease.lastCheckpoint ? ` after checkpoint ${formatPosition(this.lease.lastCheckpoint)}` : ''}`);
    const checkpointer = new ShardCheckpointer({
      shardId: this.shardId,
      lastProcessed: () => this.lastProcessed,
      lastDelivered: () => this.lastDelivered,
      store: (position) => this.storeCheckpoint(position),
    });
    this.child.register(ShardContext, { useValue: this.context });
    this.child.register(ShardCheckpointer, { useValue: checkpointer });
    try {
      const instance = this.child.resolve(this.deps.consumerClass as unknown as InjectionToken<object>);
      injectSecrets(instance, this.deps.secrets);
      this.instance = instance;
      await this.runHooks('init');
    } catch (error) {
      this.state = 'failed';
      throw this.fail(new HandlerError(`${definition.name} failed to initialize on ${this.shardId}: ${(error as Error).message}`, {
        consumer: definition.name, method: 'constructor/@OnInit', shardId: this.shardId, sequenceNumbers: [], attempts: 1,
      }, { cause: error }));
    }
    this.state = 'open';
    this.startTimers();
  }

  /**
   * Handles one batch under the error policy, then checkpoints under the checkpoint policy.
   * @returns an error when the shard has to stop (the adapter then stops reading it).
   */
  async handleRecords(event: ShardRecordsEvent): Promise<Error | undefined> {
    if (this.state !== 'open') return new ShardlineError(`shard ${this.shardId} is not open`);
    const { records } = event;
    this.context.millisBehindLatest = event.millisBehindLatest;
    const last = records[records.length - 1];
    if (last === undefined) return this.maybeCheckpoint();
    this.lastDelivered = last.position;
    const batch: RecordBatch = {
      shardId: this.shardId,
      streamName: this.lease.streamName,
      records,
      millisBehindLatest: event.millisBehindLatest,
    };
    const outcome = await new BatchRunner(this.runnerDeps(), batch).run();
    if (!outcome.handled) {
      // The records before the first one that failed are handled: the checkpoint may go up to them, never further.
      const before = records[outcome.handledBefore - 1];
      if (before !== undefined) {
        this.lastProcessed = before.position;
        this.recordsSinceCheckpoint += outcome.handledBefore;
      }
      return this.stopAfterFailure(outcome.error, true);
    }
    this.lastProcessed = last.position;
    this.recordsSinceCheckpoint += records.length;
    return this.maybeCheckpoint();
  }

  /** The position of the shard's last stored checkpoint (where it resumes after a restart), if any. */
  get checkpointedAt(): CheckpointPosition | undefined {
    return this.lastStored;
  }

  /**
   * How the shard ended: the reason of its close (the first one: a later call joins it), `'failed'` when it stopped
   * after a failure, `undefined` while it is open.
   */
  get endedAs(): ShutdownReason | 'failed' | undefined {
    return this.state === 'failed' ? 'failed' : this.closedAs;
  }

  /**
   * Stops timers, runs the shutdown hooks for `reason`, and (for `requested`/`stopped`) checkpoints what was processed.
   * A second call (whatever its reason) returns the first one's promise: the shard closes once, as {@link endedAs} says.
   */
  close(reason: ShutdownReason): Promise<void> {
    if (this.state === 'failed') return Promise.resolve();
    this.closing ??= this.closeOnce(reason);
    return this.closing;
  }

  private async closeOnce(reason: ShutdownReason): Promise<void> {
    const wasOpen = this.state === 'open';
    this.state = 'closed';
    this.closedAs = reason;
    this.timers.unsubscribe();
    this.logger.info(`Shutting down (${reason})`);
    if (wasOpen) {
      if (reason === 'leaseLost') await this.runHooks('leaseLost');
      const endHandled = reason === 'shardEnded' ? await this.runHooks('shardEnded') : true;
      const shutdownHandled = await this.runHooks('shutdown', reason);
      if (reason === 'requested' || reason === 'stopped') await this.flushCheckpoint();
      if (reason === 'shardEnded' && !(endHandled && shutdownHandled)) {
        // The hooks that finish a shard (a manual consumer's final flush) failed: storing SHARD_END now would lose what
        // they did not flush. The shard counts as failed, so its end is refused and it is read again after a restart.
        this.logger.error('The shard end was not handled (a hook failed): SHARD_END is not stored; the shard is read again after a restart');
        this.state = 'failed';
      }
    }
    await this.dispose();
  }

  /** Stops checkpointing for this lease (the adapter learned the lease is gone), letting in-flight work finish. */
  disableCheckpointing(): void {
    this.checkpointingDisabled = true;
  }

  private runnerDeps(): BatchRunnerDeps {
    const { definition } = this.deps;
    const { recordsHandler } = definition;
    const method = this.method(recordsHandler.methodKey);
    return {
      consumerName: definition.name,
      methodKey: recordsHandler.methodKey,
      shardId: this.shardId,
      policy: definition.options.errors,
      decoder: recordsHandler.decoder,
      logger: this.logger,
      invoke: (items, batch) => invokeAndSettle(method, this.instanceOrThrow(), [items, batch]),
      deadLetter: async (failed) => {
        await this.runHooks('deadLetter', failed, true);
      },
      reportError: (error) => this.deps.reportError(error),
      ...(this.deps.metrics !== undefined ? { observe: this.observer(this.deps.metrics) } : {}),
    };
  }

  private observer(metrics: MetricsRecorder): NonNullable<BatchRunnerDeps['observe']> {
    const shard = { application: this.deps.definition.options.applicationName, stream: this.deps.metricsStream ?? this.deps.definition.options.streamName, shardId: this.shardId };
    return {
      retried: () => metrics.handlerRetried?.(shard),
      skipped: (count) => metrics.recordsSkipped?.(shard, count),
      deadLettered: (count) => metrics.recordsDeadLettered?.(shard, count),
    };
  }

  /**
   * Stops the shard after a failure. With `checkpointHandled`, what was handled before the failing record is
   * checkpointed first (as a graceful stop does; never past that record).
   */
  private async stopAfterFailure(error: ShardlineError, checkpointHandled: boolean): Promise<Error> {
    if (checkpointHandled) await this.flushCheckpoint();
    const where =
      this.lastStored === undefined
        ? 'no checkpoint yet for this shard: it is read again from its start position after a restart'
        : `checkpoint stays at ${formatPosition(this.lastStored)}: the records after it are read again after a restart`;
    this.logger.error(`Stopping the shard (${where}): ${error.message}`);
    this.state = 'failed';
    this.timers.unsubscribe();
    await this.runHooks('shutdown', 'stopped');
    await this.dispose();
    return error;
  }

  private async maybeCheckpoint(): Promise<Error | undefined> {
    const policy = this.deps.definition.options.checkpoint;
    const due =
      policy.kind === 'batch' ||
      (policy.kind === 'records' && this.recordsSinceCheckpoint >= policy.everyRecords) ||
      (policy.kind === 'interval' && Date.now() - this.lastCheckpointAt >= policy.everyMs);
    if (!due || this.lastProcessed === undefined) return undefined;
    try {
      await this.storeCheckpoint(this.lastProcessed);
      return undefined;
    } catch (error) {
      const checkpointError =
        error instanceof CheckpointError ? error : new CheckpointError(`checkpoint of ${this.shardId} failed: ${(error as Error).message}`, { cause: error, shardId: this.shardId });
      this.logger.error(`${checkpointError.message} (the checkpoint stays at ${formatPosition(this.lastStored)})`);
      this.deps.reportError(checkpointError);
      // A store outage the adapter recovers from itself (the polling adapter releases the shard and reopens it from
      // its stored checkpoint; a lost lease closes it) is not a handler failure: the shard does not stop for it. Any
      // other refused checkpoint (the daemon rejecting a position) stops it under the 'stop' policy.
      if (checkpointError.adapterRecovers) return undefined;
      if (this.deps.definition.options.errors.onFailure === 'stop') return this.stopAfterFailure(checkpointError, false);
      return undefined;
    }
  }

  /** Stores what was processed and not yet stored (shutdown, interval timer); errors are logged, not thrown. */
  private async flushCheckpoint(): Promise<void> {
    const kind = this.deps.definition.options.checkpoint.kind;
    if (kind === 'never' || kind === 'manual' || this.lastProcessed === undefined) return;
    try {
      await this.storeCheckpoint(this.lastProcessed);
    } catch (error) {
      this.logger.error(`Final checkpoint failed: ${(error as Error).message}`);
      this.deps.reportError(error instanceof ShardlineError ? error : new CheckpointError((error as Error).message, { cause: error }));
    }
  }

  /** Stores a position, one call at a time, skipping positions that are not ahead of the stored one. */
  private storeCheckpoint(position: CheckpointPosition): Promise<void> {
    const run = async (): Promise<void> => {
      if (this.checkpointingDisabled) {
        this.logger.debug(`Not checkpointing ${formatPosition(position)}: the lease is shutting down`);
        return;
      }
      if (this.lastStored !== undefined && comparePositions(position, this.lastStored) <= 0) return;
      await this.lease.checkpointer.checkpoint(position);
      this.lastStored = position;
      this.context.lastCheckpoint = position;
      this.recordsSinceCheckpoint = 0;
      this.lastCheckpointAt = Date.now();
      this.logger.debug(`Checkpointed at ${formatPosition(position)}`);
    };
    const next = this.checkpointChain.then(run, run);
    this.checkpointChain = next.catch(() => undefined);
    return next;
  }

  private startTimers(): void {
    const { definition } = this.deps;
    for (const every of definition.every) {
      const method = this.method(every.methodKey);
      this.timers.add(
        interval(every.intervalMs)
          .pipe(exhaustMap(() => this.runTimer(`${definition.name}.${every.methodKey}`, method)))
          .subscribe(),
      );
    }
    const policy = definition.options.checkpoint;
    if (policy.kind === 'interval') {
      this.timers.add(
        interval(policy.everyMs)
          .pipe(exhaustMap(() => this.flushCheckpoint()))
          .subscribe(),
      );
    }
  }

  private async runTimer(name: string, method: Method): Promise<void> {
    try {
      this.logger.trace(`Running ${name}`);
      await invokeAndSettle(method, this.instanceOrThrow(), []);
    } catch (error) {
      this.logger.error(`${name} failed: ${(error as Error).message}`);
    }
  }

  /**
   * Runs every method registered for a hook. Errors of `init` and `deadLetter` hooks are thrown (`rethrow`);
   * errors of shutdown hooks are logged so that the rest of the shutdown still happens.
   */
  /** Runs a hook's methods; resolves false when one of them failed (logged), or rethrows with `rethrow`. */
  private async runHooks(hook: LifecycleHook, arg?: unknown, rethrow = hook === 'init'): Promise<boolean> {
    let ok = true;
    for (const entry of this.deps.definition.hooks) {
      if (entry.hook !== hook) continue;
      try {
        await invokeAndSettle(this.method(entry.methodKey), this.instanceOrThrow(), arg === undefined ? [] : [arg]);
      } catch (error) {
        if (rethrow) throw error;
        ok = false;
        this.logger.error(`${this.deps.definition.name}.${entry.methodKey} (@${hook}) failed: ${(error as Error).message}`);
      }
    }
    return ok;
  }

  private method(key: string): Method {
    const fn = (this.instanceOrThrow() as Record<string, unknown>)[key];
    if (typeof fn !== 'function') throw new ShardlineError(`${this.deps.definition.name}.${key} is not a method`);
    return fn as Method;
  }

  private instanceOrThrow(): object {
    if (this.instance === undefined) throw new ShardlineError(`the consumer of ${this.shardId} was not created`);
    return this.instance;
  }

  private fail(error: ShardlineError): ShardlineError {
    this.logger.error(error.message);
    this.deps.reportError(error);
    return error;
  }

  private async dispose(): Promise<void> {
    try {
      await this.child.dispose();
    } catch (error) {
      this.logger.warn(`Disposing the shard's container failed: ${(error as Error).message}`);
    }
  }
}
