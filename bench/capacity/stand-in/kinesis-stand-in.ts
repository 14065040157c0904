import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { SubscribeEventBuilder } from './event-frames';
import { FanOutStandIn, type FanOutStats } from './fan-out-stand-in';
import { PageBuilder, positionOf, sequenceNumber } from './page-builder';
import { StandInFault } from './stand-in-fault';

/** Settings of a {@link KinesisStandIn}. */
export interface StandInOptions {
  /** The one stream it serves. */
  readonly streamName: string;
  readonly shardCount: number;
  /** Bytes of each user record. Default 1024. */
  readonly recordBytes?: number;
  /** User records per Kinesis record: more than 1 makes each record a KPL aggregate of that many. Default 1. */
  readonly userRecordsPerRecord?: number;
  /**
   * Bytes of record data arriving per second on each shard; 0 = no arrival rate: `recordsPerShard` records are all
   * there from the start. Default 2,048,000 (2,000 records of 1 KiB per second: a shard read at its 2 MB/s limit).
   */
  readonly bytesPerSecondPerShard?: number;
  /** Records already in each shard when the stand-in starts (rate mode), or all its records (no rate). Default 0 with a rate, 100,000 without. */
  readonly recordsPerShard?: number;
  /** GetRecords calls allowed per shard and second; more are answered ProvisionedThroughputExceededException. 0 = no limit. Default 5. */
  readonly getRecordsPerSecondPerShard?: number;
  /** Enhanced fan-out: least time between two events of a subscription. Default 200. */
  readonly eventIntervalMs?: number;
  /** Enhanced fan-out: a subscription ends normally this long after it started. Default 300,000 (5 minutes, as on Kinesis). */
  readonly subscriptionMs?: number;
  /** Enhanced fan-out: record data bytes a subscription may push per second (Kinesis: 2 MiB per shard and consumer). 0 = no cap. Default 2,097,152. */
  readonly fanOutBytesPerSecondPerShard?: number;
  /** Enhanced fan-out: least time between two SubscribeToShard calls of a (consumer, shard), else LimitExceededException. Default 1,000 (0 = none). */
  readonly minSubscribeIntervalMs?: number;
  /** Loopback port; 0 = any free one. */
  readonly port?: number;
  /** Told of requests it does not serve (an operation the adapter calls that the stand-in lacks). */
  readonly onUnknown?: (operation: string) => void;
}

/** Counters of a stand-in, for the benchmark and the smoke test. */
export interface StandInStats {
  /** Records arrived so far, summed over shards (Kinesis records; user records are this × userRecordsPerRecord). */
  readonly produced: number;
  /** The furthest position handed out as NextShardIterator, summed over shards (records served). */
  readonly served: number;
  readonly getRecordsCalls: number;
  readonly throttled: number;
  readonly bodyBytes: number;
  /** Shards that were asked for records (GetRecords) or sent an event (SubscribeToShard) at least once. */
  readonly shardsRead: number;
  /** Enhanced fan-out: SubscribeToShard calls streamed, events written and their bytes. */
  readonly fanOut: FanOutStats;
  /** Per operation, number of calls. */
  readonly operations: Readonly<Record<string, number>>;
}

interface ShardState {
  readonly index: number;
  readonly id: string;
  served: number;
  getRecordsCalls: number;
  /** SubscribeToShard events written for this shard. */
  events: number;
  /** Start times of the last calls (a ring of `getRecordsPerSecondPerShard`), for the call-rate limit. */
  readonly calls: number[];
  nextCall: number;
}

const MAX_RECORDS_PER_CALL = 10_000;
const MAX_BYTES_PER_CALL = 10 * 1024 * 1024;
const MAX_HASH_KEY = 2n ** 128n - 1n;

/**
 * A Kinesis stand-in for capacity benchmarks: an HTTP/1.1 server on loopback that speaks the Kinesis JSON protocol
 * for what the polling adapter calls (DescribeStreamSummary, ListShards, GetShardIterator, GetRecords), with records
 * arriving at a fixed rate per shard and GetRecords answered from pre-built bodies ({@link PageBuilder}).
 *
 * It is a benchmark tool, not a correctness double: one stream, no writes, no resharding, no retention, iterators that
 * never expire, no read-bytes limit (only the calls-per-second limit), no signature checks.
 */
export class KinesisStandIn {
  private server: Server | undefined;
  private readonly shards: ShardState[];
  private readonly pages: PageBuilder;
  private readonly recordsPerSecond: number;
  private readonly initialRecords: number;
  private readonly callsPerSecond: number;
  private readonly maxRecordsPerCall: number;
  private startedAt = Date.now();
  private getRecordsCalls = 0;
  private throttled = 0;
  private bodyBytes = 0;
  private readonly operations: Record<string, number> = {};
  private readonly fanOut: FanOutStandIn;

  constructor(private readonly options: StandInOptions) {
    const recordBytes = options.recordBytes ?? 1024;
    const perRecord = options.userRecordsPerRecord ?? 1;
    const bytesPerSecond = options.bytesPerSecondPerShard ?? 2_048_000;
    this.recordsPerSecond = bytesPerSecond / (recordBytes * perRecord);
    this.initialRecords = options.recordsPerShard ?? (bytesPerSecond > 0 ? 0 : 100_000);
    this.callsPerSecond = options.getRecordsPerSecondPerShard ?? 5;
    const dataBytes = new PageBuilder({ recordBytes, userRecordsPerRecord: perRecord }, 1).dataBytes;
    this.maxRecordsPerCall = Math.max(1, Math.min(MAX_RECORDS_PER_CALL, Math.floor(MAX_BYTES_PER_CALL / dataBytes)));
    this.pages = new PageBuilder({ recordBytes, userRecordsPerRecord: perRecord }, this.maxRecordsPerCall);
    this.shards = Array.from({ length: options.shardCount }, (_, index) => ({
      index,
      id: `shardId-${String(index).padStart(12, '0')}`,
      served: 0,
      getRecordsCalls: 0,
      events: 0,
      calls: new Array<number>(Math.max(1, this.callsPerSecond)).fill(-Infinity),
      nextCall: 0,
    }));
    const fanOutBytesPerSecond = options.fanOutBytesPerSecondPerShard ?? 2 * 1024 * 1024;
    const maxRecordsPerEvent = Math.min(this.maxRecordsPerCall, fanOutBytesPerSecond > 0 ? Math.max(1, Math.floor(fanOutBytesPerSecond / dataBytes)) : MAX_RECORDS_PER_CALL);
    this.fanOut = new FanOutStandIn(
      {
        streamName: options.streamName,
        streamArn: this.arn(),
        recordsPerSecond: Number.isFinite(this.recordsPerSecond) ? Math.max(0, this.recordsPerSecond) : 0,
        shardIndex: (id) => this.shard(id).index,
        startPosition: (index, type, sequence, timestamp) => this.startPosition(this.shards[index] as ShardState, type, sequence, timestamp),
        available: (now) => this.available(now),
        arrivalMs: (position) => this.arrivalMs(position),
        served: (index, next) => {
          const shard = this.shards[index] as ShardState;
          shard.events++;
          if (next > shard.served) shard.served = next;
        },
      },
      new SubscribeEventBuilder(this.pages, maxRecordsPerEvent),
      {
        eventIntervalMs: options.eventIntervalMs ?? 200,
        subscriptionMs: options.subscriptionMs ?? 300_000,
        readBytesPerSecond: fanOutBytesPerSecond,
        dataBytes,
        minSubscribeIntervalMs: options.minSubscribeIntervalMs ?? 1_000,
      },
    );
  }

  /** `http://127.0.0.1:PORT` once started. */
  get endpoint(): string {
    const address = this.server?.address() as AddressInfo | null | undefined;
    if (address === undefined || address === null) throw new Error('the stand-in is not started');
    return `http://127.0.0.1:${address.port}`;
  }

  /** Starts listening on loopback; records start arriving now. */
  async start(): Promise<string> {
    const server = createServer({ keepAliveTimeout: 60_000 }, (request, response) => this.handle(request, response));
    server.maxHeadersCount = 100;
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.options.port ?? 0, '127.0.0.1', () => resolve());
    });
    this.startedAt = Date.now();
    return this.endpoint;
  }

  /** Closes the server and its connections. */
  async stop(): Promise<void> {
    const server = this.server;
    if (server === undefined) return;
    this.server = undefined;
    this.fanOut.closeAll();
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Records arrived in one shard by now. */
  available(now = Date.now()): number {
    if (this.recordsPerSecond <= 0 || !Number.isFinite(this.recordsPerSecond)) return this.initialRecords;
    return this.initialRecords + Math.floor(((now - this.startedAt) * this.recordsPerSecond) / 1000);
  }

  stats(now = Date.now()): StandInStats {
    let served = 0;
    let shardsRead = 0;
    for (const shard of this.shards) {
      served += shard.served;
      if (shard.getRecordsCalls > 0 || shard.events > 0) shardsRead++;
    }
    return {
      produced: this.available(now) * this.shards.length,
      served,
      getRecordsCalls: this.getRecordsCalls,
      throttled: this.throttled,
      bodyBytes: this.bodyBytes + this.fanOut.stats().eventBytes,
      shardsRead,
      fanOut: this.fanOut.stats(),
      operations: { ...this.operations },
    };
  }

  private handle(request: IncomingMessage, response: ServerResponse): void {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const target = String(request.headers['x-amz-target'] ?? '');
      const operation = target.startsWith('Kinesis_20131202.') ? target.slice('Kinesis_20131202.'.length) : target;
      this.operations[operation] = (this.operations[operation] ?? 0) + 1;
      try {
        const input = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>;
        if (operation === 'SubscribeToShard') return this.fanOut.subscribe(input, response);
        const body = this.answer(operation, input);
        this.send(response, 200, body);
        if (operation === 'GetRecords') response.once('finish', () => this.pages.release(body));
      } catch (error) {
        if (error instanceof StandInFault) {
          this.send(response, 400, Buffer.from(JSON.stringify({ __type: error.type, message: error.message })));
        } else {
          this.send(response, 500, Buffer.from(JSON.stringify({ __type: 'InternalFailure', message: (error as Error).message })));
        }
      }
    });
  }

  private send(response: ServerResponse, status: number, body: Buffer): void {
    this.bodyBytes += body.length;
    response.writeHead(status, { 'content-type': 'application/x-amz-json-1.1', 'content-length': body.length, 'x-amzn-requestid': 'stand-in' });
    response.end(body);
  }

  private answer(operation: string, input: Record<string, unknown>): Buffer {
    switch (operation) {
      case 'GetRecords':
        return this.getRecords(input);
      case 'GetShardIterator':
        return json({ ShardIterator: this.getShardIterator(input) });
      case 'ListShards':
        return json(this.listShards(input));
      case 'DescribeStreamSummary':
        this.checkStream(input);
        return json({
          StreamDescriptionSummary: {
            StreamName: this.options.streamName,
            StreamARN: this.arn(),
            StreamStatus: 'ACTIVE',
            StreamModeDetails: { StreamMode: 'PROVISIONED' },
            RetentionPeriodHours: 24,
            StreamCreationTimestamp: Math.floor(this.startedAt / 1000),
            EnhancedMonitoring: [{ ShardLevelMetrics: [] }],
            EncryptionType: 'NONE',
            OpenShardCount: this.shards.length,
            ConsumerCount: this.fanOut.stats().subscriptions > 0 ? 1 : 0,
          },
        });
      default: {
        const answer = this.fanOut.answer(operation, input);
        if (answer !== undefined) return json(answer);
        this.options.onUnknown?.(operation);
        throw new StandInFault('UnknownOperationException', `the capacity stand-in does not serve ${operation}`);
      }
    }
  }

  private arn(): string {
    return `arn:aws:kinesis:us-east-1:000000000000:stream/${this.options.streamName}`;
  }

  private checkStream(input: Record<string, unknown>): void {
    if (input.StreamName !== this.options.streamName && input.StreamARN !== this.arn()) {
      throw new StandInFault('ResourceNotFoundException', `Stream ${String(input.StreamName ?? input.StreamARN)} under account 000000000000 not found.`);
    }
  }

  private shard(id: unknown): ShardState {
    const match = typeof id === 'string' ? /^shardId-(\d{12})$/.exec(id) : null;
    const shard = match === null ? undefined : this.shards[Number(match[1])];
    if (shard === undefined) throw new StandInFault('ResourceNotFoundException', `Shard ${String(id)} in stream ${this.options.streamName} not found.`);
    return shard;
  }

  private listShards(input: Record<string, unknown>): unknown {
    let from = 0;
    if (typeof input.NextToken === 'string') {
      from = Number(input.NextToken.replace('stand-in-', ''));
      if (!Number.isInteger(from)) throw new StandInFault('InvalidArgumentException', 'bad NextToken');
    } else this.checkStream(input);
    const max = Math.min(10_000, typeof input.MaxResults === 'number' ? input.MaxResults : 1_000);
    const page = this.shards.slice(from, from + max);
    const width = (MAX_HASH_KEY + 1n) / BigInt(this.shards.length);
    return {
      Shards: page.map((shard) => ({
        ShardId: shard.id,
        HashKeyRange: {
          StartingHashKey: String(width * BigInt(shard.index)),
          EndingHashKey: String(shard.index === this.shards.length - 1 ? MAX_HASH_KEY : width * BigInt(shard.index + 1) - 1n),
        },
        SequenceNumberRange: { StartingSequenceNumber: sequenceNumber(shard.index, 0) },
      })),
      ...(from + max < this.shards.length ? { NextToken: `stand-in-${from + max}` } : {}),
    };
  }

  private getShardIterator(input: Record<string, unknown>): string {
    this.checkStream(input);
    const shard = this.shard(input.ShardId);
    return `stand-in/${shard.index}/${this.startPosition(shard, input.ShardIteratorType, input.StartingSequenceNumber, input.Timestamp)}`;
  }

  /** The position an iterator type (or StartingPosition.Type) names on `shard`. */
  private startPosition(shard: ShardState, type: unknown, startingSequenceNumber: unknown, timestamp: unknown): number {
    const now = Date.now();
    switch (type) {
      case 'TRIM_HORIZON':
        return 0;
      case 'LATEST':
        return this.available(now);
      case 'AT_SEQUENCE_NUMBER':
      case 'AFTER_SEQUENCE_NUMBER': {
        const at = positionOf(String(startingSequenceNumber));
        if (at === undefined || at.shardIndex !== shard.index) throw new StandInFault('InvalidArgumentException', `bad StartingSequenceNumber for ${shard.id}`);
        return at.position + (type === 'AFTER_SEQUENCE_NUMBER' ? 1 : 0);
      }
      case 'AT_TIMESTAMP': {
        const seconds = Number(timestamp);
        return Math.max(0, Math.min(this.available(now), Math.ceil(((seconds * 1000 - this.startedAt) * this.recordsPerSecond) / 1000) + this.initialRecords));
      }
      default:
        throw new StandInFault('InvalidArgumentException', `ShardIteratorType ${String(type)} is not supported`);
    }
  }

  private getRecords(input: Record<string, unknown>): Buffer {
    const match = typeof input.ShardIterator === 'string' ? /^stand-in\/(\d+)\/(\d+)$/.exec(input.ShardIterator) : null;
    const shard = match === null ? undefined : this.shards[Number(match[1])];
    if (match === null || shard === undefined) throw new StandInFault('InvalidArgumentException', 'bad ShardIterator');
    const position = Number(match[2]);
    const now = Date.now();
    this.getRecordsCalls++;
    shard.getRecordsCalls++;
    if (this.callsPerSecond > 0) {
      if (now - (shard.calls[shard.nextCall] ?? -Infinity) < 1000) {
        this.throttled++;
        throw new StandInFault('ProvisionedThroughputExceededException', `Rate exceeded for shard ${shard.id} in stream ${this.options.streamName} under account 000000000000.`);
      }
      shard.calls[shard.nextCall] = now;
      shard.nextCall = (shard.nextCall + 1) % shard.calls.length;
    }
    const limit = typeof input.Limit === 'number' ? Math.max(1, Math.min(input.Limit, this.maxRecordsPerCall)) : this.maxRecordsPerCall;
    const available = this.available(now);
    const count = Math.max(0, Math.min(limit, available - position));
    const next = position + count;
    if (next > shard.served) shard.served = next;
    const behindMs = this.recordsPerSecond > 0 ? ((available - next) * 1000) / this.recordsPerSecond : available - next;
    return this.pages.page(shard.index, position, count, (p) => this.arrivalMs(p), `stand-in/${shard.index}/${next}`, behindMs);
  }

  /** When record `position` arrived (at the arrival rate, the records there at start before the start). */
  private arrivalMs(position: number): number {
    if (this.recordsPerSecond <= 0) return this.startedAt;
    return this.startedAt + ((position - this.initialRecords) * 1000) / this.recordsPerSecond;
  }
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value), 'utf8');
}
