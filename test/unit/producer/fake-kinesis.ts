import { type KinesisClient, type PutRecordsRequestEntry, type PutRecordsResultEntry } from '@aws-sdk/client-kinesis';
import { createHash } from 'node:crypto';

/** A record the fake stream accepted. */
export interface StoredRecord {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
  readonly shardId: string;
  readonly sequenceNumber: string;
  readonly sequenceNumberForOrdering?: string;
}

/** One call the fake received. */
export interface FakeCall {
  readonly name: string;
  readonly input: Record<string, unknown>;
}

type EntryFault = (entry: PutRecordsRequestEntry, attempt: number, index: number) => string | undefined;

/**
 * A hand-written in-process Kinesis for unit tests: PutRecords/PutRecord/ListShards over N shards with even hash
 * ranges, routing by MD5 or ExplicitHashKey like Kinesis does, with hooks to fail entries or whole calls and to
 * hold calls until released.
 */
export class FakeKinesis {
  readonly stored: StoredRecord[] = [];
  readonly calls: FakeCall[] = [];
  entryFault: EntryFault | undefined;
  callFault: ((name: string, callIndex: number) => Error | undefined) | undefined;
  hold = false;
  inFlight = 0;
  maxInFlight = 0;
  private held: (() => void)[] = [];
  private sequence = 0n;
  private readonly attempts = new Map<string, number>();
  readonly shards: { shardId: string; start: bigint; end: bigint; closed?: boolean }[];

  constructor(shardCount = 4) {
    const max = (1n << 128n) - 1n;
    const step = (max + 1n) / BigInt(shardCount);
    this.shards = Array.from({ length: shardCount }, (_, i) => ({
      shardId: `shardId-${String(i).padStart(12, '0')}`,
      start: step * BigInt(i),
      end: i === shardCount - 1 ? max : step * BigInt(i + 1) - 1n,
    }));
  }

  /** The client to give the producer. */
  get client(): KinesisClient {
    return { send: (command: { constructor: { name: string }; input: Record<string, unknown> }) => this.send(command) } as unknown as KinesisClient;
  }

  /** Lets every held call go on. */
  release(): void {
    this.hold = false;
    for (const go of this.held.splice(0)) go();
  }

  /** Number of calls waiting on `hold`. */
  get heldCount(): number {
    return this.held.length;
  }

  shardOf(hashKey: bigint): string {
    return this.shards.find((s) => s.closed !== true && hashKey >= s.start && hashKey <= s.end)!.shardId;
  }

  /** Splits an open shard at the middle of its hash range, as SplitShard does: it closes, two children open. */
  split(shardId: string): [string, string] {
    const parent = this.shards.find((s) => s.shardId === shardId && s.closed !== true);
    if (parent === undefined) throw new Error(`no open shard ${shardId}`);
    parent.closed = true;
    const middle = parent.start + (parent.end - parent.start + 1n) / 2n;
    const ids: [string, string] = [`shardId-${String(this.shards.length).padStart(12, '0')}`, `shardId-${String(this.shards.length + 1).padStart(12, '0')}`];
    this.shards.push({ shardId: ids[0], start: parent.start, end: middle - 1n }, { shardId: ids[1], start: middle, end: parent.end });
    return ids;
  }

  static hashOf(partitionKey: string): bigint {
    return BigInt(`0x${createHash('md5').update(partitionKey, 'utf8').digest('hex')}`);
  }

  private async send(command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> {
    const name = command.constructor.name.replace(/Command$/, '');
    const callIndex = this.calls.length;
    this.calls.push({ name, input: command.input });
    this.inFlight++;
    this.maxInFlight = Math.max(this.maxInFlight, this.inFlight);
    try {
      await Promise.resolve();
      if (this.hold) await new Promise<void>((resolve) => this.held.push(resolve));
      const fault = this.callFault?.(name, callIndex);
      if (fault !== undefined) throw fault;
      if (name === 'ListShards') {
        return {
          Shards: this.shards.filter((s) => s.closed !== true).map((s) => ({
            ShardId: s.shardId,
            HashKeyRange: { StartingHashKey: s.start.toString(), EndingHashKey: s.end.toString() },
            SequenceNumberRange: { StartingSequenceNumber: '1' },
          })),
        };
      }
      if (name === 'PutRecords') {
        const entries = command.input.Records as PutRecordsRequestEntry[];
        let failed = 0;
        const records: PutRecordsResultEntry[] = entries.map((entry, index) => {
          const key = Buffer.from(entry.Data!).toString('base64') + entry.PartitionKey!;
          const attempt = (this.attempts.get(key) ?? 0) + 1;
          this.attempts.set(key, attempt);
          const code = this.entryFault?.(entry, attempt, index);
          if (code !== undefined) {
            failed++;
            return { ErrorCode: code, ErrorMessage: `injected ${code}` };
          }
          return this.store(entry, undefined);
        });
        return { FailedRecordCount: failed, Records: records };
      }
      if (name === 'PutRecord') {
        const entry = command.input as unknown as PutRecordsRequestEntry & { SequenceNumberForOrdering?: string };
        return this.store(entry, entry.SequenceNumberForOrdering);
      }
      throw new Error(`FakeKinesis does not implement ${name}`);
    } finally {
      this.inFlight--;
    }
  }

  private store(entry: PutRecordsRequestEntry, sequenceNumberForOrdering: string | undefined): PutRecordsResultEntry {
    const hash = entry.ExplicitHashKey !== undefined ? BigInt(entry.ExplicitHashKey) : FakeKinesis.hashOf(entry.PartitionKey!);
    const shardId = this.shardOf(hash);
    this.sequence++;
    const sequenceNumber = String(this.sequence).padStart(20, '0');
    const record: StoredRecord = {
      data: Buffer.from(entry.Data!),
      partitionKey: entry.PartitionKey!,
      explicitHashKey: entry.ExplicitHashKey,
      shardId,
      sequenceNumber,
      ...(sequenceNumberForOrdering !== undefined ? { sequenceNumberForOrdering } : {}),
    };
    this.stored.push(record);
    return { SequenceNumber: sequenceNumber, ShardId: shardId };
  }
}
