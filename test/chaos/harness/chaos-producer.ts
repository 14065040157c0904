/**
 * The chaos producer: puts ids 0..N-1 (JSON `{"id":N}`), partition key `pk-<id>` so that ids spread over every shard,
 * and remembers where each one landed (shard, sequence number, and sub-sequence number for aggregated records), which
 * is what the delivery checker compares the consumer's log against.
 */
import { PutRecordsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { KinesisProducer } from '../../../src/producer/kinesis-producer';
import { type PutPosition } from './delivery-checker';

/** Options of {@link ChaosProducer.put}. */
export interface PutPlan {
  /** First id (ids continue across calls). */
  readonly from: number;
  readonly count: number;
  /** Records per PutRecords call (at most 500). Default 100. */
  readonly chunk?: number;
  /** Pause between two calls, to spread the records over time. Default 0. */
  readonly pauseMs?: number;
  /** Filler bytes per record (to make records of a given size). Default 0. */
  readonly paddingBytes?: number;
  /** Stop early (returns the ids put so far) when this says so. */
  readonly until?: () => boolean;
}

/** Puts ids into one stream and keeps their positions. */
export class ChaosProducer {
  /** Where every id put so far landed. */
  readonly positions = new Map<number, PutPosition>();
  private aggregating: KinesisProducer | undefined;
  private stopped = false;

  /**
   * @param client a client on the emulator (HTTP/1.1)
   * @param stream the stream's name
   * @param aggregate pack records into KPL aggregates with shardline's KinesisProducer (`aggregate: true`)
   */
  constructor(
    private readonly client: KinesisClient,
    private readonly stream: string,
    private readonly aggregate = false,
  ) {}

  /** Puts `count` ids from `from` on, in calls of `chunk`, pausing between calls; resolves with the last id put + 1. */
  async put(plan: PutPlan): Promise<number> {
    const chunk = plan.chunk ?? 100;
    const end = plan.from + plan.count;
    let next = plan.from;
    while (next < end) {
      if (this.stopped || plan.until?.() === true) break;
      const ids = Array.from({ length: Math.min(chunk, end - next) }, (_, i) => next + i);
      await (this.aggregate ? this.putAggregated(ids, plan.paddingBytes ?? 0) : this.putPlain(ids, plan.paddingBytes ?? 0));
      next += ids.length;
      if ((plan.pauseMs ?? 0) > 0 && next < end) await new Promise((resolve) => setTimeout(resolve, plan.pauseMs));
    }
    return next;
  }

  /** Makes every `put` in progress stop after its current call, and closes the aggregating producer, if one was made. */
  async close(): Promise<void> {
    this.stopped = true;
    await this.aggregating?.close();
  }

  private async putPlain(ids: readonly number[], paddingBytes: number): Promise<void> {
    const out = await this.client.send(
      new PutRecordsCommand({ StreamName: this.stream, Records: ids.map((id) => ({ Data: payload(id, paddingBytes), PartitionKey: `pk-${id}` })) }),
    );
    const results = out.Records ?? [];
    ids.forEach((id, i) => {
      const r = results[i];
      if (r?.ShardId === undefined || r.SequenceNumber === undefined) throw new Error(`put of id ${id} failed: ${r?.ErrorCode ?? 'no result'} ${r?.ErrorMessage ?? ''}`);
      this.positions.set(id, { shard: r.ShardId, seq: r.SequenceNumber, sub: 0 });
    });
  }

  private async putAggregated(ids: readonly number[], paddingBytes: number): Promise<void> {
    this.aggregating ??= new KinesisProducer(this.client, { streamName: this.stream, aggregate: true, lingerMs: 20 });
    const result = await this.aggregating.putMany(ids.map((id) => ({ data: payload(id, paddingBytes), partitionKey: `pk-${id}` })));
    ids.forEach((id, i) => {
      const seq = result.sequenceNumbers[i];
      const shard = result.shardIds[i];
      if (seq === undefined || shard === undefined) throw new Error(`put of id ${id} failed: ${result.errors[i]?.message ?? 'no result'}`);
      this.positions.set(id, { shard, seq, sub: result.subSequenceNumbers[i] ?? 0 });
    });
  }
}

function payload(id: number, paddingBytes: number): Buffer {
  return Buffer.from(JSON.stringify(paddingBytes > 0 ? { id, pad: 'x'.repeat(paddingBytes) } : { id }));
}
