/**
 * The prose under the capacity table: what the medians say about how many full-rate shards one process carries,
 * against the issue's targets, computed from the rows (nothing here is typed in by hand).
 */
import { cpus } from 'node:os';
import { median, VARIANT_LABELS, type Measurement, type SummaryRow, type VariantName } from './measurement';

/** Records per second a full-rate shard delivers (2 MB/s of 1 KiB records). */
const RECORDS_PER_SECOND_PER_SHARD = 2_000;
/** A reader keeps up at a shard count when it handled at least this share of what arrived (median)… */
const KEPT_UP_SHARE = 0.95;
/** …and its lag grew by at most this many ms of a shard's data per second. */
const KEPT_UP_SLOPE_MS_PER_S = 50;
/** The issue's targets. */
const TARGET_SHARDS_PER_CORE = 50;
const TARGET_RSS_MB = 300;
const TARGET_RSS_SHARDS = 128;

const ms = (secondsPerMb: number): string => (secondsPerMb * 1000).toFixed(1);

/** The largest shard count the reader kept up with, counting up from the smallest (0 when it never did). */
function keptUpTo(rows: readonly SummaryRow[]): number {
  let best = 0;
  for (const row of [...rows].sort((a, b) => a.shards - b.shards)) {
    if (row.keptUpShare < KEPT_UP_SHARE || row.lagSlopeMsPerSecond > KEPT_UP_SLOPE_MS_PER_S) break;
    best = row.shards;
  }
  return best;
}

/** One line per reader: CPU per MB by shard count, how far it kept up, what it carried when it could not. */
function readerLine(variant: VariantName, rows: readonly SummaryRow[]): string {
  const sorted = [...rows].sort((a, b) => a.shards - b.shards);
  const smallest = sorted[0] as SummaryRow;
  const busiest = sorted.reduce((a, b) => (b.recordsPerSecond > a.recordsPerSecond ? b : a));
  const upTo = keptUpTo(sorted);
  const carried = busiest.recordsPerSecond / RECORDS_PER_SECOND_PER_SHARD;
  return (
    `- **${VARIANT_LABELS[variant]}**: ${sorted.map((r) => `${ms(r.cpuSecondsPerMb)} ms`).join(' / ')} of CPU per MB at ${sorted.map((r) => r.shards).join(' / ')} shards ` +
    `(${smallest.shardsPerCore.toFixed(0)} full-rate shards per core at ${smallest.shards}); ` +
    (upTo === 0 ? `did not keep up even at ${smallest.shards} shards; ` : `kept up with every shard up to **${upTo} shards**; `) +
    `at most ${busiest.recordsPerSecond.toFixed(0)} records/s handled (at ${busiest.shards} shards), the data of **${carried.toFixed(0)} full-rate shards** on ${busiest.cpuShare.toFixed(2)} cores` +
    ` (${(carried / Math.max(busiest.cpuShare, 0.01)).toFixed(0)} per core).`
  );
}

/** The section's prose, from the summary rows and the raw measurements. */
export function capacityAnswer(rows: readonly SummaryRow[], results: readonly Measurement[], recordBytes: number): string[] {
  const variants = [...new Set(rows.map((r) => r.variant))];
  const of = (variant: VariantName): SummaryRow[] => rows.filter((r) => r.variant === variant);
  const lines = variants.map((v) => readerLine(v, of(v)));
  const ours = (['shardline-5s', 'shardline', 'shardline-efo'] as const).filter((v) => of(v).length > 0);
  const targets = ours.map((v) => {
    const sorted = of(v).sort((a, b) => a.shards - b.shards);
    // The cheapest CPU per MB at a shard count the reader kept up with (fixed per-process costs weigh on few shards).
    const upTo = keptUpTo(sorted);
    const best = sorted.filter((r) => r.shards <= upTo).reduce<SummaryRow>((a, b) => (b.shardsPerCore > a.shardsPerCore ? b : a), sorted[0] as SummaryRow);
    const perCore = best.shardsPerCore;
    const rss = sorted.find((r) => r.shards === TARGET_RSS_SHARDS)?.maxRssMb;
    const cpuVerdict = perCore >= TARGET_SHARDS_PER_CORE ? 'met' : `missed by ${((1 - perCore / TARGET_SHARDS_PER_CORE) * 100).toFixed(0)} %`;
    const rssVerdict = rss === undefined || Number.isNaN(rss) ? 'not measured' : `${rss.toFixed(0)} MB, ${rss < TARGET_RSS_MB ? 'met' : `missed by ${(rss - TARGET_RSS_MB).toFixed(0)} MB`}`;
    return `${VARIANT_LABELS[v]}: ${perCore.toFixed(0)} shards per core (at ${best.shards} shards, ${cpuVerdict}); peak RSS at ${TARGET_RSS_SHARDS} shards ${rssVerdict}`;
  });
  const load = results.map((r) => r.loadAverage1m).filter((v): v is number => v !== undefined);
  const maxLoad = load.length === 0 ? Number.NaN : Math.max(...load);
  const standIn = median(results.filter((r) => r.recordsPerSecond > 0).map((r) => (r.standInCpuShare / (r.recordsPerSecond * recordBytes)) * 1e9));
  return [
    '**How many shards one process carries** (medians; "kept up" = handled ≥ 95 % of what arrived and lag growing ≤ 50 ms/s; shards per core = 1 / (CPU per MB × 2.048 MB/s)):',
    '',
    ...lines,
    '',
    `Targets (at least ${TARGET_SHARDS_PER_CORE} full-rate shards per core, RSS under ${TARGET_RSS_MB} MB at ${TARGET_RSS_SHARDS} shards): ${targets.join('; ')}.`,
    '',
    'A Node process runs its JavaScript on one thread, so what a process carries is bounded by one core (plus what the garbage collector and the kernel do on the other): past that it falls behind at the rate the table shows, and a stream with more full-rate shards needs more processes (leases: docs/scaling.md). Shards that carry less cost proportionally less, and an idle shard costs one GetRecords per second. What else bounds a process:',
    '',
    "- **The memory budget** (`--max-buffered-bytes`, 6 MiB by default) bounds the bytes read and not yet acknowledged; a call's share is at least 1 MiB (~670 records of 1 KiB, enough for 3,300 records/s per shard at 5 calls/s), and throughput is at most the budget divided by how long a page is held (the GetRecords round trip, the handler, a per-batch checkpoint): raise it when pages are held long.",
    '- **Fan-out read-ahead**: Kinesis decides the size of an event (the budget cannot shape it), and each subscription holds the event being handled plus what the SDK and the HTTP connection read ahead (about two events, ~1 MB of records at full rate) outside the budget: a fan-out process that cannot keep up with its shards holds that much per shard, so its RSS grows with the shard count (see its rows above 32 shards); give such a process fewer shards.',
    '- **Checkpoints per batch in a file** (`--checkpoints file:…`): one write (file + folder fsync) at a time, and the checkpoints made meanwhile share the next write, so their cost grows with the disk round trip, not with the shard count; a per-batch checkpoint still holds each page until it is on disk.',
    '',
    `The stand-in is not the bottleneck: it spent ${standIn.toFixed(1)} ms of CPU per MB handled (median over all measurements).`,
    '',
    Number.isNaN(maxLoad)
      ? 'The load of the machine during the run was not recorded.'
      : `1-minute load average during the measurements: ${Math.min(...load).toFixed(1)}–${maxLoad.toFixed(1)} on ${cpus().length} cores. The benchmark's own processes count in it (a saturated reader alone keeps more than one core busy, the stand-in up to 0.15): wall-clock figures (records/s, kept up, lag slope, event-loop delay) are only as good as the machine was quiet; CPU per MB is the figure that carries over.`,
  ];
}
