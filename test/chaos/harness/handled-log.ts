/**
 * The append-only log the chaos fixtures write: one JSON line per handled record, written with one
 * `appendFileSync` (O_APPEND) per batch so that a kill -9 never leaves half a batch, plus one line per lifecycle event
 * the scenarios assert on (`@OnShardEnded`, `@OnShutdown`).
 *
 * Record line: `{"shard":"shardId-000000000001","seq":"4959…","sub":0,"id":17,"pid":4242,"b":3}` where `b` numbers
 * the process's batches (so a batch can be told apart in the log). Event line: `{"event":"shardEnded","shard":…,"pid":…}`.
 */
import { appendFileSync, existsSync, readFileSync } from 'node:fs';

/** Environment variable naming the log file (set by the harness for the consumer process). */
export const HANDLED_LOG_ENV = 'CHAOS_HANDLED_LOG';

/** One handled record, as logged. */
export interface HandledRecord {
  readonly shard: string;
  readonly seq: string;
  readonly sub: number;
  readonly id: number;
  readonly pid: number;
  /** The process's batch counter: records with the same pid and `b` were one batch (one write). */
  readonly b: number;
}

/** A lifecycle event a fixture logs. */
export interface HandledEvent {
  readonly event: 'shardEnded' | 'shutdown';
  readonly shard: string;
  readonly pid: number;
  /** The shutdown reason, for `shutdown`. */
  readonly reason?: string;
}

/** What a log holds: records and events in the order they were written. */
export interface HandledLog {
  readonly records: readonly HandledRecord[];
  readonly events: readonly HandledEvent[];
  /** Lines that could not be parsed (a torn last line would show up here; none is expected). */
  readonly malformed: readonly string[];
}

/** Appends one batch of records (one write). `shard` and `pid` are the same for every record of a batch. */
export function appendBatch(file: string, records: readonly Omit<HandledRecord, 'pid' | 'b'>[], batch: number): void {
  if (records.length === 0) return;
  const text = records.map((r) => JSON.stringify({ shard: r.shard, seq: r.seq, sub: r.sub, id: r.id, pid: process.pid, b: batch })).join('\n');
  appendFileSync(file, `${text}\n`, { flag: 'a' });
}

/** Appends one lifecycle event. */
export function appendEvent(file: string, event: Omit<HandledEvent, 'pid'>): void {
  appendFileSync(file, `${JSON.stringify({ ...event, pid: process.pid })}\n`, { flag: 'a' });
}

/** Reads a log (an absent file is an empty log). */
export function readHandledLog(file: string): HandledLog {
  if (!existsSync(file)) return { records: [], events: [], malformed: [] };
  const records: HandledRecord[] = [];
  const events: HandledEvent[] = [];
  const malformed: string[] = [];
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  for (const [index, line] of lines.entries()) {
    if (line === '') continue;
    if (index === lines.length - 1) {
      // No newline yet: a write in progress (the reader raced the writer); it is read next time.
      continue;
    }
    try {
      const parsed = JSON.parse(line) as Partial<HandledRecord & HandledEvent>;
      if (typeof parsed.event === 'string') events.push(parsed as HandledEvent);
      else if (typeof parsed.id === 'number' && typeof parsed.shard === 'string' && typeof parsed.seq === 'string') records.push(parsed as HandledRecord);
      else malformed.push(line);
    } catch {
      malformed.push(line);
    }
  }
  return { records, events, malformed };
}

/** The distinct ids a log holds (for "wait until drained"). */
export function handledIds(file: string): Set<number> {
  return new Set(readHandledLog(file).records.map((r) => r.id));
}
