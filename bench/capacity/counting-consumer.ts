/**
 * The consumer run.ts measures, run as users run it:
 *   shardline run bench/capacity/counting-consumer.ts --adapter polling --endpoint <stand-in> --stream capacity --checkpoints file:DIR
 * It counts records (checkpoint per batch) and reports its counters to run.ts over IPC (see probe.ts).
 */
import { Consumer, OnRecords, type KinesisRecord } from 'shardline';
import { startProbe } from './probe';

let total = 0;
startProbe(() => total);

/** Counts the records of every shard. */
@Consumer({ streamName: 'capacity', applicationName: 'bench-capacity', checkpoint: 'batch' })
export class CountingConsumer {
  @OnRecords()
  count(records: readonly KinesisRecord[]): void {
    total += records.length;
  }
}

/** The same, checkpointing every 5 s (what a process reading many shards would rather do than write per batch). */
@Consumer({ streamName: 'capacity', applicationName: 'bench-capacity', checkpoint: { every: '5s' } })
export class CountingConsumerEvery5s {
  @OnRecords()
  count(records: readonly KinesisRecord[]): void {
    total += records.length;
  }
}
