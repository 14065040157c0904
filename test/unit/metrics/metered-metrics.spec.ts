import { Consumer, OnRecords, ShardCheckpointer } from 'shardline';
import { EmfMetrics } from '../../../src/metrics/emf-metrics';
import { MeteredRecordSource } from '../../../src/metrics/metered-record-source';
import { combineRecorders, type ShardRef } from '../../../src/metrics/metrics-recorder';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics';
import { ShardStatusBoard } from '../../../src/metrics/shard-status-board';
import { InMemoryRecordSource } from '../../../src/adapters/memory/in-memory-record-source';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { createLogger } from '../../../src/core/logger';

@Consumer({ streamName: 'orders', applicationName: 'metered' })
class Metered {
  constructor(private readonly checkpointer: ShardCheckpointer) {}

  @OnRecords({ decode: 'text' })
  handle(items: string[]): void {
    if (items.includes('boom')) throw new Error('bad record');
    void this.checkpointer;
  }
}

const APP = { application: 'metered', stream: 'orders' };
const SHARD: ShardRef = { ...APP, shardId: 'shardId-000000000000' };

/** A value of one series in the exposition text, or undefined. */
function sample(text: string, name: string, labels: Record<string, string>): number | undefined {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  for (const line of text.split('\n')) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const labelText = /\{(.*)\}/.exec(line)?.[1] ?? '';
    if (wanted.every((w) => labelText.split(',').includes(w))) return Number(line.split(' ').pop());
  }
  return undefined;
}

describe('metrics through the RecordSource contract', () => {
  it('counts records, bytes, lag, batches and checkpoints of a real app on the in-memory source', async () => {
    const prometheus = new PrometheusMetrics({ processMetrics: false, buildInfo: { version: 'test', adapter: 'memory' } });
    const board = new ShardStatusBoard();
    const emfLines: string[] = [];
    const emf = new EmfMetrics({ write: (l) => emfLines.push(l), now: () => 1_700_000_000_000 });
    const recorder = combineRecorders([prometheus, board, emf]);
    const inner = new InMemoryRecordSource('orders');
    const source = new MeteredRecordSource(inner, recorder, APP);
    recorder.applicationStarted?.(APP, 'memory');
    const app = await ShardlineApp.start({ consumer: Metered, source, logger: createLogger({ level: 'error' }) });
    try {
      await inner.push(SHARD.shardId, [{ data: 'abcd', partitionKey: 'k' }, { data: 'ef', partitionKey: 'k' }], 4_000);
      await inner.push(SHARD.shardId, [{ data: 'g', partitionKey: 'k' }], 0);
      const text = await prometheus.render();
      expect(sample(text, 'shardline_records_total', { shard: SHARD.shardId })).toBe(3);
      expect(sample(text, 'shardline_record_bytes_total', { shard: SHARD.shardId })).toBe(7);
      expect(sample(text, 'shardline_shard_behind_latest_seconds', { shard: SHARD.shardId })).toBe(0);
      expect(sample(text, 'shardline_behind_latest_max_seconds', APP)).toBe(0);
      expect(sample(text, 'shardline_batches_total', { ...APP, result: 'ok' })).toBe(2);
      expect(sample(text, 'shardline_checkpoints_total', { ...APP, result: 'ok' })).toBe(2);
      expect(sample(text, 'shardline_shards_owned', APP)).toBe(1);
      expect(sample(text, 'shardline_build_info', { version: 'test', adapter: 'memory' })).toBe(1);
      expect(sample(text, 'shardline_handler_duration_seconds_count', APP)).toBe(2);

      const status = board.snapshot().applications[0]!;
      expect(status).toMatchObject({ application: 'metered', stream: 'orders', source: 'memory' });
      expect(status.shards[0]).toMatchObject({ shardId: SHARD.shardId, state: 'open', recordsTotal: 3, millisBehindLatest: 0 });
      expect(status.shards[0]!.checkpoint).toMatch(/^\d+$/);
      expect(board.readiness()).toEqual({ status: 'ok', reasons: [] });

      emf.flush();
      const events = emfLines.map((l) => JSON.parse(l) as Record<string, unknown>);
      const shardEvent = events.find((e) => e['ShardId'] === SHARD.shardId)!;
      expect(shardEvent).toMatchObject({ Application: 'metered', Stream: 'orders', RecordsProcessed: 3, DataBytesProcessed: 7, MillisBehindLatest: 4_000 });
      expect((shardEvent['UpdateLease.Success'] as number[]).length).toBe(2);

      // A bad batch stops the shard: readiness fails and says why, the stopped gauge counts it.
      await inner.push(SHARD.shardId, [{ data: 'boom', partitionKey: 'k' }]);
      const after = await prometheus.render();
      expect(sample(after, 'shardline_shards_stopped', APP)).toBe(1);
      expect(sample(after, 'shardline_batches_total', { ...APP, result: 'failed' })).toBe(1);
      const ready = board.readiness();
      expect(ready.status).toBe('error');
      expect(ready.reasons[0]).toMatch(/^metered \(orders\): shard shardId-000000000000 stopped/);
    } finally {
      await app.stop().catch(() => undefined);
      board.close();
      emf.close();
    }
  });

  it('an empty page updates the lag too, so the gauge keeps reporting while the stream is idle', async () => {
    const prometheus = new PrometheusMetrics({ processMetrics: false });
    const board = new ShardStatusBoard();
    const recorder = combineRecorders([prometheus, board]);
    recorder.batchReceived?.(SHARD, { records: 5, bytes: 5, millisBehindLatest: 30_000 });
    recorder.lagObserved?.(SHARD, 0);
    expect(sample(await prometheus.render(), 'shardline_shard_behind_latest_seconds', { shard: SHARD.shardId })).toBe(0);
    expect(sample(await prometheus.render(), 'shardline_behind_latest_max_seconds', APP)).toBe(0);
    expect(board.snapshot().applications[0]!.shards[0]).toMatchObject({ millisBehindLatest: 0, recordsTotal: 5 });
    board.close();
  });

  it('removes the lag of a shard this process no longer owns', async () => {
    const prometheus = new PrometheusMetrics({ processMetrics: false });
    prometheus.batchReceived(SHARD, { records: 1, bytes: 1, millisBehindLatest: 9_000 });
    expect(sample(await prometheus.render(), 'shardline_shard_behind_latest_seconds', { shard: SHARD.shardId })).toBe(9);
    prometheus.shardClosed(SHARD, 'leaseLost');
    const text = await prometheus.render();
    expect(sample(text, 'shardline_shard_behind_latest_seconds', { shard: SHARD.shardId })).toBeUndefined();
    expect(sample(text, 'shardline_shards_closed_total', { ...APP, reason: 'lease_lost' })).toBe(1);
  });

  it('readiness fails over the lag threshold and while stopping, and the lag chart samples the max over open shards', () => {
    let now = 0;
    const board = new ShardStatusBoard({ readyMaxLagMs: 5_000, now: () => now, lagSampleIntervalMs: 60_000 });
    try {
      expect(board.readiness()).toEqual({ status: 'error', reasons: ['no consumer has started yet'] });
      board.applicationStarted(APP, 'polling');
      board.shardOpened(SHARD);
      board.shardOpened({ ...SHARD, shardId: 's2' });
      board.batchReceived(SHARD, { records: 10, millisBehindLatest: 7_000 });
      board.batchReceived({ ...SHARD, shardId: 's2' }, { records: 5, millisBehindLatest: 1_000 });
      expect(board.readiness().reasons).toEqual(['metered (orders): 7000 ms behind the latest record (over 5000 ms)']);
      now = 1_000;
      board.sampleLag();
      board.batchReceived(SHARD, { records: 1, millisBehindLatest: 0 });
      now = 2_000;
      board.sampleLag();
      expect(board.snapshot().applications[0]!.lagHistory).toEqual([
        { t: 1_000, maxMillisBehindLatest: 7_000 },
        { t: 2_000, maxMillisBehindLatest: 1_000 },
      ]);
      expect(board.readiness().status).toBe('ok');
      board.applicationStopping(APP);
      expect(board.readiness().reasons).toEqual(['metered (orders) is shutting down']);
    } finally {
      board.close();
    }
  });

  it('EMF events follow the specification: one JSON object, integer timestamp, directives whose metrics all have root values', () => {
    const lines: string[] = [];
    const emf = new EmfMetrics({ write: (l) => lines.push(l), namespace: 'flights', now: () => 1_700_000_000_123 });
    emf.applicationStarted(APP);
    emf.shardOpened(SHARD);
    emf.batchReceived(SHARD, { records: 500, bytes: 51_200, millisBehindLatest: 1_500 });
    emf.batchHandled(SHARD, { durationMs: 12.3456 });
    emf.checkpointWritten(SHARD, { durationMs: 3, ok: false });
    emf.errorReported(APP);
    emf.close();
    expect(lines).toHaveLength(2);
    for (const line of lines) {
      const event = JSON.parse(line) as { _aws: { Timestamp: number; CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } } & Record<string, unknown>;
      expect(Number.isInteger(event._aws.Timestamp)).toBe(true);
      for (const directive of event._aws.CloudWatchMetrics) {
        expect(directive.Namespace).toBe('flights');
        expect(directive.Metrics.length).toBeLessThanOrEqual(100);
        for (const set of directive.Dimensions) {
          expect(set.length).toBeLessThanOrEqual(30);
          for (const dimension of set) expect(typeof event[dimension]).toBe('string');
        }
        for (const metric of directive.Metrics) {
          const value = event[metric.Name];
          const values = Array.isArray(value) ? (value as unknown[]) : [value];
          expect(values.length).toBeGreaterThan(0);
          expect(values.length).toBeLessThanOrEqual(100);
          for (const v of values) expect(typeof v).toBe('number');
          expect(['Count', 'Bytes', 'Milliseconds']).toContain(metric.Unit);
        }
      }
    }
    const app = JSON.parse(lines[1]!) as Record<string, unknown>;
    expect(app).toMatchObject({ Application: 'metered', Stream: 'orders', HandlerErrors: 1, TakenLeases: 1, MillisBehindLatest: 1_500 });
    expect(JSON.parse(lines[0]!)).toMatchObject({ 'UpdateLease.Success': [0], 'RecordProcessor.processRecords.Time': [12.346] });
  });

  it('a failing recorder never breaks the others', () => {
    const board = new ShardStatusBoard();
    const broken = { batchReceived: () => { throw new Error('sink down'); } };
    const recorder = combineRecorders([broken, board]);
    expect(() => recorder.batchReceived?.(SHARD, { records: 2, bytes: 2 })).not.toThrow();
    expect(board.snapshot().applications[0]!.shards[0]!.recordsTotal).toBe(2);
    board.close();
  });
});

@Consumer({ streamName: 'orders', applicationName: 'skipper', errors: { onFailure: 'skip', maxRetries: 1, initialBackoffMs: 1 } })
class Skipper {
  @OnRecords({ decode: 'json' })
  handle(items: Array<{ ok: boolean }>): void {
    if (items.some((i) => !i.ok)) throw new Error('one bad item');
  }
}

describe('ShardlineApp.start({ metrics })', () => {
  it('counts retries, skipped records (undecodable ones too) and errors by kind', async () => {
    const prometheus = new PrometheusMetrics({ processMetrics: false });
    const source = new InMemoryRecordSource('orders');
    const app = await ShardlineApp.start({ consumer: Skipper, source, metrics: prometheus, logger: createLogger({ level: 'error' }) });
    try {
      const records = [{ ok: true }, { ok: false }, { ok: true }, { ok: true }].map((r) => ({ data: JSON.stringify(r), partitionKey: 'k' }));
      await source.push('shardId-000000000000', [...records, { data: 'not json', partitionKey: 'k' }]);
      const text = await prometheus.render();
      const labels = { application: 'skipper', stream: 'orders' };
      expect(sample(text, 'shardline_skipped_records_total', labels)).toBe(2); // the bad item (found by bisecting) and the undecodable record
      expect(sample(text, 'shardline_handler_retries_total', labels)).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'shardline_errors_total', { ...labels, kind: 'HandlerError' })).toBeGreaterThanOrEqual(1);
      expect(sample(text, 'shardline_records_total', { ...labels, shard: 'shardId-000000000000' })).toBe(5);
      expect(sample(text, 'shardline_batches_total', { ...labels, result: 'ok' })).toBe(1);
    } finally {
      await app.stop();
    }
  });

  it('labels every series with the stream actually read when the app is given one (the CLI\'s --stream)', async () => {
    const prometheus = new PrometheusMetrics({ processMetrics: false, buildInfo: { version: 'test', adapter: 'memory' } });
    const source = new InMemoryRecordSource('orders-eu');
    const app = await ShardlineApp.start({ consumer: Metered, source, streamName: 'orders-eu', metrics: prometheus, logger: createLogger({ level: 'error' }) });
    try {
      await source.push('shardId-000000000001', [{ data: 'ok', partitionKey: 'k' }], 0);
      await source.push(SHARD.shardId, [{ data: 'boom', partitionKey: 'k' }], 0).catch(() => undefined); // retried, then stops the shard
      const text = await prometheus.render();
      const eu = { application: 'metered', stream: 'orders-eu' };
      expect(sample(text, 'shardline_records_total', { ...eu, shard: 'shardId-000000000001' })).toBe(1);
      expect(sample(text, 'shardline_batches_total', { ...eu, result: 'ok' })).toBe(1);
      expect(sample(text, 'shardline_handler_retries_total', eu)).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain('stream="orders"');
    } finally {
      await app.stop();
    }
  });
});
