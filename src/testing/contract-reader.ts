import { type Subscription } from 'rxjs';
import { type RecordSource } from '../adapters/record-source';
import { comparePositions, formatPosition, type CheckpointPosition } from '../core/checkpoint-position';
import { type KinesisRecord } from '../core/kinesis-record';
import { type EventOutcome, type ShardEvent, type ShardLease } from '../core/shard-event';

/** What the conformance kit's reader does with one event: the outcome it acknowledges with, once the promise settles. */
export type ContractEventHandler = (event: ShardEvent, lease: ShardLease | undefined) => Promise<EventOutcome> | EventOutcome;

const OK: EventOutcome = { status: 'ok' };

interface ShardLog {
  readonly events: ShardEvent[];
  readonly records: KinesisRecord[];
  lease: ShardLease | undefined;
  inFlight: boolean;
  closed: boolean;
  failed: boolean;
  last: CheckpointPosition | undefined;
}

/**
 * Plays the runtime's part against a {@link RecordSource} for the conformance kit: subscribes, acknowledges each event
 * with what `handler` returns, and records every breach of the contract it sees as it happens (an event before the
 * previous one of its shard was acknowledged, a first event that is not `opened`, an event after a closing one or after
 * a failed acknowledgement, records out of order). One reader is one subscription.
 */
export class ContractReader {
  /** Breaches of the contract, in the order they were seen. */
  readonly violations: string[] = [];
  /** Every event in arrival order (all shards). */
  readonly arrivals: ShardEvent[] = [];
  /** Set when the Observable ended with an error. */
  error: Error | undefined;
  completed = false;
  private readonly shards = new Map<string, ShardLog>();
  private readonly subscription: Subscription;
  private readonly listeners = new Set<() => void>();

  constructor(
    source: RecordSource,
    private readonly handler: ContractEventHandler = () => OK,
  ) {
    this.subscription = source.events().subscribe({
      next: (event) => this.receive(event),
      error: (error: unknown) => {
        this.error = error instanceof Error ? error : new Error(String(error));
        this.notify();
      },
      complete: () => {
        this.completed = true;
        this.notify();
      },
    });
  }

  /** Events of a shard received by this reader, in order. */
  events(shardId: string): readonly ShardEvent[] {
    return this.shards.get(shardId)?.events ?? [];
  }

  /** Records of a shard received by this reader, in order. */
  records(shardId: string): readonly KinesisRecord[] {
    return this.shards.get(shardId)?.records ?? [];
  }

  /** The payloads (UTF-8) of a shard's records received by this reader, in order. */
  payloads(shardId: string): string[] {
    return this.records(shardId).map((record) => record.text());
  }

  /** The lease the shard was opened with in this subscription. */
  lease(shardId: string): ShardLease | undefined {
    return this.shards.get(shardId)?.lease;
  }

  /** Resolves once `check()` is true (re-evaluated on each event), rejects after `timeoutMs` naming `what`. */
  waitFor(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
    if (check()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const listener = (): void => {
        if (!check()) return;
        done();
        resolve();
      };
      const timer = setTimeout(() => {
        done();
        const seen = [...this.shards.entries()].map(([id, log]) => `${id}: ${log.events.map(label).join(', ')}`).join('; ');
        reject(new Error(`waited ${timeoutMs} ms for ${what}; seen: ${seen || 'no event'}${this.error ? `; source failed: ${this.error.message}` : ''}`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.listeners.delete(listener);
      };
      this.listeners.add(listener);
    });
  }

  /** Waits until the shard's payloads number at least `count`. */
  waitForRecords(shardId: string, count: number, timeoutMs: number): Promise<void> {
    return this.waitFor(() => this.records(shardId).length >= count, timeoutMs, `${count} records of ${shardId}`);
  }

  /** Unsubscribes (the source must release every shard). */
  stop(): void {
    this.subscription.unsubscribe();
  }

  private receive(event: ShardEvent): void {
    this.arrivals.push(event);
    let log = this.shards.get(event.shardId);
    if (log === undefined) {
      log = { events: [], records: [], lease: undefined, inFlight: false, closed: false, failed: false, last: undefined };
      this.shards.set(event.shardId, log);
    }
    const where = `${event.type} event of ${event.shardId}`;
    if (log.inFlight) this.violations.push(`${where} arrived before the previous event of the shard was acknowledged`);
    if (log.events.length === 0 && event.type !== 'opened') this.violations.push(`${where} came first: a shard's first event must be 'opened'`);
    if (log.events.length > 0 && event.type === 'opened') this.violations.push(`${where} came again: 'opened' must be the shard's first event only`);
    if (log.closed) this.violations.push(`${where} came after the shard's closing event`);
    if (log.failed) this.violations.push(`${where} came after an acknowledgement that failed (the shard must stop)`);
    log.events.push(event);
    if (event.type === 'opened') log.lease = event.lease;
    else if (event.type === 'records') {
      for (const record of event.records) {
        if (log.last !== undefined && comparePositions(record.position, log.last) <= 0) {
          this.violations.push(`record ${formatPosition(record.position)} of ${event.shardId} came after ${formatPosition(log.last)}: out of order or repeated`);
        }
        log.last = record.position;
        log.records.push(record);
      }
    } else log.closed = true;
    log.inFlight = true;
    const current = log;
    this.notify();
    void Promise.resolve()
      .then(() => this.handler(event, current.lease))
      .catch((error: unknown): EventOutcome => ({ status: 'failed', error: error instanceof Error ? error : new Error(String(error)) }))
      .then((outcome) => {
        current.inFlight = false;
        if (outcome.status === 'failed' && (event.type === 'opened' || event.type === 'records')) current.failed = true;
        event.ack(outcome);
        this.notify();
      });
  }

  private notify(): void {
    for (const listener of [...this.listeners]) listener();
  }
}

function label(event: ShardEvent): string {
  return event.type === 'records' ? `records(${event.records.length})` : event.type;
}
