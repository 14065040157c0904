import {
  PutRecordCommand,
  type KinesisClient,
  type PutRecordsRequestEntry,
  type PutRecordsResultEntry,
} from '@aws-sdk/client-kinesis';
import { inject, injectable } from 'tsyringe';
import { ProducerError } from '../core/errors';
import { backoffWithJitter, sleep } from '../core/sleep';
import { KplAggregator } from '../kpl/aggregator';
import { isValidExplicitHashKey, utf8Length } from '../kpl/kpl-format';
import { hashKeyToHex } from './hash-key';
import {
  KINESIS_CLIENT,
  KINESIS_PRODUCER_OPTIONS,
  RECORD_MAX_BYTES,
  normalizeProducerOptions,
  type KinesisProducerOptions,
  type NormalizedProducerOptions,
} from './producer-options';
import { createPutRecordsCommand, type StreamParams } from './put-records-body';
import { loadShardMap, type ShardMap, type ShardRange } from './shard-map';

/** What `put` accepts: bytes as they are, a string as UTF-8, anything else as JSON. */
export type ProducerData = Buffer | Uint8Array | string | object;

/** Per-record options of {@link KinesisProducer.put}. */
export interface PutOptions {
  /** Decimal hash key (0 to 2^128 - 1) that chooses the shard instead of MD5(partition key). */
  readonly explicitHashKey?: string;
}

/** What a `put` resolves with once Kinesis durably accepted the record. */
export interface PutResult {
  /** The sequence number of the Kinesis record (of the aggregate, for an aggregated record). */
  readonly sequenceNumber: string;
  /** The shard the record landed on. */
  readonly shardId: string;
  /** Position inside the aggregate (aggregated mode only). */
  readonly subSequenceNumber?: number;
  /** Attempts it took (1 = accepted the first time). */
  readonly attempts: number;
}

/** One record of {@link KinesisProducer.putMany}. */
export interface ProducerRecord {
  /** A Buffer/Uint8Array (sent as is), a string (UTF-8) or any other value (JSON). */
  readonly data: ProducerData;
  /** 1 to 256 characters; chooses the shard (MD5) unless `explicitHashKey` is set. */
  readonly partitionKey: string;
  /** Decimal hash key (0 to 2^128 - 1) that chooses the shard instead of MD5(partition key). */
  readonly explicitHashKey?: string;
}

/**
 * What {@link KinesisProducer.putMany} resolves with once every record of the call is delivered or finally failed.
 * The arrays are indexed like the input (slot `i` is `records[i]`); a slot has either a sequence number and a shard
 * id, or an error.
 */
export interface PutManyResult {
  /** Records Kinesis accepted. */
  readonly deliveredCount: number;
  /** Records that were not delivered (their slot in {@link PutManyResult.errors} says why). */
  readonly failedCount: number;
  /** Sequence number of each delivered record (of the aggregate, when aggregated); undefined for a failed one. */
  readonly sequenceNumbers: readonly (string | undefined)[];
  /** Shard each delivered record landed on; undefined for a failed one. */
  readonly shardIds: readonly (string | undefined)[];
  /** Position inside the aggregate (aggregated mode only); undefined otherwise. */
  readonly subSequenceNumbers: readonly (number | undefined)[];
  /** Why each failed record was not delivered (invalid record, last failed attempt, closed); undefined for a delivered one. */
  readonly errors: readonly (ProducerError | undefined)[];
}

/** Counters of a producer since it was created. */
export interface ProducerStats {
  /** Records accepted by `put` and not settled yet. */
  readonly queuedRecords: number;
  /** Their bytes (data + partition keys). */
  readonly queuedBytes: number;
  /** PutRecords/PutRecord calls in flight. */
  readonly inFlightCalls: number;
  /** Records Kinesis accepted. */
  readonly deliveredRecords: number;
  /** Their bytes (user data + partition keys, before aggregation). */
  readonly deliveredBytes: number;
  /** Records whose `put` rejected. */
  readonly failedRecords: number;
  /** Record attempts that failed and were tried again. */
  readonly retriedRecords: number;
  /** Aggregated records sent again because their aggregate landed on another shard than predicted (resharding). */
  readonly reroutedRecords: number;
  /** Kinesis calls made. */
  readonly calls: number;
  /** Kinesis records accepted: one per user record, or one per aggregate (deliveredRecords / kinesisRecords = user records per Kinesis record). */
  readonly kinesisRecords: number;
}

/** A `put`'s resolving function: a result delivers it, a rejected promise fails it. */
type Resolve = (result: PutResult | PromiseLike<PutResult>) => void;

function ignoreResult(): void {
  // Aggregates settle through their members; putMany records through their call.
}

/**
 * The shared accumulator of one `putMany` call: its records point at it (with their index) instead of holding a
 * promise each, and it resolves the call's one promise when the last record settles.
 */
class PutManyCall implements PutManyResult {
  deliveredCount = 0;
  failedCount = 0;
  readonly sequenceNumbers: (string | undefined)[];
  readonly shardIds: (string | undefined)[];
  readonly subSequenceNumbers: (number | undefined)[];
  readonly errors: (ProducerError | undefined)[];
  private remaining: number;

  constructor(
    count: number,
    private readonly resolve: (result: PutManyResult) => void,
  ) {
    this.remaining = count;
    this.sequenceNumbers = new Array<string | undefined>(count).fill(undefined);
    this.shardIds = new Array<string | undefined>(count).fill(undefined);
    this.subSequenceNumbers = new Array<number | undefined>(count).fill(undefined);
    this.errors = new Array<ProducerError | undefined>(count).fill(undefined);
    if (count === 0) this.finish();
  }

  succeeded(index: number, sequenceNumber: string, shardId: string, subSequenceNumber: number | undefined): void {
    this.sequenceNumbers[index] = sequenceNumber;
    this.shardIds[index] = shardId;
    if (subSequenceNumber !== undefined) this.subSequenceNumbers[index] = subSequenceNumber;
    this.deliveredCount++;
    if (--this.remaining === 0) this.finish();
  }

  failed(index: number, error: ProducerError): void {
    this.errors[index] = error;
    this.failedCount++;
    if (--this.remaining === 0) this.finish();
  }

  private finish(): void {
    this.resolve({
      deliveredCount: this.deliveredCount,
      failedCount: this.failedCount,
      sequenceNumbers: this.sequenceNumbers,
      shardIds: this.shardIds,
      subSequenceNumbers: this.subSequenceNumbers,
      errors: this.errors,
    });
  }
}

/**
 * One Kinesis record to send: a user record (one object per `put`, which is also its PutRecords entry through the
 * getters, so that nothing is copied per attempt) or an aggregate of several user records.
 */
class Entry implements PutRecordsRequestEntry {
  attempts = 0;
  lastErrorCode: string | undefined = undefined;
  settled = false;

  constructor(
    readonly data: Buffer,
    readonly partitionKey: string,
    readonly explicitHashKey: string | undefined,
    /** Data + partition key bytes. */
    readonly bytes: number,
    /** Settles a `put`: called with its result, or with a rejected promise (no reject function is kept per record). */
    readonly resolve: Resolve,
    /** Aggregated mode: the user records inside, in order (undefined for a user record). */
    readonly members: Entry[] | undefined,
    /** Aggregated mode: the shard the aggregate was packed for. */
    readonly shardId: string | undefined,
    /** The `putMany` call the record belongs to (undefined for a `put`, which settles through resolve). */
    readonly call: PutManyCall | undefined,
    /** Index of the record in its `putMany` call. */
    readonly index: number,
  ) {}

  get Data(): Uint8Array {
    return this.data;
  }

  get PartitionKey(): string {
    return this.partitionKey;
  }

  get ExplicitHashKey(): string | undefined {
    return this.explicitHashKey;
  }
}

let capturedManyResolve: (result: PutManyResult) => void = ignoreResult;
function captureMany(resolve: (result: PutManyResult) => void): void {
  capturedManyResolve = resolve;
}

// `new Promise(capture)` hands the resolve function over without a closure per `put`. Only resolve is kept: a failed
// `put` is resolved with a rejected promise, so a record in the queue holds one function, not two.
let capturedResolve: Resolve = ignoreResult;
function capture(resolve: Resolve): void {
  capturedResolve = resolve;
}

/** The open aggregate of one predicted shard. */
interface AggregationSlot {
  shard: ShardRange;
  readonly aggregator: KplAggregator;
  members: Entry[];
}

interface Waiter {
  readonly bytes: number;
  /** Whether the waiter is a `put` whose record is counted in when released (not a bare `ready()`). */
  readonly reserve: boolean;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

/** Call-level errors that trying again cannot fix. */
const FATAL_CALL_ERRORS = new Set([
  'ResourceNotFoundException',
  'ValidationException',
  'InvalidArgumentException',
  'AccessDeniedException',
  'UnrecognizedClientException',
  'InvalidSignatureException',
  'IncompleteSignatureException',
  'MissingAuthenticationTokenException',
  'KMSDisabledException',
  'KMSInvalidStateException',
  'KMSAccessDeniedException',
  'KMSNotFoundException',
  'KMSOptInRequired',
  'AbortError',
]);

/**
 * A Kinesis producer that keeps a stream at its limits without losing records.
 *
 * - `put` resolves with the sequence number and shard once Kinesis accepted the record, or rejects with a
 *   {@link ProducerError} after `maxAttempts`; it never drops a record silently.
 * - Records are batched into PutRecords calls (≤ 500 records, ≤ 5 MiB) after at most `lingerMs`, with up to
 *   `maxInFlightCalls` calls at once; only the failed entries of a call are tried again, with capped exponential
 *   backoff and full jitter.
 * - A bounded queue gives backpressure: when `maxQueuedRecords`/`maxQueuedBytes` are reached, `put` waits.
 * - `flush()` sends everything now and waits for it; `close()` (also `dispose()`, called by tsyringe) flushes,
 *   then rejects what is still pending after `closeTimeoutMs`.
 * - `ordering: 'per-key' | 'strict'` keeps one record per partition key in flight; `aggregate: true` packs
 *   records into KPL aggregates per predicted shard with that shard's ExplicitHashKey.
 *
 * @example
 * ```ts
 * const producer = new KinesisProducer(createKinesisClient({ region: 'eu-west-1' }), { streamName: 'flights' });
 * const { sequenceNumber, shardId } = await producer.put({ dest: 'LAX' }, 'LAX');
 * await producer.close();
 * ```
 */
@injectable()
export class KinesisProducer {
  private readonly options: NormalizedProducerOptions;
  private readonly stream: { readonly streamName?: string; readonly streamArn?: string };
  /** The stream as the SDK's commands name it. */
  private readonly streamParams: StreamParams;

  private pending: Entry[] = [];
  private pendingHead = 0;
  private pendingBytes = 0;
  private retryQueue: Entry[] = [];
  private inFlight = 0;
  private lingerTimer: NodeJS.Timeout | undefined;
  private lingerDue = false;
  private flushing = 0;
  private closed = false;
  private closePromise: Promise<void> | undefined;
  private readonly abort = new AbortController();

  private queuedRecords = 0;
  private queuedBytes = 0;
  private readonly waiters: Waiter[] = [];
  private readonly idleWaiters: (() => void)[] = [];
  private readonly sleeping = new Set<Entry[]>();

  private readonly keyLocks = new Map<string, Entry>();
  private readonly lastSequenceByKey = new Map<string, string>();

  private shardMap: ShardMap | undefined;
  private shardMapLoading: Promise<void> | undefined;
  private shardMapLoadedAt = 0;
  private readonly slots = new Map<string, AggregationSlot>();
  private unrouted: Entry[] = [];
  /** How many times each record was routed again after its aggregate landed on an unexpected shard. */
  private readonly reroutes = new WeakMap<Entry, number>();
  private emitScheduled = false;

  private delivered = 0;
  private deliveredBytesTotal = 0;
  private failed = 0;
  private retried = 0;
  private rerouted = 0;
  private calls = 0;
  private kinesisRecordsDelivered = 0;

  /**
   * @param client - the Kinesis client (give it an HTTP/1.1 NodeHttpHandler; `createKinesisClient` does)
   * @param options - stream and limits, see {@link KinesisProducerOptions}
   * @throws ConfigurationError if an option is out of range
   */
  constructor(@inject(KINESIS_CLIENT) private readonly client: KinesisClient, @inject(KINESIS_PRODUCER_OPTIONS) options: KinesisProducerOptions) {
    this.options = normalizeProducerOptions(options);
    this.stream = this.options.streamArn !== undefined && this.options.streamName === undefined ? { streamArn: this.options.streamArn } : { streamName: this.options.streamName! };
    this.streamParams = this.stream.streamName !== undefined ? { StreamName: this.stream.streamName } : { StreamARN: this.stream.streamArn! };
  }

  /** The stream this producer writes to (name, or ARN if no name was given). */
  get streamName(): string {
    return this.stream.streamName ?? this.stream.streamArn ?? '';
  }

  /** Counters since the producer was created. */
  stats(): ProducerStats {
    return {
      queuedRecords: this.queuedRecords,
      queuedBytes: this.queuedBytes,
      inFlightCalls: this.inFlight,
      deliveredRecords: this.delivered,
      deliveredBytes: this.deliveredBytesTotal,
      failedRecords: this.failed,
      retriedRecords: this.retried,
      reroutedRecords: this.rerouted,
      calls: this.calls,
      kinesisRecords: this.kinesisRecordsDelivered,
    };
  }

  /**
   * Queues one record. Resolves once Kinesis durably accepted it; waits first while the queue is full.
   *
   * @param data - a Buffer/Uint8Array (sent as is), a string (UTF-8) or any other value (JSON)
   * @param partitionKey - 1 to 256 characters; chooses the shard (MD5) unless `options.explicitHashKey` is set
   * @param options - per-record options
   * @returns the sequence number and shard id
   * @throws ProducerError (as a rejection) for an invalid record, after the last failed attempt, or after close
   */
  put(data: ProducerData, partitionKey: string, options?: PutOptions): Promise<PutResult> {
    if (this.closed) {
      return Promise.reject(new ProducerError(`the producer for stream ${this.streamName} is closed: create a new KinesisProducer to send more records`));
    }
    const explicitHashKey = options?.explicitHashKey;
    let buffer: Buffer;
    let bytes: number;
    try {
      buffer = toBuffer(data);
      bytes = validateRecord(buffer, partitionKey, explicitHashKey);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new ProducerError(String(error)));
    }
    if (this.waiters.length === 0 && this.hasRoom(bytes)) {
      this.queuedRecords++;
      this.queuedBytes += bytes;
      return this.accept(buffer, partitionKey, explicitHashKey, bytes);
    }
    // Full: wait for room (FIFO). settle() counts the record in when it releases the waiter. Meanwhile, whatever is
    // ready goes out now rather than after the linger.
    const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ bytes, reserve: true, resolve, reject }));
    this.pump();
    return waiting.then(() => this.accept(buffer, partitionKey, explicitHashKey, bytes));
  }

  /**
   * Queues many records with one promise for all of them (no promise or closure per record): the bulk form of
   * {@link KinesisProducer.put} for high-volume callers. The same guarantees apply to every record: batching, retry of
   * only the failed entries, ordering (records are queued in input order, so `ordering: 'per-key' | 'strict'` holds
   * as for successive `put`s), and backpressure: the records are queued one after the other while there is room,
   * then the call waits for room (FIFO with other waiting `put`s) and goes on, so a call larger than the queue
   * completes without holding more than `maxQueuedRecords`/`maxQueuedBytes` records in the producer. `flush()` and
   * `close()` cover the records of a call made before them, the ones still waiting for room included.
   *
   * Never rejects once the call is accepted: an invalid record, a record whose last attempt failed, and a record
   * still pending when `close()` timed out each get a {@link ProducerError} in their slot of `errors`.
   *
   * @param records - the records; keep the array unchanged until the call resolves
   * @returns per-record results in input order, once every record is delivered or finally failed
   * @throws ProducerError (as a rejection) if the producer is closed
   *
   * @example
   * ```ts
   * const result = await producer.putMany(lines.map((line) => ({ data: line, partitionKey: keyOf(line) })));
   * if (result.failedCount > 0) result.errors.forEach((error, i) => error && retryLater(lines[i], error));
   * ```
   */
  putMany(records: readonly ProducerRecord[]): Promise<PutManyResult> {
    if (this.closed) {
      return Promise.reject(new ProducerError(`the producer for stream ${this.streamName} is closed: create a new KinesisProducer to send more records`));
    }
    const promise = new Promise<PutManyResult>(captureMany);
    const call = new PutManyCall(records.length, capturedManyResolve);
    if (records.length > 0) void this.admit(call, records);
    return promise;
  }

  /** Queues the records of a putMany call, waiting for room whenever the queue is full. */
  private async admit(call: PutManyCall, records: readonly ProducerRecord[]): Promise<void> {
    for (let i = 0; i < records.length; i++) {
      const record = records[i]!;
      let buffer: Buffer;
      let bytes: number;
      try {
        buffer = toBuffer(record.data);
        bytes = validateRecord(buffer, record.partitionKey, record.explicitHashKey);
      } catch (error) {
        call.failed(i, error instanceof ProducerError ? error : new ProducerError(`record ${i} could not be sent: ${errorMessage(error)}`, { cause: error }));
        continue;
      }
      if (this.waiters.length === 0 && this.hasRoom(bytes)) {
        this.queuedRecords++;
        this.queuedBytes += bytes;
      } else {
        // Full: wait (FIFO) until settle() counts this record in; meanwhile what is ready goes out now.
        const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ bytes, reserve: true, resolve, reject }));
        this.pump();
        try {
          await waiting;
        } catch (error) {
          // close() timed out: this record and the following ones were never queued.
          const failure = error instanceof ProducerError ? error : new ProducerError(errorMessage(error), { cause: error });
          for (let j = i; j < records.length; j++) call.failed(j, failure);
          return;
        }
      }
      const entry = new Entry(buffer, record.partitionKey, record.explicitHashKey, bytes, ignoreResult, undefined, undefined, call, i);
      if (this.options.aggregate) this.route(entry);
      else this.enqueue(entry);
    }
  }

  /** Whether a `put` now would have to wait for room in the queue. */
  get isFull(): boolean {
    return this.waiters.length > 0 || !this.hasRoom(0);
  }

  /**
   * Resolves when the queue has room for another record: await it before each `put` when feeding the producer
   * from a large source without awaiting each delivery, so that memory stays bounded.
   */
  ready(): Promise<void> {
    if (!this.isFull) return Promise.resolve();
    const waiting = new Promise<void>((resolve, reject) => this.waiters.push({ bytes: 0, reserve: false, resolve, reject }));
    this.pump();
    return waiting;
  }

  /**
   * Sends every buffered record now (without waiting for the linger) and resolves when no record is pending,
   * i.e. each `put` and every record of each `putMany` made before (and during) the flush has settled.
   */
  async flush(): Promise<void> {
    this.flushing++;
    try {
      this.emitAllAggregates();
      this.pump();
      if (this.queuedRecords > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    } finally {
      this.flushing--;
    }
  }

  /**
   * Stops accepting records, sends what is pending and waits for it, for at most `closeTimeoutMs`; records still
   * pending then are rejected with a {@link ProducerError}. Safe to call twice.
   */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  /** tsyringe's disposal hook: `container.dispose()` closes the producer. */
  dispose(): Promise<void> {
    return this.close();
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => {
      timer = setTimeout(() => resolve(true), this.options.closeTimeoutMs);
    });
    const drained = this.flush().then(() => false);
    const expired = await Promise.race([drained, timedOut]);
    clearTimeout(timer);
    if (expired) {
      this.abort.abort();
      this.rejectEverything(
        new ProducerError(
          `record not delivered to stream ${this.streamName} within closeTimeoutMs (${this.options.closeTimeoutMs} ms) of close(): check the stream and the network, or raise closeTimeoutMs`,
        ),
      );
      await drained; // the aborted calls return at once and reject their records
    }
    if (this.lingerTimer !== undefined) clearTimeout(this.lingerTimer);
    this.lingerTimer = undefined;
  }

  private hasRoom(bytes: number): boolean {
    if (this.queuedRecords === 0) return true;
    return this.queuedRecords < this.options.maxQueuedRecords && this.queuedBytes + bytes <= this.options.maxQueuedBytes;
  }

  /** Queues a record already counted in queuedRecords/queuedBytes. */
  private accept(data: Buffer, partitionKey: string, explicitHashKey: string | undefined, bytes: number): Promise<PutResult> {
    const promise = new Promise<PutResult>(capture);
    const entry = new Entry(data, partitionKey, explicitHashKey, bytes, capturedResolve, undefined, undefined, undefined, 0);
    if (this.options.aggregate) this.route(entry);
    else this.enqueue(entry);
    return promise;
  }

  private enqueue(outbound: Entry): void {
    this.pending.push(outbound);
    this.pendingBytes += outbound.bytes;
    if (this.pending.length - this.pendingHead >= this.options.maxBatchRecords || this.pendingBytes >= this.options.maxBatchBytes || this.lingerDue || this.flushing > 0) {
      this.pump();
    } else if (this.lingerTimer === undefined) {
      this.startLinger();
    }
  }

  private startLinger(): void {
    this.lingerTimer = setTimeout(() => {
      this.lingerTimer = undefined;
      this.lingerDue = true;
      this.emitAllAggregates();
      this.pump();
    }, this.options.lingerMs);
  }

  /** Starts as many calls as allowed with what is ready. */
  private pump(): void {
    const maxInFlight = this.options.maxInFlightCalls;
    // Puts are waiting for room: lingering cannot fill a batch any further, so what is there goes out now.
    // Plain mode: only when no call is in flight (one that returns frees room and fills the batch, which beats a small
    // call). Aggregated mode: the queue holds few, large records, so they are shared out among the free calls.
    const pressed = (this.waiters.length > 0 || !this.hasRoom(0)) && (this.options.aggregate || this.inFlight === 0);
    if (pressed && this.inFlight < maxInFlight && this.pending.length === this.pendingHead && this.options.aggregate) this.emitAllAggregates();
    while (this.inFlight < maxInFlight) {
      const ready = this.retryQueue.length + this.pending.length - this.pendingHead;
      if (ready === 0) break;
      const fullBatch = ready >= this.options.maxBatchRecords || this.pendingBytes >= this.options.maxBatchBytes;
      if (!fullBatch && !pressed && !this.lingerDue && this.flushing === 0 && this.retryQueue.length === 0) break;
      // An under-full batch while puts wait is shared out among the free calls, so that they work in parallel.
      const limit = fullBatch || !pressed ? this.options.maxBatchRecords : Math.ceil(ready / (maxInFlight - this.inFlight));
      const batch = this.takeBatch(limit);
      if (batch.length === 0) break;
      this.inFlight++;
      void this.send(batch);
    }
    const left = this.retryQueue.length + this.pending.length - this.pendingHead;
    if (left === 0) this.lingerDue = false;
    if (left === 0 && this.lingerTimer !== undefined && !this.hasOpenAggregates()) {
      clearTimeout(this.lingerTimer);
      this.lingerTimer = undefined;
    }
    if (this.lingerTimer === undefined && ((left > 0 && !this.lingerDue) || this.hasOpenAggregates())) this.startLinger();
  }

  private takeBatch(maxRecords: number): Entry[] {
    const maxBytes = this.options.maxBatchBytes;
    const ordered = this.options.ordering !== 'none';
    const batch: Entry[] = [];
    let bytes = 0;
    if (this.retryQueue.length > 0) {
      const keep: Entry[] = [];
      for (const outbound of this.retryQueue) {
        if (batch.length < maxRecords && bytes + outbound.bytes <= maxBytes) {
          batch.push(outbound);
          bytes += outbound.bytes;
        } else keep.push(outbound);
      }
      this.retryQueue = keep;
    }
    if (!ordered) {
      const pending = this.pending;
      let head = this.pendingHead;
      while (head < pending.length && batch.length < maxRecords) {
        const outbound = pending[head]!;
        if (bytes + outbound.bytes > maxBytes) break;
        batch.push(outbound);
        bytes += outbound.bytes;
        this.pendingBytes -= outbound.bytes;
        head++;
      }
      this.pendingHead = head;
      if (head === pending.length) {
        this.pending = [];
        this.pendingHead = 0;
      } else if (head > 4096 && head * 2 > pending.length) {
        this.pending = pending.slice(head);
        this.pendingHead = 0;
      }
      return batch;
    }
    // Ordered: at most one record per key in flight; skipped records keep their place.
    const rest: Entry[] = [];
    for (let i = this.pendingHead; i < this.pending.length; i++) {
      const outbound = this.pending[i]!;
      const lock = this.keyLocks.get(outbound.partitionKey);
      if (batch.length < maxRecords && bytes + outbound.bytes <= maxBytes && (lock === undefined || lock === outbound)) {
        this.keyLocks.set(outbound.partitionKey, outbound);
        batch.push(outbound);
        bytes += outbound.bytes;
        this.pendingBytes -= outbound.bytes;
      } else rest.push(outbound);
    }
    this.pending = rest;
    this.pendingHead = 0;
    return batch;
  }

  private async send(batch: Entry[]): Promise<void> {
    let results: readonly PutRecordsResultEntry[] | undefined;
    let callError: unknown;
    try {
      results = this.options.ordering === 'strict' ? await this.putEach(batch) : await this.putBatch(batch);
    } catch (error) {
      callError = error;
    }
    const retry: Entry[] = [];
    let remapNeeded = false;
    for (let i = 0; i < batch.length; i++) {
      const outbound = batch[i]!;
      outbound.attempts++;
      const result = results?.[i];
      if (result !== undefined && result.ErrorCode === undefined && result.SequenceNumber !== undefined && result.ShardId !== undefined) {
        if (outbound.shardId !== undefined && outbound.shardId !== result.ShardId) {
          remapNeeded = true;
          // An aggregate that landed on another shard than predicted (the stream was resharded): the KCL drops the
          // members whose hash key is outside the shard it reads, so send them again, routed on the new shard map.
          if (outbound.members !== undefined && this.reroute(outbound.members)) continue;
        }
        this.succeed(outbound, result.SequenceNumber, result.ShardId);
        continue;
      }
      const code = result?.ErrorCode ?? errorName(callError) ?? 'MissingResult';
      outbound.lastErrorCode = code;
      const fatal = result?.ErrorCode !== undefined ? isFatalRecordError(code) : FATAL_CALL_ERRORS.has(code);
      if (fatal || this.abort.signal.aborted || outbound.attempts >= this.options.maxAttempts) {
        this.fail(outbound, describeFailure(this.streamName, code, result?.ErrorMessage ?? errorMessage(callError), outbound.attempts, fatal), callError);
      } else {
        retry.push(outbound);
      }
    }
    this.inFlight--;
    if (remapNeeded) this.refreshShardMapSoon('a record landed on another shard than predicted (resharding?)');
    if (retry.length > 0) {
      this.retried += retry.length;
      const attempt = Math.max(...retry.map((o) => o.attempts));
      const delayMs = backoffWithJitter(attempt - 1, this.options.retryBaseMs, this.options.retryCapMs);
      this.options.logger?.debug(`retrying ${retry.length} of ${batch.length} records in ${delayMs} ms`, { errorCode: retry[0]!.lastErrorCode, attempt });
      this.sleeping.add(retry);
      await sleep(delayMs);
      this.sleeping.delete(retry);
      for (const outbound of retry) {
        if (outbound.members === undefined ? !outbound.settled : outbound.members.some((m) => !m.settled)) this.retryQueue.push(outbound);
      }
    }
    this.pump();
  }

  private async putBatch(batch: readonly Entry[]): Promise<readonly PutRecordsResultEntry[]> {
    this.calls++;
    // The entries are their own PutRecords entries (Data/PartitionKey/ExplicitHashKey getters): nothing is copied, and
    // the request body is encoded in one Buffer by createPutRecordsCommand, not record by record by the SDK.
    const response = await this.client.send(createPutRecordsCommand(this.streamParams, batch), { abortSignal: this.abort.signal });
    return response.Records ?? [];
  }

  /** Strict ordering: one PutRecord per record, each with the previous sequence number of its key. */
  private async putEach(batch: readonly Entry[]): Promise<readonly PutRecordsResultEntry[]> {
    return Promise.all(
      batch.map(async (outbound): Promise<PutRecordsResultEntry> => {
        this.calls++;
        try {
          const response = await this.client.send(
            new PutRecordCommand({
              ...this.streamParams,
              Data: outbound.data,
              PartitionKey: outbound.partitionKey,
              ExplicitHashKey: outbound.explicitHashKey,
              SequenceNumberForOrdering: this.lastSequenceByKey.get(outbound.partitionKey),
            }),
            { abortSignal: this.abort.signal },
          );
          return { SequenceNumber: response.SequenceNumber, ShardId: response.ShardId };
        } catch (error) {
          const code = errorName(error) ?? 'InternalFailure';
          return { ErrorCode: FATAL_CALL_ERRORS.has(code) ? `Fatal:${code}` : code, ErrorMessage: errorMessage(error) };
        }
      }),
    );
  }

  private succeed(outbound: Entry, sequenceNumber: string, shardId: string): void {
    const attempts = outbound.attempts;
    this.kinesisRecordsDelivered++;
    if (outbound.members === undefined) {
      this.releaseKey(outbound);
      if (this.options.ordering === 'strict') {
        if (this.lastSequenceByKey.size > 100_000) this.lastSequenceByKey.clear();
        this.lastSequenceByKey.set(outbound.partitionKey, sequenceNumber);
      }
      this.settle(outbound, sequenceNumber, shardId, attempts, undefined);
      return;
    }
    // An aggregate's members: settled in one pass, with the counters and the waiters updated once for all of them.
    const members = outbound.members;
    let count = 0;
    let bytes = 0;
    for (let i = 0; i < members.length; i++) {
      const user = members[i]!;
      if (user.settled) continue;
      user.settled = true;
      count++;
      bytes += user.bytes;
      if (user.call !== undefined) user.call.succeeded(user.index, sequenceNumber, shardId, i);
      else user.resolve({ sequenceNumber, shardId, subSequenceNumber: i, attempts });
    }
    this.queuedRecords -= count;
    this.queuedBytes -= bytes;
    this.delivered += count;
    this.deliveredBytesTotal += bytes;
    this.afterSettle();
  }

  private fail(outbound: Entry, message: string, cause: unknown): void {
    this.releaseKey(outbound);
    const error = new ProducerError(message, { errorCode: outbound.lastErrorCode, cause });
    if (outbound.members === undefined) this.settleFailed(outbound, error);
    else for (const member of outbound.members) this.settleFailed(member, error);
  }

  private releaseKey(outbound: Entry): void {
    if (this.options.ordering !== 'none' && this.keyLocks.get(outbound.partitionKey) === outbound) this.keyLocks.delete(outbound.partitionKey);
  }

  /** Settles one user record as failed. */
  private settleFailed(user: Entry, error: ProducerError): void {
    this.settle(user, undefined, undefined, 0, error);
  }

  /** Settles one user record sent on its own (not in an aggregate): delivered (sequenceNumber and shardId set) or failed (error set). */
  private settle(user: Entry, sequenceNumber: string | undefined, shardId: string | undefined, attempts: number, error: ProducerError | undefined): void {
    if (user.settled) return;
    user.settled = true;
    this.queuedRecords--;
    this.queuedBytes -= user.bytes;
    if (error === undefined) {
      this.delivered++;
      this.deliveredBytesTotal += user.bytes;
      if (user.call !== undefined) user.call.succeeded(user.index, sequenceNumber!, shardId!, undefined);
      else user.resolve({ sequenceNumber: sequenceNumber!, shardId: shardId!, attempts });
    } else {
      this.failed++;
      if (user.call !== undefined) user.call.failed(user.index, error);
      else user.resolve(Promise.reject(error));
    }
    this.afterSettle();
  }

  /** After records settled: lets waiting `put`s in while there is room, and resolves `flush()`es once nothing is queued. */
  private afterSettle(): void {
    while (this.waiters.length > 0 && this.hasRoom(this.waiters[0]!.bytes)) {
      const waiter = this.waiters.shift()!;
      if (waiter.reserve) {
        // Count the waiter's record now, so that the next waiter sees the room it takes.
        this.queuedRecords++;
        this.queuedBytes += waiter.bytes;
      }
      waiter.resolve();
    }
    if (this.queuedRecords === 0 && this.idleWaiters.length > 0) {
      const idle = this.idleWaiters.splice(0);
      for (const resolve of idle) resolve();
    }
  }

  /** After close timed out: every unsettled record, wherever it is, is rejected. */
  private rejectEverything(error: ProducerError): void {
    for (const waiter of this.waiters.splice(0)) waiter.reject(error);
    const outbounds = [...this.retryQueue, ...this.pending.slice(this.pendingHead), ...[...this.sleeping].flat()];
    this.sleeping.clear();
    this.retryQueue = [];
    this.pending = [];
    this.pendingHead = 0;
    this.pendingBytes = 0;
    for (const outbound of outbounds) {
      if (outbound.members === undefined) this.settleFailed(outbound, error);
      else for (const member of outbound.members) this.settleFailed(member, error);
    }
    for (const slot of this.slots.values()) {
      for (const member of slot.members) this.settleFailed(member, error);
      slot.members = [];
      slot.aggregator.clear();
    }
    for (const user of this.unrouted.splice(0)) this.settleFailed(user, error);
    // In-flight calls were aborted: their records settle as failed when the calls return.
  }

  // ---- aggregation ----

  private route(user: Entry): void {
    const map = this.shardMap;
    if (map === undefined || this.unrouted.length > 0) {
      this.unrouted.push(user);
      this.ensureShardMap();
      return;
    }
    const shard = user.explicitHashKey !== undefined ? map.shardForHex(hashKeyToHex(user.explicitHashKey)) : map.shardForPartitionKey(user.partitionKey);
    if (shard === undefined || user.bytes + 64 > this.options.maxAggregateBytes) {
      // No open shard owns the key (mid-reshard) or too large to aggregate: send it as a plain record.
      this.enqueue(user);
      return;
    }
    let slot = this.slots.get(shard.shardId);
    if (slot === undefined || slot.shard !== shard) {
      if (slot !== undefined) this.emitAggregate(slot);
      slot = { shard, aggregator: new KplAggregator({ maxBytes: this.options.maxAggregateBytes }), members: [] };
      this.slots.set(shard.shardId, slot);
    }
    if (!slot.aggregator.tryAdd(user)) {
      this.emitAggregate(slot);
      slot.aggregator.tryAdd(user);
    }
    slot.members.push(user);
    if (this.flushing > 0) this.emitSoon();
    else if (this.lingerTimer === undefined) this.startLinger();
  }

  private emitAggregate(slot: AggregationSlot): void {
    const aggregate = slot.aggregator.flush();
    if (aggregate === undefined) return;
    if (Date.now() - this.shardMapLoadedAt > this.options.shardMapRefreshMs) this.refreshShardMapSoon('periodic refresh');
    const members = slot.members;
    slot.members = [];
    // The outer record carries the shard's starting hash key, so it lands on the shard every member maps to.
    const bytes = aggregate.data.length + Buffer.byteLength(aggregate.partitionKey, 'utf8');
    this.enqueue(new Entry(aggregate.data, aggregate.partitionKey, slot.shard.startingHashKey, bytes, ignoreResult, members, slot.shard.shardId, undefined, 0));
  }

  /** During a flush: emits the open aggregates once the current synchronous run of puts is over (not one per record). */
  private emitSoon(): void {
    if (this.emitScheduled) return;
    this.emitScheduled = true;
    queueMicrotask(() => {
      this.emitScheduled = false;
      this.emitAllAggregates();
      this.pump();
    });
  }

  private emitAllAggregates(): void {
    for (const slot of this.slots.values()) this.emitAggregate(slot);
  }

  private hasOpenAggregates(): boolean {
    if (this.unrouted.length > 0) return true;
    for (const slot of this.slots.values()) if (slot.members.length > 0) return true;
    return false;
  }

  private ensureShardMap(): void {
    this.loadShardMapNow(undefined);
  }

  private refreshShardMapSoon(reason: string): void {
    this.loadShardMapNow(reason);
  }

  /**
   * Loads the shard map once at a time (`reason` is set for a refresh). Records waiting for a route are routed when it
   * arrives. If it cannot be loaded, they are routed on the map already held, or fail when there is none.
   */
  private loadShardMapNow(reason: string | undefined): void {
    if (this.shardMapLoading !== undefined) return;
    if (reason !== undefined) {
      this.shardMapLoadedAt = Date.now(); // no second refresh until this one is done or due again
      this.options.logger?.debug(`refreshing the shard map of stream ${this.streamName}: ${reason}`);
    }
    this.shardMapLoading = this.loadShardMapWithRetry().then(
      (map) => {
        this.shardMapLoading = undefined;
        this.installShardMap(map);
      },
      (error: unknown) => {
        this.shardMapLoading = undefined;
        const current = this.shardMap;
        if (current !== undefined) {
          this.options.logger?.warn(`could not refresh the shard map of stream ${this.streamName}: ${errorMessage(error)}`);
          this.installShardMap(current);
          return;
        }
        const failure = new ProducerError(
          `could not list the shards of stream ${this.streamName} to aggregate records (${errorName(error) ?? 'error'}: ${errorMessage(error)}): check that the stream exists and is ACTIVE`,
          { cause: error },
        );
        for (const user of this.unrouted.splice(0)) this.settleFailed(user, failure);
      },
    );
  }

  private installShardMap(map: ShardMap): void {
    this.shardMap = map;
    this.shardMapLoadedAt = Date.now();
    // Open aggregates of shards that closed are not sent: their members are routed again on the new map, so that each
    // lands on the shard its key maps to (a descendant's reader would drop the others).
    for (const [shardId, slot] of this.slots) {
      const next = map.get(shardId);
      if (next !== undefined && next.startHex === slot.shard.startHex && next.endHex === slot.shard.endHex) {
        slot.shard = next; // the same open shard in the new map: keep its open aggregate
        continue;
      }
      this.unrouted.push(...slot.members);
      slot.members = [];
      slot.aggregator.clear();
      this.slots.delete(shardId);
    }
    const waiting = this.unrouted.splice(0);
    for (const user of waiting) if (!user.settled) this.route(user);
    this.pump();
  }

  /**
   * Queues the members of a misrouted aggregate to be aggregated again once the shard map is refreshed. Returns false
   * (the members then count as delivered where they landed) after 3 reroutes of the same records, so that a map
   * that keeps disagreeing with the stream cannot make them loop.
   */
  private reroute(members: readonly Entry[]): boolean {
    const waiting = members.filter((member) => !member.settled);
    if (waiting.length === 0) return false;
    // The aggregate's count is its most rerouted member's: records that joined later must not reset the others.
    const count = Math.max(...waiting.map((member) => this.reroutes.get(member) ?? 0)) + 1;
    if (count > 3) {
      this.options.logger?.warn(`records still land on another shard than predicted after 3 new routes: counting them as delivered (stream ${this.streamName})`);
      return false;
    }
    for (const member of waiting) this.reroutes.set(member, count);
    this.unrouted.push(...waiting);
    this.rerouted += waiting.length;
    return true;
  }

  private async loadShardMapWithRetry(): Promise<ShardMap> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await loadShardMap(this.client, this.stream, this.abort.signal);
      } catch (error) {
        const code = errorName(error);
        if ((code !== undefined && FATAL_CALL_ERRORS.has(code)) || attempt + 1 >= Math.min(this.options.maxAttempts, 10)) throw error;
        await sleep(backoffWithJitter(attempt, this.options.retryBaseMs, this.options.retryCapMs));
      }
    }
  }
}

function toBuffer(data: ProducerData): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (data instanceof Uint8Array) return Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  if (typeof data === 'string') return Buffer.from(data, 'utf8');
  const json = JSON.stringify(data);
  if (json === undefined) throw new ProducerError('record data must be a Buffer, a string or a JSON-serialisable value');
  return Buffer.from(json, 'utf8');
}

/** Checks a record and returns its size (data + partition key bytes). */
function validateRecord(data: Buffer, partitionKey: string, explicitHashKey: string | undefined): number {
  if (typeof partitionKey !== 'string' || partitionKey.length === 0 || partitionKey.length > 256) {
    throw new ProducerError(`a partition key must be a string of 1 to 256 characters, got ${typeof partitionKey === 'string' ? `${partitionKey.length} characters` : typeof partitionKey}`);
  }
  if (explicitHashKey !== undefined && !isValidExplicitHashKey(explicitHashKey)) {
    throw new ProducerError(`explicitHashKey must be a decimal integer between 0 and 2^128 - 1, got ${JSON.stringify(explicitHashKey)}`);
  }
  const bytes = data.length + utf8Length(partitionKey);
  if (bytes > RECORD_MAX_BYTES) {
    throw new ProducerError(`a record (data + partition key) is ${bytes} bytes, over the Kinesis limit of ${RECORD_MAX_BYTES}: split it or store it elsewhere and send a reference`);
  }
  return bytes;
}

function isFatalRecordError(code: string): boolean {
  if (code.startsWith('Fatal:')) return true;
  return code.startsWith('KMS') && code !== 'KMSThrottlingException';
}

function errorName(error: unknown): string | undefined {
  if (error === undefined || error === null) return undefined;
  if (error instanceof Error) return error.name;
  return typeof error;
}

function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (error === undefined) return 'no result for the record';
  return typeof error === 'string' ? error : JSON.stringify(error) ?? typeof error;
}

function describeFailure(stream: string, code: string, detail: string, attempts: number, fatal: boolean): string {
  const name = code.replace(/^Fatal:/, '');
  const what = `record not delivered to stream ${stream} after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${name}: ${detail}`;
  if (name === 'ResourceNotFoundException') return `${what} (create the stream first, e.g. shardline streams create ${stream})`;
  if (fatal) return `${what} (this error is not retried: fix the cause and put the record again)`;
  return `${what} (raise maxAttempts or retryCapMs, or add shards)`;
}
