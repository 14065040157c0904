/**
 * Checks a chaos run's delivery guarantees from what was put and what the consumer logged (see handled-log.ts):
 *
 * 1. nothing lost: every id put was handled at least once, where it was put (same shard, sequence and sub-sequence);
 * 2. per-shard order within one process: a process handles a shard's records in non-decreasing position order, and
 *    never the same record twice;
 * 3. parents before children: no record of a child shard is handled before the last record of each of its parents;
 * 4. re-deliveries bounded: a record handled again by a later process is charged to the last process that handled it
 *    before; that process must have crashed (kill -9: a graceful stop checkpoints what it handled), and per shard
 *    and per crash at most one batch (`maxBatchRecords`) is handled again.
 */
import { type HandledRecord } from './handled-log';

/** Where the producer's put landed. */
export interface PutPosition {
  readonly shard: string;
  readonly seq: string;
  /** Sub-sequence number inside a KPL aggregate; 0 for a plain record. */
  readonly sub: number;
}

/** How a consumer process ended. */
export type RunEnding = 'killed' | 'stopped';

/** What the checker needs. */
export interface DeliveryInput {
  /** Every id put, with where it landed. */
  readonly puts: ReadonlyMap<number, PutPosition>;
  /** The handled records, in log order. */
  readonly handled: readonly HandledRecord[];
  /** Parent shard ids of each shard (from ListShards at the end of the run); shards without parents may be absent. */
  readonly parents?: ReadonlyMap<string, readonly string[]>;
  /** How each consumer process (by pid) ended; a pid not listed is treated as killed. */
  readonly endings?: ReadonlyMap<number, RunEnding>;
  /** The largest batch one crash may make a shard handle again. Default: the largest batch in the log. */
  readonly maxBatchRecords?: number;
}

/** Re-deliveries of one shard charged to one crashed process. */
export interface Redelivery {
  readonly shard: string;
  /** The process whose crash caused them. */
  readonly crashedPid: number;
  readonly records: number;
}

/** The verdict. `problems` is empty when every guarantee held. */
export interface DeliveryReport {
  readonly put: number;
  /** Records handled, duplicates included. */
  readonly handled: number;
  readonly lost: readonly number[];
  /** Handled records beyond the first handling of their id. */
  readonly duplicates: number;
  readonly redeliveries: readonly Redelivery[];
  readonly maxBatchRecords: number;
  /** One line per broken guarantee (capped per kind). */
  readonly problems: readonly string[];
}

const MAX_PER_KIND = 5;

/** Compares two positions: sequence numbers as integers, then sub-sequence numbers. */
export function comparePosition(a: { readonly seq: string; readonly sub: number }, b: { readonly seq: string; readonly sub: number }): number {
  const sa = BigInt(a.seq);
  const sb = BigInt(b.seq);
  if (sa !== sb) return sa < sb ? -1 : 1;
  return a.sub - b.sub;
}

/** Runs every check. */
export function checkDelivery(input: DeliveryInput): DeliveryReport {
  const problems: string[] = [];
  const add = (kind: Map<string, string[]>, key: string, line: string): void => {
    const list = kind.get(key) ?? [];
    list.push(line);
    kind.set(key, list);
  };
  const byKind = new Map<string, string[]>();

  // Batches: size per (pid, b).
  const batchSizes = new Map<string, number>();
  for (const r of input.handled) batchSizes.set(`${r.pid}/${r.b}`, (batchSizes.get(`${r.pid}/${r.b}`) ?? 0) + 1);
  const maxBatchRecords = input.maxBatchRecords ?? Math.max(0, ...batchSizes.values());

  // 1. Lost, misplaced and unexpected records.
  const seen = new Set<number>();
  for (const r of input.handled) {
    const put = input.puts.get(r.id);
    if (put === undefined) {
      add(byKind, 'unexpected', `id ${r.id} was handled (pid ${r.pid}, ${r.shard}) but never put`);
    } else if (put.shard !== r.shard || put.seq !== r.seq || put.sub !== r.sub) {
      add(byKind, 'misplaced', `id ${r.id} was handled at ${r.shard} ${r.seq}/${r.sub} but put at ${put.shard} ${put.seq}/${put.sub}`);
    }
    seen.add(r.id);
  }
  const lost = [...input.puts.keys()].filter((id) => !seen.has(id)).sort((a, b) => a - b);
  if (lost.length > 0) add(byKind, 'lost', `${lost.length} ids lost, e.g. ${lost.slice(0, 10).join(', ')}`);

  // 2. Order within one process and shard; no record twice in one process.
  const last = new Map<string, HandledRecord>();
  const inProcess = new Set<string>();
  for (const r of input.handled) {
    const key = `${r.pid}/${r.shard}`;
    const previous = last.get(key);
    if (previous !== undefined && comparePosition(r, previous) < 0) {
      add(byKind, 'order', `pid ${r.pid} handled ${r.shard} ${r.seq}/${r.sub} (id ${r.id}) after ${previous.seq}/${previous.sub} (id ${previous.id})`);
    }
    last.set(key, r);
    const once = `${r.pid}/${r.id}`;
    if (inProcess.has(once)) add(byKind, 'twice', `pid ${r.pid} handled id ${r.id} (${r.shard}) twice`);
    inProcess.add(once);
  }

  // 3. Parents before children (by position in the log).
  const firstIndex = new Map<string, number>();
  const lastIndex = new Map<string, number>();
  input.handled.forEach((r, index) => {
    if (!firstIndex.has(r.shard)) firstIndex.set(r.shard, index);
    lastIndex.set(r.shard, index);
  });
  for (const [child, parents] of input.parents ?? new Map<string, readonly string[]>()) {
    const childFirst = firstIndex.get(child);
    if (childFirst === undefined) continue;
    for (const parent of parents) {
      const parentLast = lastIndex.get(parent);
      if (parentLast !== undefined && parentLast > childFirst) {
        add(byKind, 'lineage', `child ${child} was handled (log line ${childFirst + 1}) before the last record of its parent ${parent} (log line ${parentLast + 1})`);
      }
    }
  }

  // 4. Re-deliveries, charged to the last process that handled the id before.
  const lastHandler = new Map<number, number>();
  const charged = new Map<string, Redelivery>();
  let duplicates = 0;
  for (const r of input.handled) {
    const before = lastHandler.get(r.id);
    if (before !== undefined) {
      duplicates++;
      if (before !== r.pid) {
        const key = `${r.shard}/${before}`;
        const entry = charged.get(key) ?? { shard: r.shard, crashedPid: before, records: 0 };
        charged.set(key, { ...entry, records: entry.records + 1 });
      }
    }
    lastHandler.set(r.id, r.pid);
  }
  const redeliveries = [...charged.values()];
  for (const d of redeliveries) {
    const ending = input.endings?.get(d.crashedPid) ?? 'killed';
    if (ending === 'stopped') {
      add(byKind, 'redelivery', `${d.records} records of ${d.shard} were handled again after pid ${d.crashedPid} stopped gracefully (it should have checkpointed them)`);
    } else if (d.records > maxBatchRecords) {
      add(byKind, 'redelivery', `${d.records} records of ${d.shard} were handled again after pid ${d.crashedPid} was killed: more than one batch (${maxBatchRecords})`);
    }
  }

  for (const [kind, lines] of byKind) {
    problems.push(...lines.slice(0, MAX_PER_KIND));
    if (lines.length > MAX_PER_KIND) problems.push(`… and ${lines.length - MAX_PER_KIND} more ${kind} problems`);
  }
  return { put: input.puts.size, handled: input.handled.length, lost, duplicates, redeliveries, maxBatchRecords, problems };
}

/** Throws one error listing every problem, prefixed with the scenario and its seed, if any guarantee was broken. */
export function assertDelivery(report: DeliveryReport, context: string): void {
  if (report.problems.length === 0) return;
  throw new Error(`${context}: delivery guarantees broken:\n  ${report.problems.join('\n  ')}`);
}
