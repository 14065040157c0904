/**
 * docs/metrics.md against the code: every Prometheus metric the doc's tables list exists in a PrometheusMetrics
 * registry with the same type and labels, and every metric the registry renders is in the doc (and so are the EMF
 * names and dimensions, and every metric name the doc's PromQL examples use).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { EmfMetrics } from '../../../src/metrics/emf-metrics';
import { combineRecorders, type ShardRef } from '../../../src/metrics/metrics-recorder';
import { PrometheusMetrics } from '../../../src/metrics/prometheus-metrics';
import { type ProducerStats } from '../../../src/producer/kinesis-producer';

const DOC = readFileSync(join(__dirname, '../../../docs/metrics.md'), 'utf8');

interface DocMetric {
  readonly type: string;
  readonly labels: readonly string[];
}

/** The rows of the doc's Prometheus tables: | `name` | type | `label`, … | unit | meaning | KCL |. */
function documentedMetrics(): Map<string, DocMetric> {
  const rows = new Map<string, DocMetric>();
  for (const line of DOC.split('\n')) {
    const cells = line.split('|').map((cell) => cell.trim());
    const name = /^`(shardline_\w+)`$/.exec(cells[1] ?? '')?.[1];
    if (name === undefined) continue;
    expect(rows.has(name)).toBe(false);
    rows.set(name, { type: cells[2] ?? '', labels: [...(cells[3] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]!).sort() });
  }
  return rows;
}

/** Every `shardline_` metric a registry renders, with its type and the label names of its series. */
function renderedMetrics(text: string): Map<string, DocMetric> {
  const types = new Map<string, string>();
  for (const [, name, type] of text.matchAll(/^# TYPE (shardline_\w+) (\w+)$/gm)) types.set(name!, type!);
  const labels = new Map<string, Set<string>>([...types.keys()].map((name) => [name, new Set<string>()]));
  for (const [, series, labelText] of text.matchAll(/^(shardline_\w+)\{([^}]*)\} /gm)) {
    const base = types.has(series!) ? series! : series!.replace(/_(bucket|sum|count)$/, '');
    for (const [, key] of labelText!.matchAll(/(\w+)="/g)) if (key !== 'le') labels.get(base)?.add(key!);
  }
  return new Map([...types].map(([name, type]) => [name, { type, labels: [...labels.get(name)!].sort() }]));
}

const APP = { application: 'orders-app', stream: 'orders' };
const SHARD: ShardRef = { ...APP, shardId: 'shardId-000000000000' };
const OTHER: ShardRef = { ...APP, shardId: 'shardId-000000000001' };

/** Calls every recorder method once, so that every metric has a series to read labels from. */
function exercise(prometheus: PrometheusMetrics, emf: EmfMetrics): void {
  const recorder = combineRecorders([prometheus, emf]);
  recorder.applicationStarted?.(APP, 'polling');
  recorder.shardOpened?.(SHARD);
  recorder.shardOpened?.(OTHER);
  recorder.batchReceived?.(SHARD, { records: 10, bytes: 1_000, millisBehindLatest: 2_000 });
  recorder.batchHandled?.(SHARD, { durationMs: 4, ok: true });
  recorder.handlerRetried?.(SHARD);
  recorder.recordsSkipped?.(SHARD, 1);
  recorder.recordsDeadLettered?.(SHARD, 1);
  recorder.checkpointWritten?.(SHARD, { durationMs: 2, ok: true, position: '49590338271490256608559692538361571095921575989136588898' });
  recorder.errorReported?.(APP, SHARD.shardId, Object.assign(new Error('failed'), { name: 'HandlerError' }));
  recorder.getRecordsCalled?.(SHARD, { durationMs: 12, result: 'ok' });
  recorder.subscribeToShardCalled?.(SHARD, { result: 'ok' });
  recorder.shardStopped?.(OTHER, new Error('stopped'));
  recorder.shardClosed?.({ ...APP, shardId: 'shardId-000000000002' }, 'leaseLost');
  const stats = { deliveredRecords: 5, failedRecords: 0, retriedRecords: 1, deliveredBytes: 50, kinesisRecords: 1, calls: 1, queuedRecords: 0 } as unknown as ProducerStats;
  prometheus.observeProducer({ streamName: 'orders', stats: () => stats });
}

describe('docs/metrics.md matches the code', () => {
  let prometheus: PrometheusMetrics;
  let emf: EmfMetrics;
  let emfLines: string[];

  beforeEach(() => {
    emfLines = [];
    // The build info labels are the ones `shardline run` sets (src/cli/observability.ts).
    prometheus = new PrometheusMetrics({ buildInfo: { version: '0.0.0', adapter: 'polling' }, processMetrics: false });
    emf = new EmfMetrics({ write: (line) => emfLines.push(line), flushIntervalMs: 3_600_000 });
    exercise(prometheus, emf);
  });

  afterEach(() => emf.close());

  it('lists every shardline_ metric of the registry, and only those', async () => {
    const rendered = renderedMetrics(await prometheus.render());
    expect(rendered.size).toBeGreaterThan(20);
    expect([...documentedMetrics().keys()].sort()).toEqual([...rendered.keys()].sort());
  });

  it('gives each metric the type and labels the registry renders', async () => {
    const rendered = renderedMetrics(await prometheus.render());
    for (const [name, documented] of documentedMetrics()) {
      expect({ name, ...documented }).toEqual({ name, ...rendered.get(name) });
    }
  });

  it('uses only existing metric names in its examples (PromQL, alerting rules, prose)', async () => {
    const rendered = renderedMetrics(await prometheus.render());
    const mentioned = new Set([...DOC.matchAll(/\bshardline_\w+/g)].map((m) => m[0].replace(/_bucket$/, '')));
    for (const name of mentioned) expect({ name, exists: rendered.has(name) }).toEqual({ name, exists: true });
  });

  it('documents the per-shard labels switch as it behaves: records and bytes lose `shard`, the max lag stays', async () => {
    const unlabelled = new PrometheusMetrics({ perShardLabels: false, processMetrics: false });
    exercise(unlabelled, new EmfMetrics({ write: () => undefined, flushIntervalMs: 3_600_000 }));
    const text = await unlabelled.render();
    const rendered = renderedMetrics(text);
    expect(rendered.get('shardline_records_total')?.labels).toEqual(['application', 'stream']);
    expect(rendered.get('shardline_record_bytes_total')?.labels).toEqual(['application', 'stream']);
    expect(text).not.toMatch(/^shardline_shard_behind_latest_seconds\{/m);
    expect(text).toMatch(/^shardline_behind_latest_max_seconds\{application="orders-app",stream="orders"\} 2$/m);
  });

  it('lists the EMF metrics with the units and dimensions the EMF lines carry', () => {
    emf.flush();
    const written = new Set<string>();
    for (const line of emfLines) {
      const event = JSON.parse(line) as { _aws: { CloudWatchMetrics: Array<{ Namespace: string; Dimensions: string[][]; Metrics: Array<{ Name: string; Unit: string }> }> } };
      for (const directive of event._aws.CloudWatchMetrics) {
        expect(directive.Namespace).toBe('shardline');
        for (const metric of directive.Metrics) written.add(`${metric.Name} | ${metric.Unit} | ${directive.Dimensions[0]!.join(', ')}`);
      }
    }
    const section = DOC.slice(DOC.indexOf('## CloudWatch Embedded Metric Format'), DOC.indexOf('### Getting EMF into CloudWatch'));
    const documented = new Set<string>();
    for (const line of section.split('\n')) {
      const cells = line.split('|').map((cell) => cell.trim());
      const name = /^`([\w.]+)`$/.exec(cells[1] ?? '')?.[1];
      if (name === undefined) continue;
      documented.add(`${name} | ${cells[2]} | ${[...(cells[3] ?? '').matchAll(/`(\w+)`/g)].map((m) => m[1]).join(', ')}`);
    }
    expect([...documented].sort()).toEqual([...written].sort());
  });
});
