import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { type ProducerStats } from '../producer/kinesis-producer';
import { type AppRef, type GetRecordsResult, type MetricsRecorder, type ShardCloseReason, type ShardRef, type SubscribeResult } from './metrics-recorder';

/** Options of {@link PrometheusMetrics}. */
export interface PrometheusMetricsOptions {
  /** Label per-shard series (records, bytes, lag) with `shard`. Default true; turn off past a few hundred shards per process. */
  readonly perShardLabels?: boolean;
  /** Also export Node's process metrics (CPU, memory, event-loop lag) as prom-client's defaults. Default true. */
  readonly processMetrics?: boolean;
  /** Constant labels of `shardline_build_info`, e.g. `{ version, adapter }`. */
  readonly buildInfo?: Readonly<Record<string, string>>;
}

const DURATION_BUCKETS_SECONDS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
const BATCH_SIZE_BUCKETS = [1, 10, 50, 100, 250, 500, 1_000, 2_500, 5_000, 10_000];

/**
 * shardline's instruments as Prometheus metrics (prom-client): the one place that defines their names, help and
 * labels (documented in docs/metrics.md, mapped to the KCL's CloudWatch names). Base units (seconds, bytes), counters
 * end in `_total`; `shard` labels only on records, bytes and lag; the lag of a shard this process no longer owns is
 * removed, so a moved shard does not linger.
 */
export class PrometheusMetrics implements MetricsRecorder {
  readonly registry = new Registry();
  private readonly perShard: boolean;
  private readonly lagByShard = new Map<string, { app: AppRef; seconds: number }>();
  private readonly producerReaders = new Map<string, Array<{ labels: Record<string, string>; read: () => number }>>();

  private readonly records: Counter;
  private readonly bytes: Counter;
  private readonly batchSize: Histogram;
  private readonly handlerDuration: Histogram;
  private readonly batches: Counter;
  private readonly errors: Counter;
  private readonly retries: Counter;
  private readonly skipped: Counter;
  private readonly deadLettered: Counter;
  private readonly checkpoints: Counter;
  private readonly checkpointDuration: Histogram;
  private readonly shardLag: Gauge;
  private readonly shardsOwned: Gauge;
  private readonly shardsStopped: Gauge;
  private readonly shardsOpened: Counter;
  private readonly shardsClosed: Counter;
  private readonly getRecords: Counter;
  private readonly getRecordsDuration: Histogram;
  private readonly subscribes: Counter;

  constructor(options: PrometheusMetricsOptions = {}) {
    this.perShard = options.perShardLabels ?? true;
    const registers = [this.registry];
    const shardLabels = this.perShard ? ['application', 'stream', 'shard'] : ['application', 'stream'];
    this.records = new Counter({ name: 'shardline_records_total', help: 'Records delivered to the consumer (KCL: RecordsProcessed).', labelNames: shardLabels, registers });
    this.bytes = new Counter({ name: 'shardline_record_bytes_total', help: 'Payload bytes delivered to the consumer (KCL: DataBytesProcessed).', labelNames: shardLabels, registers });
    this.batchSize = new Histogram({ name: 'shardline_batch_records', help: 'Records per delivered batch.', labelNames: ['application', 'stream'], buckets: BATCH_SIZE_BUCKETS, registers });
    this.handlerDuration = new Histogram({
      name: 'shardline_handler_duration_seconds',
      help: 'Time from a batch reaching the consumer to its acknowledgement: handler, retries, error policy and checkpoint (KCL: RecordProcessor.processRecords.Time).',
      labelNames: ['application', 'stream'],
      buckets: DURATION_BUCKETS_SECONDS,
      registers,
    });
    this.batches = new Counter({ name: 'shardline_batches_total', help: 'Batches finished, by result (ok, or failed: the shard stopped on it).', labelNames: ['application', 'stream', 'result'], registers });
    this.errors = new Counter({ name: 'shardline_errors_total', help: 'Errors reported, by kind (the error class: HandlerError, CheckpointError, SourceError, …).', labelNames: ['application', 'stream', 'kind'], registers });
    this.retries = new Counter({ name: 'shardline_handler_retries_total', help: 'Handler attempts that failed and were tried again.', labelNames: ['application', 'stream'], registers });
    this.skipped = new Counter({ name: 'shardline_skipped_records_total', help: "Records the error policy skipped (onFailure 'skip', or records that cannot be decoded).", labelNames: ['application', 'stream'], registers });
    this.deadLettered = new Counter({ name: 'shardline_dead_letter_records_total', help: 'Records handed to @OnDeadLetter.', labelNames: ['application', 'stream'], registers });
    this.checkpoints = new Counter({ name: 'shardline_checkpoints_total', help: 'Checkpoint writes, by result (KCL: UpdateLease.Success).', labelNames: ['application', 'stream', 'result'], registers });
    this.checkpointDuration = new Histogram({ name: 'shardline_checkpoint_duration_seconds', help: 'Checkpoint write latency (KCL: UpdateLease.Time).', labelNames: ['application', 'stream'], buckets: DURATION_BUCKETS_SECONDS, registers });
    this.shardLag = new Gauge({
      name: 'shardline_shard_behind_latest_seconds',
      help: "How far behind the shard's latest record the last batch was (MillisBehindLatest / 1000), per owned shard.",
      labelNames: shardLabels,
      registers,
    });
    const lagByShard = this.lagByShard;
    new Gauge({
      name: 'shardline_behind_latest_max_seconds',
      help: 'The largest shardline_shard_behind_latest_seconds over the shards this process owns (KCL: ApplicationTracker MillisBehindLatest, Maximum).',
      labelNames: ['application', 'stream'],
      registers,
      collect() {
        this.reset();
        const max = new Map<string, { app: AppRef; seconds: number }>();
        for (const entry of lagByShard.values()) {
          const key = `${entry.app.application}\u0000${entry.app.stream}`;
          const seen = max.get(key);
          if (seen === undefined || entry.seconds > seen.seconds) max.set(key, entry);
        }
        for (const { app, seconds } of max.values()) this.set({ application: app.application, stream: app.stream }, seconds);
      },
    });
    this.shardsOwned = new Gauge({ name: 'shardline_shards_owned', help: 'Shards this process reads now (KCL: CurrentLeases).', labelNames: ['application', 'stream'], registers });
    this.shardsStopped = new Gauge({ name: 'shardline_shards_stopped', help: 'Shards stopped by the error policy in this process (readiness fails while above 0).', labelNames: ['application', 'stream'], registers });
    this.shardsOpened = new Counter({ name: 'shardline_shards_opened_total', help: 'Shards leased and initialized (KCL: TakenLeases).', labelNames: ['application', 'stream'], registers });
    this.shardsClosed = new Counter({ name: 'shardline_shards_closed_total', help: 'Shards closed, by reason (shard_ended, lease_lost, shutdown; KCL: LostLeases for lease_lost).', labelNames: ['application', 'stream', 'reason'], registers });
    this.getRecords = new Counter({ name: 'shardline_get_records_total', help: 'GetRecords calls of the polling adapter, by result (ok, throttled, expired_iterator, error).', labelNames: ['stream', 'result'], registers });
    this.getRecordsDuration = new Histogram({ name: 'shardline_get_records_duration_seconds', help: 'GetRecords latency (KCL: KinesisDataFetcher.getRecords.Time).', labelNames: ['stream'], buckets: DURATION_BUCKETS_SECONDS, registers });
    this.subscribes = new Counter({
      name: 'shardline_subscribe_to_shard_total',
      help: 'Enhanced fan-out subscriptions, by result (ok; in_use, throttled, network, not_found, error: a failed call, or a stream that failed later).',
      labelNames: ['stream', 'result'],
      registers,
    });
    const info = new Gauge({ name: 'shardline_build_info', help: 'Always 1; labels say which shardline and adapter run.', labelNames: Object.keys(options.buildInfo ?? {}), registers });
    info.set({ ...options.buildInfo }, 1);
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }

  /**
   * Exports a producer's counters, read at each scrape (KPL names in the help): records put and failed, retries,
   * bytes, pending records, calls and user records per Kinesis record (aggregation). Call once per producer.
   */
  observeProducer(producer: { readonly streamName: string; stats(): ProducerStats }): void {
    const stream = producer.streamName;
    const observe = (name: string, help: string, read: (stats: ProducerStats) => number, labels: Record<string, string> = {}): void => {
      let readers = this.producerReaders.get(name);
      if (readers === undefined) {
        readers = [];
        this.producerReaders.set(name, readers);
        const all = readers;
        const labelNames = ['stream', ...Object.keys(labels)];
        // Read at scrape time: the producer keeps the totals, the metric shows them.
        if (name.endsWith('_total')) {
          new Counter({ name, help, labelNames, registers: [this.registry], collect() {
            this.reset();
            for (const reader of all) this.inc(reader.labels, reader.read());
          } });
        } else {
          new Gauge({ name, help, labelNames, registers: [this.registry], collect() {
            this.reset();
            for (const reader of all) this.set(reader.labels, reader.read());
          } });
        }
      }
      readers.push({ labels: { stream, ...labels }, read: () => read(producer.stats()) });
    };
    const records = 'Producer user records by result: delivered, or failed after every retry (KPL: UserRecordsPut).';
    observe('shardline_producer_records_total', records, (s) => s.deliveredRecords, { result: 'delivered' });
    observe('shardline_producer_records_total', records, (s) => s.failedRecords, { result: 'failed' });
    observe('shardline_producer_retries_total', 'Producer record attempts that failed and were tried again (KPL: RetriesPerRecord).', (s) => s.retriedRecords);
    observe('shardline_producer_bytes_total', 'Producer user bytes delivered (KPL: UserRecordsDataPut).', (s) => s.deliveredBytes);
    observe('shardline_producer_kinesis_records_total', 'Kinesis records delivered; an aggregate counts once (KPL: KinesisRecordsPut). records / kinesis_records = aggregation ratio.', (s) => s.kinesisRecords);
    observe('shardline_producer_calls_total', 'PutRecords / PutRecord calls made.', (s) => s.calls);
    observe('shardline_producer_pending_records', 'User records queued and not settled yet (KPL: UserRecordsPending).', (s) => s.queuedRecords);
  }

  /** The exposition text (`text/plain; version=0.0.4`). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  /** The content type of {@link render}. */
  get contentType(): string {
    return this.registry.contentType;
  }

  applicationStarted(app: AppRef): void {
    // Series known to exist are exported as 0 from the start (Prometheus practice), so rate() and alarms see them.
    const labels = appLabels(app);
    this.shardsOwned.set(labels, 0);
    this.shardsStopped.set(labels, 0);
    this.errors.inc({ ...labels, kind: 'HandlerError' }, 0);
    this.checkpoints.inc({ ...labels, result: 'failed' }, 0);
    this.retries.inc(labels, 0);
    this.skipped.inc(labels, 0);
    this.deadLettered.inc(labels, 0);
    this.checkpoints.inc({ ...labels, result: 'ok' }, 0);
  }

  shardOpened(shard: ShardRef): void {
    this.shardsOpened.inc(appLabels(shard));
    this.shardsOwned.inc(appLabels(shard));
  }

  shardClosed(shard: ShardRef, reason: ShardCloseReason): void {
    this.shardsClosed.inc({ ...appLabels(shard), reason: CLOSE_REASON_LABEL[reason] });
    this.shardsOwned.dec(appLabels(shard));
    this.forgetLag(shard);
  }

  shardStopped(shard: ShardRef): void {
    this.shardsStopped.inc(appLabels(shard));
    this.shardsOwned.dec(appLabels(shard));
    this.forgetLag(shard);
  }

  batchReceived(shard: ShardRef, batch: { readonly records: number; readonly bytes: number; readonly millisBehindLatest?: number }): void {
    const labels = this.shardLabels(shard);
    this.records.inc(labels, batch.records);
    this.bytes.inc(labels, batch.bytes);
    this.batchSize.observe(appLabels(shard), batch.records);
    if (batch.millisBehindLatest !== undefined) this.lagObserved(shard, batch.millisBehindLatest);
  }

  lagObserved(shard: ShardRef, millisBehindLatest: number): void {
    const seconds = millisBehindLatest / 1_000;
    this.lagByShard.set(shardKey(shard), { app: shard, seconds });
    if (this.perShard) this.shardLag.set(this.shardLabels(shard), seconds);
  }

  batchHandled(shard: ShardRef, result: { readonly durationMs: number; readonly ok: boolean }): void {
    this.handlerDuration.observe(appLabels(shard), result.durationMs / 1_000);
    this.batches.inc({ ...appLabels(shard), result: result.ok ? 'ok' : 'failed' });
  }

  handlerRetried(shard: ShardRef): void {
    this.retries.inc(appLabels(shard));
  }

  recordsSkipped(shard: ShardRef, count: number): void {
    this.skipped.inc(appLabels(shard), count);
  }

  recordsDeadLettered(shard: ShardRef, count: number): void {
    this.deadLettered.inc(appLabels(shard), count);
  }

  checkpointWritten(shard: ShardRef, result: { readonly durationMs: number; readonly ok: boolean }): void {
    this.checkpoints.inc({ ...appLabels(shard), result: result.ok ? 'ok' : 'failed' });
    this.checkpointDuration.observe(appLabels(shard), result.durationMs / 1_000);
  }

  errorReported(app: AppRef, _shardId: string | undefined, error: Error): void {
    this.errors.inc({ ...appLabels(app), kind: error.name });
  }

  getRecordsCalled(shard: ShardRef, result: { readonly durationMs: number; readonly result: GetRecordsResult }): void {
    this.getRecords.inc({ stream: shard.stream, result: result.result });
    this.getRecordsDuration.observe({ stream: shard.stream }, result.durationMs / 1_000);
  }

  subscribeToShardCalled(shard: ShardRef, result: { readonly result: SubscribeResult }): void {
    this.subscribes.inc({ stream: shard.stream, result: result.result });
  }

  private shardLabels(shard: ShardRef): Record<string, string> {
    return this.perShard ? { application: shard.application, stream: shard.stream, shard: shard.shardId } : appLabels(shard);
  }

  private forgetLag(shard: ShardRef): void {
    this.lagByShard.delete(shardKey(shard));
    if (this.perShard) this.shardLag.remove(this.shardLabels(shard));
  }
}

const CLOSE_REASON_LABEL: Readonly<Record<ShardCloseReason, string>> = { shardEnded: 'shard_ended', leaseLost: 'lease_lost', shutdownRequested: 'shutdown' };

function appLabels(app: AppRef): { application: string; stream: string } {
  return { application: app.application, stream: app.stream };
}

function shardKey(shard: ShardRef): string {
  return `${shard.application}\u0000${shard.stream}\u0000${shard.shardId}`;
}
