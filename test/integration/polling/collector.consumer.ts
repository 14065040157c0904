import { Consumer, OnInit, OnRecords, OnShardEnded, ShardContext, type KinesisRecord } from '../../../src';

/** What the collector saw, in order: opens, records and shard ends, across every shard. */
export interface CollectedEvent {
  readonly type: 'opened' | 'records' | 'ended';
  readonly shardId: string;
  readonly records?: readonly { readonly id: string; readonly key: string; readonly n: number; readonly seq: string; readonly sub: number; readonly raw: string; readonly pk: string }[];
  readonly millisBehindLatest?: number | undefined;
}

/** Shared by every instance of the collector consumers (one instance per shard). */
export const collected: CollectedEvent[] = [];

/** Every record id the collector handled, in order. */
export function collectedIds(): string[] {
  return collected.flatMap((e) => (e.records ?? []).map((r) => r.id));
}

function toEntry(record: KinesisRecord): NonNullable<CollectedEvent['records']>[number] {
  const raw = record.text();
  let parsed: { id?: string; key?: string; n?: number } = {};
  try {
    parsed = JSON.parse(raw) as typeof parsed;
  } catch {
    parsed = { id: raw };
  }
  return { id: parsed.id ?? raw, key: parsed.key ?? record.partitionKey, n: parsed.n ?? 0, seq: record.sequenceNumber, sub: record.subSequenceNumber, raw, pk: record.partitionKey };
}

/** Collects every record of every shard (stream name from SHARDLINE_IT_STREAM; the tests pass the source directly). */
@Consumer({ streamName: 'polling-it', applicationName: 'polling-it-app', checkpoint: 'batch' })
export class CollectorConsumer {
  constructor(private readonly shard: ShardContext) {}

  @OnInit()
  opened(): void {
    collected.push({ type: 'opened', shardId: this.shard.shardId });
  }

  @OnRecords()
  handle(records: readonly KinesisRecord[]): void {
    collected.push({ type: 'records', shardId: this.shard.shardId, records: records.map(toEntry), millisBehindLatest: this.shard.millisBehindLatest });
  }

  @OnShardEnded()
  ended(): void {
    collected.push({ type: 'ended', shardId: this.shard.shardId });
  }
}
