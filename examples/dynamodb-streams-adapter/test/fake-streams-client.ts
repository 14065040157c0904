import { type _Record, type DynamoDBStreamsClient, type Shard } from '@aws-sdk/client-dynamodb-streams';

/* A scripted DynamoDB Streams API in memory, for unit tests of what moto cannot do: shards that close, children,
   a stream that gets disabled, paging of DescribeStream, throttles and expired iterators. */

interface FakeShard {
  readonly shardId: string;
  readonly parentShardId: string | undefined;
  readonly records: { readonly sequenceNumber: string; readonly payload: string }[];
  closed: boolean;
}

/** An error as the SDK raises it (only its name and status matter to the adapter). */
function sdkError(name: string, httpStatusCode: number): Error {
  const error = new Error(`${name} (fake)`);
  error.name = name;
  Object.assign(error, { $metadata: { httpStatusCode } });
  return error;
}

export class FakeStreams {
  readonly streamArn = 'arn:aws:dynamodb:us-east-1:123456789012:table/Fake/stream/2026-01-01T00:00:00.000';
  status: 'ENABLED' | 'DISABLED' = 'ENABLED';
  /** Shards per DescribeStream page (small, so that paging is exercised). */
  pageSize = 2;
  /** The next GetRecords calls fail with these errors, in turn. */
  readonly getRecordsFailures: Error[] = [];
  /** Calls made, by operation. */
  readonly calls = new Map<string, number>();
  private readonly shards = new Map<string, FakeShard>();
  private readonly iterators = new Map<string, { shardId: string; index: number }>();
  private sequence = 100_000_000_000_000_000_000n;
  private nextShard = 0;
  private nextIterator = 0;

  constructor(rootShards: number) {
    for (let i = 0; i < rootShards; i++) this.addShard(undefined);
  }

  get shardIds(): string[] {
    return [...this.shards.keys()];
  }

  /** The client the source is given: answers DescribeStream, GetShardIterator and GetRecords. */
  get client(): DynamoDBStreamsClient {
    const send = async (command: { constructor: { name: string }; input: Record<string, unknown> }): Promise<unknown> => {
      const name = command.constructor.name.replace(/Command$/, '');
      this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
      await Promise.resolve(); // answer asynchronously, as a client does
      return this.answer(name, command.input);
    };
    return { send } as unknown as DynamoDBStreamsClient;
  }

  put(shardId: string, payloads: readonly string[]): void {
    const shard = this.shard(shardId);
    if (shard.closed) throw new Error(`${shardId} is closed`);
    for (const payload of payloads) shard.records.push({ sequenceNumber: (this.sequence++).toString(), payload });
  }

  /** The sequence number of the shard's last record. */
  lastSequence(shardId: string): string | undefined {
    const records = this.shard(shardId).records;
    return records[records.length - 1]?.sequenceNumber;
  }

  /** Closes a shard and opens its child (as DynamoDB rolls a shard over); returns the child's id. */
  split(shardId: string): string {
    this.shard(shardId).closed = true;
    return this.addShard(shardId);
  }

  /** Disables the stream: every shard closes, no new shard appears. */
  disable(): void {
    this.status = 'DISABLED';
    for (const shard of this.shards.values()) shard.closed = true;
  }

  /** Removes a shard, as its records expiring does (it is no longer listed; reading it gives ResourceNotFoundException). */
  removeShard(shardId: string): void {
    this.shards.delete(shardId);
  }

  /** Makes every iterator handed out so far expire. */
  expireIterators(): void {
    this.iterators.clear();
  }

  private addShard(parentShardId: string | undefined): string {
    const shardId = `shardId-${String(this.nextShard++).padStart(6, '0')}`;
    this.shards.set(shardId, { shardId, parentShardId, records: [], closed: false });
    return shardId;
  }

  private shard(shardId: string): FakeShard {
    const shard = this.shards.get(shardId);
    if (shard === undefined) throw sdkError('ResourceNotFoundException', 400);
    return shard;
  }

  private answer(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'DescribeStream':
        return this.describe(input.ExclusiveStartShardId as string | undefined);
      case 'GetShardIterator':
        return { ShardIterator: this.iterator(input.ShardId as string, input.ShardIteratorType as string, input.SequenceNumber as string | undefined) };
      case 'GetRecords':
        return this.getRecords(input.ShardIterator as string, (input.Limit as number | undefined) ?? 1_000);
      default:
        throw sdkError('UnknownOperationException', 400);
    }
  }

  private describe(exclusiveStart: string | undefined): unknown {
    const all = [...this.shards.values()];
    const from = exclusiveStart === undefined ? 0 : all.findIndex((s) => s.shardId === exclusiveStart) + 1;
    const page = all.slice(from, from + this.pageSize);
    const shards: Shard[] = page.map((s) => ({
      ShardId: s.shardId,
      ...(s.parentShardId === undefined ? {} : { ParentShardId: s.parentShardId }),
      SequenceNumberRange: {
        StartingSequenceNumber: s.records[0]?.sequenceNumber ?? '1',
        ...(s.closed ? { EndingSequenceNumber: s.records[s.records.length - 1]?.sequenceNumber ?? '1' } : {}),
      },
    }));
    const more = from + this.pageSize < all.length;
    return { StreamDescription: { StreamArn: this.streamArn, StreamStatus: this.status, Shards: shards, ...(more ? { LastEvaluatedShardId: page[page.length - 1]?.shardId } : {}) } };
  }

  private iterator(shardId: string, type: string, sequenceNumber: string | undefined): string {
    const shard = this.shard(shardId);
    let index = 0;
    if (type === 'LATEST') index = shard.records.length;
    else if (type === 'AFTER_SEQUENCE_NUMBER') index = shard.records.findIndex((r) => r.sequenceNumber === sequenceNumber) + 1;
    const id = `iterator-${this.nextIterator++}`;
    this.iterators.set(id, { shardId, index });
    return id;
  }

  private getRecords(iteratorId: string, limit: number): unknown {
    const failure = this.getRecordsFailures.shift();
    if (failure !== undefined) throw failure;
    const iterator = this.iterators.get(iteratorId);
    if (iterator === undefined) throw sdkError('ExpiredIteratorException', 400);
    const shard = this.shard(iterator.shardId);
    const page = shard.records.slice(iterator.index, iterator.index + limit);
    const index = iterator.index + page.length;
    const records: _Record[] = page.map((r, i) => ({
      eventID: `event-${iterator.index + i}`,
      eventName: 'INSERT',
      dynamodb: { SequenceNumber: r.sequenceNumber, Keys: { id: { S: r.sequenceNumber } }, NewImage: { payload: { S: r.payload } }, StreamViewType: 'NEW_IMAGE' },
    }));
    // A closed shard says so on the page that holds its last records (the harder case for a reader).
    if (shard.closed && index >= shard.records.length) return { Records: records };
    const next = `iterator-${this.nextIterator++}`;
    this.iterators.set(next, { shardId: shard.shardId, index });
    return { Records: records, NextShardIterator: next };
  }
}

/** The kit's payload: the `payload` attribute of the new image. */
export const payloadOf = (change: { readonly newImage?: { readonly [name: string]: unknown } }): string => {
  const payload = change.newImage?.payload;
  return typeof payload === 'string' ? payload : '';
};

/** `throttled()` as DynamoDB Streams raises it. */
export const throttled = (): Error => sdkError('LimitExceededException', 400);
