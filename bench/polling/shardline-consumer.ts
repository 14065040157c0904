/**
 * shardline's polling consumer reading every shard from TRIM_HORIZON with checkpoints in a file after every batch,
 * counting records in an @OnRecords handler. Prints one JSON line:
 * { records, wallMs, cpuMs, bytes, maxRssMb, highWaterBytes, heapUsedMb, externalMb } (peaks sampled every 20 ms).
 *
 * Usage (child of run.ts):
 *   node -r ./dist/cli/register.js bench/polling/shardline-consumer.ts <endpoint> <stream> <expected> <dir> [count|read-payloads] [flags]
 * Flags: `--metrics` (Prometheus + status board given to ShardlineApp.start, and GetRecords metrics of the source),
 * `--slow-ms N` (the handler sleeps N ms per batch), `--max-buffered-bytes N` (the source's memory budget).
 */
// The library as users run it: compiled (dist/, after `npm run build`), not transpiled on the fly, which would add
// the TypeScript compiler's memory to the peak RSS measured here.
import { Consumer, OnRecords, ShardlineApp, PollingRecordSource, FileCheckpointStore, createKinesisClient, createLogger, type KinesisRecord } from '../../dist';
import { combineRecorders, type MetricsRecorder } from '../../dist/metrics/metrics-recorder';
import { PrometheusMetrics } from '../../dist/metrics/prometheus-metrics';
import { ShardStatusBoard } from '../../dist/metrics/shard-status-board';

let total = 0;
let reached: () => void = () => undefined;
let expected = 0;
let readPayloads = false;
let slowMs = 0;
let bytes = 0;

@Consumer({ streamName: 'bench', applicationName: 'bench-polling', checkpoint: 'batch' })
export class CountingConsumer {
  @OnRecords()
  async count(records: readonly KinesisRecord[]): Promise<void> {
    if (slowMs > 0) await new Promise((resolve) => setTimeout(resolve, slowMs));
    total += records.length;
    if (readPayloads) for (const record of records) bytes += record.data.length;
    if (total >= expected) reached();
  }
}

function flag(args: readonly string[], name: string): string | undefined {
  const index = args.indexOf(name);
  return index >= 0 ? args[index + 1] : undefined;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const [endpoint = '', stream = '', expectedText = '0', dir = '.shardline/bench', mode = 'count'] = args;
  readPayloads = mode === 'read-payloads';
  slowMs = Number(flag(args, '--slow-ms') ?? '0');
  const maxBufferedText = flag(args, '--max-buffered-bytes');
  expected = Number(expectedText);
  const done = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const client = createKinesisClient({ endpoint, region: 'us-east-1' });
  const logger = createLogger({ level: 'warn' });
  let board: ShardStatusBoard | undefined;
  let metrics: MetricsRecorder | undefined;
  if (args.includes('--metrics')) {
    board = new ShardStatusBoard();
    metrics = combineRecorders([new PrometheusMetrics({ buildInfo: { version: 'bench', adapter: 'polling' } }), board]);
  }
  const peak = { heapUsedMb: 0, externalMb: 0 };
  const sampler = setInterval(() => {
    const m = process.memoryUsage();
    peak.heapUsedMb = Math.max(peak.heapUsedMb, m.heapUsed / 1024 / 1024);
    peak.externalMb = Math.max(peak.externalMb, m.external / 1024 / 1024);
  }, 20);
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const source = new PollingRecordSource({
    streamName: stream,
    client,
    checkpointStore: new FileCheckpointStore({ directory: dir, applicationName: 'bench-polling', streamName: stream }),
    logger,
    ...(maxBufferedText === undefined ? {} : { maxBufferedBytes: Number(maxBufferedText) }),
    ...(metrics === undefined ? {} : { metrics: { recorder: metrics, application: 'bench-polling' } }),
  });
  const app = await ShardlineApp.start({ consumer: CountingConsumer, source, logger, ...(metrics === undefined ? {} : { metrics }) });
  await done;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  clearInterval(sampler);
  await app.stop();
  await source.close();
  board?.close();
  client.destroy();
  const result = {
    records: total,
    wallMs,
    cpuMs: (cpu.user + cpu.system) / 1000,
    bytes,
    maxRssMb: process.resourceUsage().maxRSS / 1024,
    highWaterBytes: source.highWaterBytes,
    ...peak,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

void main();
