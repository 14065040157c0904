/**
 * The consumer of bench/fleet: appends one line per handled record to FLEET_LOG, with the handling process and the
 * wall-clock time, `{"s":"shardId-…","q":"<sequence number>","p":<pid>,"t":<epoch ms>}` (one write per batch).
 * Run by the built CLI: `shardline run bench/fleet/fleet-consumer.ts --adapter polling --checkpoints dynamodb:…`.
 */
import { appendFileSync } from 'node:fs';
import { Consumer, OnRecords, ShardContext, type KinesisRecord } from '../../dist';

@Consumer({ streamName: process.env['FLEET_STREAM'] ?? 'fleet', applicationName: 'fleet-bench', checkpoint: 'batch' })
export class FleetBenchConsumer {
  constructor(private readonly shard: ShardContext) {}

  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    const t = Date.now();
    const lines = records.map((r) => JSON.stringify({ s: this.shard.shardId, q: r.sequenceNumber, p: process.pid, t }));
    appendFileSync(process.env['FLEET_LOG'] ?? 'fleet-handled.jsonl', `${lines.join('\n')}\n`);
  }
}
