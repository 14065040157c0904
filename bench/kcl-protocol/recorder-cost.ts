/**
 * What metrics add per batch, measured in one process (less exposed to a noisy machine than two child processes):
 * the CPU of pushing 1,000-record batches through MeteredRecordSource, with a checkpoint per batch, with every
 * recorder on (Prometheus + status board + EMF to a null sink), minus the same with the source unmetered.
 * Prints one JSON line: { usPerBatch, batches }. Run by bench/kcl-protocol/run.ts.
 *
 *   node -r ./dist/cli/register.js bench/kcl-protocol/recorder-cost.ts [batches]
 */
import { randomBytes } from 'node:crypto';
import { Subject, type Observable } from 'rxjs';
import { type RecordSource } from '../../src/adapters/record-source';
import { KinesisRecord } from '../../src/core/kinesis-record';
import { type ShardEvent } from '../../src/core/shard-event';
import { EmfMetrics } from '../../src/metrics/emf-metrics';
import { MeteredRecordSource } from '../../src/metrics/metered-record-source';
import { combineRecorders } from '../../src/metrics/metrics-recorder';
import { PrometheusMetrics } from '../../src/metrics/prometheus-metrics';
import { ShardStatusBoard } from '../../src/metrics/shard-status-board';

const BATCHES = Number(process.argv[2] ?? 20_000);
const SHARD = 'shardId-000000000000';

/** A source whose events are pushed by the benchmark, synchronously. */
class PushedSource implements RecordSource {
  readonly name = 'bench';
  readonly subject = new Subject<ShardEvent>();
  events(): Observable<ShardEvent> {
    return this.subject;
  }
}

// The records as the KCL adapter makes them: base64 text from a parsed JSON line, decoded only on demand.
const line = JSON.stringify(Array.from({ length: 1_000 }, (_, i) => ({ data: randomBytes(1_024).toString('base64'), partitionKey: `pk-${i}`, sequenceNumber: `${49590338271490256608559692538361571095921575989136588898n + BigInt(i)}` })));
const records = (JSON.parse(line) as Array<{ data: string; partitionKey: string; sequenceNumber: string }>).map((r) => new KinesisRecord({ ...r, shardId: SHARD }));
const position = records[records.length - 1]!.position;

/** CPU µs to push `count` batches (and one checkpoint per batch) through `source` into a consumer that acks at once. */
async function pushBatches(source: RecordSource, pushed: PushedSource, count: number): Promise<number> {
  let checkpoint: ((p: typeof position) => Promise<void>) | undefined;
  const subscription = source.events().subscribe((event) => {
    if (event.type === 'opened') checkpoint = (p) => event.lease.checkpointer.checkpoint(p);
    event.ack({ status: 'ok' });
  });
  pushed.subject.next({ type: 'opened', shardId: SHARD, lease: { streamName: 'bench', shardId: SHARD, checkpointer: { checkpoint: () => Promise.resolve() } }, ack: () => undefined });
  const start = process.cpuUsage();
  for (let i = 0; i < count; i++) {
    pushed.subject.next({ type: 'records', shardId: SHARD, records, millisBehindLatest: 0, ack: () => undefined });
    await checkpoint!(position);
  }
  const used = process.cpuUsage(start);
  subscription.unsubscribe();
  return used.user + used.system;
}

async function main(): Promise<void> {
  const prometheus = new PrometheusMetrics({ buildInfo: { version: 'bench', adapter: 'kcl' } });
  const board = new ShardStatusBoard();
  const emf = new EmfMetrics({ write: () => undefined });
  const recorder = combineRecorders([prometheus, board, emf]);
  const app = { application: 'bench', stream: 'bench' };
  recorder.applicationStarted?.(app, 'kcl');
  const plain = new PushedSource();
  const meteredInner = new PushedSource();
  const metered = new MeteredRecordSource(meteredInner, recorder, app);
  // Warm up both paths, then alternate rounds and keep the median difference.
  await pushBatches(plain, plain, 2_000);
  await pushBatches(metered, meteredInner, 2_000);
  const differences: number[] = [];
  for (let round = 0; round < 5; round++) {
    const off = await pushBatches(plain, plain, BATCHES / 5);
    const on = await pushBatches(metered, meteredInner, BATCHES / 5);
    differences.push((on - off) / (BATCHES / 5));
  }
  differences.sort((a, b) => a - b);
  emf.close();
  board.close();
  process.stdout.write(`${JSON.stringify({ usPerBatch: differences[2], batches: BATCHES })}\n`);
}

void main();
