import { ConfigurationError } from '../../core/errors';
import { type WireRecord } from './record-converter';

/**
 * Default bound of {@link MemoryBudget}: 6 MiB of buffered records per process. The process's RSS is far more than
 * the bytes counted (V8 frees the garbage of parsed pages lazily): with 6 MiB a 50,000 × 1 KiB backlog peaks under
 * 200 MB on 4 and on 32 shards, while 4 busy shards get 1.5 MiB per call each and more take turns at 1 MiB per call
 * (see docs/polling.md).
 */
export const DEFAULT_MAX_BUFFERED_BYTES = 6 * 1024 * 1024;

/** Bytes per record assumed before any page was measured. */
const DEFAULT_BYTES_PER_RECORD = 1024;
/** The first call of a budget that has measured nothing yet reads at most this many records (a probe). */
const PROBE_RECORDS = 100;
/** A shard's estimate is the largest bytes-per-record of its last this-many non-empty pages. */
const SAMPLES = 4;
/** Counted per record on top of its payload, partition key and sequence number: the objects that hold them. */
const RECORD_OVERHEAD_BYTES = 128;
/**
 * A call's share is never below this (or the whole budget, if smaller): with very many shards, the calls stay large
 * enough to be worth making and the shards take turns. 1 MiB is about 670 records of 1 KiB (counted 1.5 KiB each),
 * so a shard read 5 times a second can take 3,300 records/s, more than the 2,000 a full-rate shard receives. (With
 * 256 KiB a shard could never read more than ~840 records/s, so no more than ~24 full-rate shards kept up; 1 MiB made
 * fewer calls for the same peak RSS in the memory benchmark.)
 */
const MIN_SHARE_BYTES = 1024 * 1024;
/** Kinesis' own bound on GetRecords `Limit`. */
const KINESIS_MAX_RECORDS = 10_000;

/**
 * The bytes a page of records holds in memory, as counted by the budget: per record, its payload as it is kept
 * (base64 text until a handler reads it on the raw path, decoded bytes otherwise), its partition key and sequence
 * number, and {@link RECORD_OVERHEAD_BYTES} for the objects around them.
 */
export function pageBytes(records: readonly WireRecord[]): number {
  let bytes = 0;
  for (const record of records) {
    const data = record.Data;
    bytes += (typeof data === 'string' ? data.length : (data?.byteLength ?? 0)) + (record.PartitionKey?.length ?? 0) + (record.SequenceNumber?.length ?? 0) + RECORD_OVERHEAD_BYTES;
  }
  return bytes;
}

interface Waiter {
  readonly lease: BudgetLease;
  readonly maxRecords: number;
  readonly resolve: (limit: number | undefined) => void;
}

/**
 * A process-wide bound on the bytes of records read from Kinesis and not yet acknowledged by the application,
 * shared by every shard of one or several polling sources. It shapes GetRecords' `Limit`:
 *
 * - a shard asks for room before each call and waits (first come, first served: a waiting shard is never overtaken)
 *   until its share is free: an equal part of the budget among the shards reading (`maxBytes / shards`), but at
 *   least 1 MiB (or the whole budget if smaller), so that very many shards make fewer, larger calls and take turns;
 * - it is then granted `Limit = share / estimated bytes per record`, at most `maxRecords` (Kinesis: 10,000), and
 *   never below 1: when nothing at all is held, one record is granted even if it is larger than the whole budget, so
 *   a shard can always progress;
 * - the estimate is the largest bytes-per-record of the shard's last 4 pages, or of the last page any shard read, or
 *   1 KiB; until some page was measured, a call reads at most 100 records;
 * - the reservation is corrected to the page's actual bytes after the call (a page of larger records than estimated
 *   can take the total past `maxBytes` by the difference) and released when the batch is acknowledged, when the call
 *   fails, or when the shard's reader ends (closed, stopped, lost).
 */
export class MemoryBudget {
  private used = 0;
  private highWater = 0;
  private participants = 0;
  private lastBytesPerRecord: number | undefined;
  private readonly queue: Waiter[] = [];

  /**
   * @param maxBytes bound of the bytes held across shards (default {@link DEFAULT_MAX_BUFFERED_BYTES}).
   * @throws ConfigurationError when `maxBytes` is not a positive integer.
   */
  constructor(readonly maxBytes: number = DEFAULT_MAX_BUFFERED_BYTES) {
    if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
      throw new ConfigurationError(`maxBufferedBytes must be a positive integer (got ${String(maxBytes)}); for example 6291456 (6 MiB)`);
    }
  }

  /** Bytes reserved or held now, across shards. @internal for tests and metrics */
  get bufferedBytes(): number {
    return this.used;
  }

  /** The largest {@link bufferedBytes} seen. @internal for tests and benchmarks */
  get highWaterBytes(): number {
    return this.highWater;
  }

  /** Shards waiting for room. @internal for tests */
  get waitingShards(): number {
    return this.queue.length;
  }

  /** Shards taking part (each gets an equal share of the budget per call). */
  get shardCount(): number {
    return this.participants;
  }

  /** A shard's reader joins the budget; it must call {@link BudgetLease.close} when it ends. */
  open(): BudgetLease {
    this.participants++;
    return new BudgetLease(this);
  }

  /** @internal Queues a request for room (see {@link BudgetLease.reserve}). */
  request(lease: BudgetLease, maxRecords: number, signal: AbortSignal | undefined): Promise<number | undefined> {
    if (signal?.aborted === true) return Promise.resolve(undefined);
    return new Promise<number | undefined>((resolve) => {
      const onAbort = (): void => this.dequeue(lease);
      signal?.addEventListener('abort', onAbort, { once: true });
      this.queue.push({
        lease,
        maxRecords,
        resolve: (limit) => {
          signal?.removeEventListener('abort', onAbort);
          resolve(limit);
        },
      });
      this.pump();
    });
  }

  /** @internal Adds (or, negative, removes) bytes held by a shard, then grants waiting shards what now fits. */
  adjust(deltaBytes: number): void {
    this.used += deltaBytes;
    if (this.used > this.highWater) this.highWater = this.used;
    if (deltaBytes < 0) this.pump();
  }

  /** @internal A shard measured a page: the estimate for shards without one of their own. */
  observe(bytesPerRecord: number): void {
    this.lastBytesPerRecord = bytesPerRecord;
  }

  /** @internal The estimate for a shard that has measured nothing yet. */
  defaultEstimate(): number {
    return this.lastBytesPerRecord ?? DEFAULT_BYTES_PER_RECORD;
  }

  /** @internal Whether any page was measured (before that, calls are probes of at most 100 records). */
  get measured(): boolean {
    return this.lastBytesPerRecord !== undefined;
  }

  /** @internal A shard's reader left: it no longer waits nor takes a share. */
  leave(lease: BudgetLease): void {
    this.participants--;
    this.dequeue(lease);
    this.pump();
  }

  /** Takes a shard out of the line; its pending request resolves with `undefined`. */
  private dequeue(lease: BudgetLease): void {
    const index = this.queue.findIndex((waiter) => waiter.lease === lease);
    if (index < 0) return;
    const [waiter] = this.queue.splice(index, 1);
    waiter?.resolve(undefined);
    if (index === 0) this.pump();
  }

  /** Grants the waiting shards, in order, as long as the first one fits. */
  private pump(): void {
    for (let head = this.queue[0]; head !== undefined; head = this.queue[0]) {
      const estimate = head.lease.estimateBytesPerRecord();
      const cap = Math.min(head.maxRecords, KINESIS_MAX_RECORDS, this.measured ? KINESIS_MAX_RECORDS : PROBE_RECORDS);
      const share = Math.max(Math.floor(this.maxBytes / Math.max(1, this.participants)), Math.min(this.maxBytes, MIN_SHARE_BYTES));
      const wanted = Math.max(estimate, Math.min(share, cap * estimate));
      const room = this.maxBytes - this.used;
      if (room < wanted && this.used > 0) return; // the first in line waits for its share, and everyone behind it
      this.queue.shift();
      const limit = Math.max(1, Math.min(cap, Math.floor(wanted / estimate)));
      head.lease.granted(limit * estimate);
      head.resolve(limit);
    }
  }
}

/**
 * One shard's part of a {@link MemoryBudget}: reserve before GetRecords, {@link settle} with the page, {@link release}
 * once the batch is acknowledged (or the call failed), {@link close} when the reader ends.
 *
 * ```
 * idle ──reserve()──▶ waiting ──(room, in turn)──▶ reserved ──settle(page)──▶ holding ──release() (ack)──▶ idle
 *                       │  (signal aborted: undefined)   │ release() (call failed) ──────────────────────▶ idle
 * any state ──close()──▶ closed (everything held is freed; a pending reserve() resolves undefined)
 * ```
 */
export class BudgetLease {
  private held = 0;
  private closed = false;
  private readonly samples: number[] = [];

  /** @internal made by {@link MemoryBudget.open} */
  constructor(private readonly budget: MemoryBudget) {}

  /** Bytes this shard reserves or holds now. */
  get heldBytes(): number {
    return this.held;
  }

  /**
   * Waits until the budget has room, reserves it, and returns the `Limit` for the next GetRecords (at least 1, at
   * most `maxRecords` and 10,000); `undefined` when `signal` aborts first (the reader stops) or the lease is closed.
   */
  reserve(maxRecords: number, signal?: AbortSignal): Promise<number | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return this.budget.request(this, maxRecords, signal);
  }

  /** After the call: the reservation becomes the page's actual bytes (and the page improves the estimate). */
  settle(records: readonly WireRecord[]): void {
    if (this.closed) return;
    const bytes = pageBytes(records);
    if (records.length > 0) {
      const perRecord = Math.ceil(bytes / records.length);
      this.samples.push(perRecord);
      if (this.samples.length > SAMPLES) this.samples.shift();
      this.budget.observe(perRecord);
    }
    this.move(bytes - this.held);
  }

  /** The batch was acknowledged, or the call failed: what this shard held is free again. */
  release(): void {
    this.move(-this.held);
  }

  /** The reader ended (shard closed, stopped, lost, failed): releases everything and leaves the budget. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.release();
    this.closed = true;
    this.budget.leave(this);
  }

  /** @internal Bytes per record this shard expects. */
  estimateBytesPerRecord(): number {
    return this.samples.length === 0 ? this.budget.defaultEstimate() : Math.max(...this.samples);
  }

  /** @internal The budget reserved `bytes` for this shard. */
  granted(bytes: number): void {
    this.held += bytes;
    this.budget.adjust(bytes);
  }

  private move(delta: number): void {
    if (delta === 0) return;
    this.held += delta;
    this.budget.adjust(delta);
  }
}
