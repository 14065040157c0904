import { type AppRef, type MetricsRecorder, type ShardRef, type SubscribeResult } from './metrics-recorder';

/** Options of {@link EmfMetrics}. */
export interface EmfMetricsOptions {
  /** Where each EMF line goes. Default: stderr (in KCL mode stdout belongs to the protocol). */
  readonly write?: (line: string) => void;
  /** CloudWatch namespace. Default `shardline` (not the application name, which the KCL daemon publishes to). */
  readonly namespace?: string;
  /** How often the accumulated values are written. Default 60,000 (CloudWatch's standard resolution). */
  readonly flushIntervalMs?: number;
  /** The clock. Default `Date.now`. */
  readonly now?: () => number;
}

/** The most values one metric may carry in one EMF event (the specification's limit). */
const MAX_VALUES = 100;

interface ShardWindow {
  readonly shard: ShardRef;
  records: number;
  bytes: number;
  millisBehindLatest?: number;
  handlerMs: number[];
  checkpointsOk: number;
  checkpointsFailed: number;
  checkpointMs: number[];
  /** Closed in this process: dropped after its last window is written. */
  closed?: boolean;
}

interface AppWindow {
  readonly app: AppRef;
  errors: number;
  retries: number;
  skipped: number;
  deadLettered: number;
  shardsOpened: number;
  shardsLost: number;
  stopped: number;
  /** Enhanced fan-out: subscriptions opened, and failed (at the call or later). */
  subscribes?: number;
  subscribeErrors?: number;
}

type Unit = 'Count' | 'Bytes' | 'Milliseconds';

/**
 * CloudWatch Embedded Metric Format: every `flushIntervalMs`, one JSON line per active shard (dimensions Application,
 * Stream, ShardId) and one per application (Application, Stream), with the KCL's metric names so CloudWatch alarms
 * and dashboards carry over: RecordsProcessed, DataBytesProcessed, MillisBehindLatest (the application line holds the
 * largest over shards), RecordProcessor.processRecords.Time, UpdateLease.Success / .Time, plus HandlerErrors,
 * HandlerRetries, SkippedRecords, DeadLetterRecords, TakenLeases, LostLeases and StoppedShards. With the awslogs driver on ECS, CloudWatch Logs extracts the metrics.
 */
export class EmfMetrics implements MetricsRecorder {
  private readonly shards = new Map<string, ShardWindow>();
  private readonly apps = new Map<string, AppWindow>();
  private readonly write: (line: string) => void;
  private readonly namespace: string;
  private readonly now: () => number;
  private readonly timer: NodeJS.Timeout;

  constructor(options: EmfMetricsOptions = {}) {
    this.write = options.write ?? ((line) => process.stderr.write(`${line}\n`));
    this.namespace = options.namespace ?? 'shardline';
    this.now = options.now ?? Date.now;
    this.timer = setInterval(() => this.flush(), options.flushIntervalMs ?? 60_000);
    this.timer.unref();
  }

  applicationStarted(app: AppRef): void {
    this.appWindow(app);
  }

  shardOpened(shard: ShardRef): void {
    this.appWindow(shard).shardsOpened++;
    this.shardWindow(shard);
  }

  shardClosed(shard: ShardRef, reason: string): void {
    if (reason === 'leaseLost') this.appWindow(shard).shardsLost++;
    this.shardWindow(shard).closed = true;
  }

  shardStopped(shard: ShardRef): void {
    this.appWindow(shard).stopped++;
    this.shardWindow(shard).closed = true;
  }

  batchReceived(shard: ShardRef, batch: { readonly records: number; readonly bytes: number; readonly millisBehindLatest?: number }): void {
    const window = this.shardWindow(shard);
    window.records += batch.records;
    window.bytes += batch.bytes;
    if (batch.millisBehindLatest !== undefined) window.millisBehindLatest = Math.max(window.millisBehindLatest ?? 0, batch.millisBehindLatest);
  }

  lagObserved(shard: ShardRef, millisBehindLatest: number): void {
    const window = this.shardWindow(shard);
    window.millisBehindLatest = Math.max(window.millisBehindLatest ?? 0, millisBehindLatest);
  }

  batchHandled(shard: ShardRef, result: { readonly durationMs: number }): void {
    push(this.shardWindow(shard).handlerMs, result.durationMs);
  }

  checkpointWritten(shard: ShardRef, result: { readonly durationMs: number; readonly ok: boolean }): void {
    const window = this.shardWindow(shard);
    if (result.ok) window.checkpointsOk++;
    else window.checkpointsFailed++;
    push(window.checkpointMs, result.durationMs);
  }

  errorReported(app: AppRef): void {
    this.appWindow(app).errors++;
  }

  handlerRetried(shard: ShardRef): void {
    this.appWindow(shard).retries++;
  }

  subscribeToShardCalled(shard: ShardRef, result: { readonly result: SubscribeResult }): void {
    const window = this.appWindow(shard);
    if (result.result === 'ok') window.subscribes = (window.subscribes ?? 0) + 1;
    else window.subscribeErrors = (window.subscribeErrors ?? 0) + 1;
  }

  recordsSkipped(shard: ShardRef, count: number): void {
    this.appWindow(shard).skipped += count;
  }

  recordsDeadLettered(shard: ShardRef, count: number): void {
    this.appWindow(shard).deadLettered += count;
  }

  /** Writes what accumulated since the last flush (nothing for a shard with no activity) and starts a new window. */
  flush(): void {
    const timestamp = this.now();
    let maxLag: Map<string, number> | undefined;
    for (const [key, w] of this.shards) {
      const values: Array<[string, Unit, number | number[]]> = [
        ['RecordsProcessed', 'Count', w.records],
        ['DataBytesProcessed', 'Bytes', w.bytes],
      ];
      if (w.millisBehindLatest !== undefined) {
        values.push(['MillisBehindLatest', 'Milliseconds', w.millisBehindLatest]);
        maxLag ??= new Map();
        const appKey = appKeyOf(w.shard);
        maxLag.set(appKey, Math.max(maxLag.get(appKey) ?? 0, w.millisBehindLatest));
      }
      if (w.handlerMs.length > 0) values.push(['RecordProcessor.processRecords.Time', 'Milliseconds', w.handlerMs]);
      if (w.checkpointsOk + w.checkpointsFailed > 0) {
        values.push(['UpdateLease.Success', 'Count', [...Array<number>(Math.min(w.checkpointsOk, MAX_VALUES)).fill(1), ...Array<number>(Math.min(w.checkpointsFailed, MAX_VALUES)).fill(0)].slice(0, MAX_VALUES)]);
        values.push(['UpdateLease.Time', 'Milliseconds', w.checkpointMs]);
      }
      const active = w.records > 0 || w.handlerMs.length > 0 || w.checkpointMs.length > 0;
      if (active) this.emit(timestamp, ['Application', 'Stream', 'ShardId'], { Application: w.shard.application, Stream: w.shard.stream, ShardId: w.shard.shardId }, values);
      if (w.closed === true) this.shards.delete(key);
      else this.shards.set(key, { shard: w.shard, records: 0, bytes: 0, handlerMs: [], checkpointsOk: 0, checkpointsFailed: 0, checkpointMs: [] });
    }
    for (const [key, a] of this.apps) {
      const values: Array<[string, Unit, number]> = [
        ['HandlerErrors', 'Count', a.errors],
        ['HandlerRetries', 'Count', a.retries],
        ['SkippedRecords', 'Count', a.skipped],
        ['DeadLetterRecords', 'Count', a.deadLettered],
        ['TakenLeases', 'Count', a.shardsOpened],
        ['LostLeases', 'Count', a.shardsLost],
        ['StoppedShards', 'Count', a.stopped],
      ];
      const lag = maxLag?.get(key);
      if (lag !== undefined) values.push(['MillisBehindLatest', 'Milliseconds', lag]);
      // Only applications reading by enhanced fan-out carry these two.
      if (a.subscribes !== undefined || a.subscribeErrors !== undefined) values.push(['SubscribeToShard.Success', 'Count', a.subscribes ?? 0], ['SubscribeToShard.Errors', 'Count', a.subscribeErrors ?? 0]);
      this.emit(timestamp, ['Application', 'Stream'], { Application: a.app.application, Stream: a.app.stream }, values);
      a.errors = 0;
      a.retries = 0;
      a.skipped = 0;
      a.deadLettered = 0;
      a.shardsOpened = 0;
      a.shardsLost = 0;
      a.stopped = 0;
      if (a.subscribes !== undefined) a.subscribes = 0;
      if (a.subscribeErrors !== undefined) a.subscribeErrors = 0;
    }
  }

  /** Writes the last window and stops the timer. */
  close(): void {
    clearInterval(this.timer);
    this.flush();
  }

  private emit(timestamp: number, dimensions: readonly string[], dimensionValues: Record<string, string>, values: ReadonlyArray<[string, Unit, number | number[]]>): void {
    const event: Record<string, unknown> = {
      _aws: {
        Timestamp: timestamp,
        CloudWatchMetrics: [{ Namespace: this.namespace, Dimensions: [dimensions], Metrics: values.map(([Name, Unit]) => ({ Name, Unit })) }],
      },
      ...dimensionValues,
    };
    for (const [name, , value] of values) event[name] = value;
    this.write(JSON.stringify(event));
  }

  private shardWindow(shard: ShardRef): ShardWindow {
    const key = `${appKeyOf(shard)}\u0000${shard.shardId}`;
    let window = this.shards.get(key);
    if (window === undefined) {
      window = { shard: { application: shard.application, stream: shard.stream, shardId: shard.shardId }, records: 0, bytes: 0, handlerMs: [], checkpointsOk: 0, checkpointsFailed: 0, checkpointMs: [] };
      this.shards.set(key, window);
    }
    return window;
  }

  private appWindow(app: AppRef): AppWindow {
    const key = appKeyOf(app);
    let window = this.apps.get(key);
    if (window === undefined) {
      window = { app: { application: app.application, stream: app.stream }, errors: 0, retries: 0, skipped: 0, deadLettered: 0, shardsOpened: 0, shardsLost: 0, stopped: 0 };
      this.apps.set(key, window);
    }
    return window;
  }
}

function appKeyOf(app: AppRef): string {
  return `${app.application}\u0000${app.stream}`;
}

/** Keeps at most {@link MAX_VALUES} samples per window (the first ones: enough for CloudWatch's statistics). */
function push(values: number[], value: number): void {
  if (values.length < MAX_VALUES) values.push(Math.round(value * 1000) / 1000);
}
