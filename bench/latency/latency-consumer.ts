/**
 * The consumer of bench/latency: for each batch, the time from each record's put (the epoch milliseconds the
 * producer wrote into it) to the handler's entry, appended as one JSON line to $BENCH_LATENCY_FILE with the process's
 * CPU time so far. Run by `shardline run` (polling, fan-out) or as the KCL daemon's child (one process per shard, all
 * appending to the same file).
 */
import { appendFileSync } from 'node:fs';
import { Consumer, OnRecords, type KinesisRecord } from 'shardline';

const FILE = process.env['BENCH_LATENCY_FILE'] ?? 'latency.jsonl';

/** One line of the latency file. */
export interface LatencyLine {
  readonly pid: number;
  /** Handler-entry latency of each measured record of the batch, in ms. */
  readonly latenciesMs: number[];
  /** Warm-up records in the batch (not measured). */
  readonly warmup: number;
  /** process.cpuUsage() user + system, in microseconds, at the handler's entry. */
  readonly cpuUs: number;
}

@Consumer({ streamName: 'bench-latency', applicationName: 'bench-latency', checkpoint: 'batch' })
export class LatencyConsumer {
  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    const now = performance.timeOrigin + performance.now();
    const cpu = process.cpuUsage();
    const latenciesMs: number[] = [];
    let warmup = 0;
    for (const record of records) {
      const sent = record.json<{ t: number; i: number }>();
      if (sent.i < 0) warmup++;
      else latenciesMs.push(Math.round((now - sent.t) * 10) / 10);
    }
    const line: LatencyLine = { pid: process.pid, latenciesMs, warmup, cpuUs: cpu.user + cpu.system };
    appendFileSync(FILE, `${JSON.stringify(line)}\n`);
  }
}
