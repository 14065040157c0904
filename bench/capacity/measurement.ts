/** The readers bench/capacity compares. */
export type VariantName = 'shardline' | 'shardline-5s' | 'shardline-efo' | 'shardline-efo-batch' | 'library' | 'floor';

/** How each reader is named in tables and in the chart. */
export const VARIANT_LABELS: Record<VariantName, string> = {
  shardline: 'shardline run --adapter polling, checkpoint per batch',
  'shardline-5s': 'shardline run --adapter polling, checkpoint every 5 s',
  'shardline-efo': 'shardline run --adapter efo (fan-out), checkpoint every 5 s',
  'shardline-efo-batch': 'shardline run --adapter efo (fan-out), checkpoint per batch',
  library: 'PollingRecordSource + ShardlineApp, memory checkpoints per batch',
  floor: 'floor: plain GetRecords loop, no checkpoints',
};

/** One reader at one shard count, over the measured window. */
export interface Measurement {
  readonly variant: VariantName;
  readonly shards: number;
  readonly recordsPerSecond: number;
  /** CPU seconds of the reader process per MB (10^6 bytes) of payload handled. */
  readonly cpuSecondsPerMb: number;
  /** CPU seconds per second (cores busy). */
  readonly cpuShare: number;
  readonly maxRssMb: number;
  readonly loopDelayP99Ms: number;
  /** Growth of (records arrived − records handled), as ms of the shards' data per second: 0 keeps up. */
  readonly lagSlopeMsPerSecond: number;
  /** Records handled / records arrived. */
  readonly keptUpShare: number;
  readonly throttled: number;
  /** CPU seconds per second of the stand-in (the benchmark's own process) over the window. */
  readonly standInCpuShare: number;
  /** GetRecords calls answered per second (throttled ones included). */
  readonly getRecordsPerSecond: number;
  /** SubscribeToShard events written per second (fan-out readers; absent in older logs). */
  readonly fanOutEventsPerSecond?: number;
  /** The machine's 1-minute load average at the end of the window (other jobs share the cores). */
  readonly loadAverage1m?: number;
  /** How `maxRssMb` was measured (`VmHWM`: the child's own peak). */
  readonly rssSource?: 'VmHWM';
}

/** Medians of one reader at one shard count. */
export interface SummaryRow {
  readonly variant: VariantName;
  readonly shards: number;
  readonly cpuSecondsPerMb: number;
  readonly lagSlopeMsPerSecond: number;
  readonly maxRssMb: number;
  /** 1 / (CPU s per MB × 2.048 MB/s): shards one core carries at full rate, from the CPU per MB measured here. */
  readonly shardsPerCore: number;
  /** Records handled / records arrived. */
  readonly keptUpShare: number;
  readonly recordsPerSecond: number;
  /** Cores busy. */
  readonly cpuShare: number;
}

/** Bytes per second a shard delivers at full rate, in MB (10^6 B). */
export const MB_PER_SECOND_PER_SHARD = 2.048;

/** The median (NaN for no values). */
export function median(values: readonly number[]): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? (sorted[mid] ?? 0) : ((sorted[mid - 1] ?? 0) + (sorted[mid] ?? 0)) / 2;
}

/** Least-squares slope of y over x (0 with fewer than two points). */
export function linearSlope(xs: readonly number[], ys: readonly number[]): number {
  const n = Math.min(xs.length, ys.length);
  if (n < 2) return 0;
  const mx = xs.slice(0, n).reduce((a, b) => a + b, 0) / n;
  const my = ys.slice(0, n).reduce((a, b) => a + b, 0) / n;
  let num = 0;
  let den = 0;
  for (let i = 0; i < n; i++) {
    const dx = (xs[i] ?? 0) - mx;
    num += dx * ((ys[i] ?? 0) - my);
    den += dx * dx;
  }
  return den === 0 ? 0 : num / den;
}

/** Medians per reader and shard count, in the order of `shardCounts` then `variants`. */
export function summarize(results: readonly Measurement[], shardCounts: readonly number[], variants: readonly VariantName[]): SummaryRow[] {
  return shardCounts.flatMap((shards) =>
    variants.flatMap((variant) => {
      const of = results.filter((r) => r.variant === variant && r.shards === shards);
      if (of.length === 0) return [];
      const cpuSecondsPerMb = median(of.map((r) => r.cpuSecondsPerMb));
      return [
        {
          variant,
          shards,
          cpuSecondsPerMb,
          lagSlopeMsPerSecond: median(of.map((r) => r.lagSlopeMsPerSecond)),
          maxRssMb: median(of.map((r) => r.maxRssMb).filter((v) => !Number.isNaN(v))),
          shardsPerCore: 1 / (cpuSecondsPerMb * MB_PER_SECOND_PER_SHARD),
          keptUpShare: median(of.map((r) => r.keptUpShare)),
          recordsPerSecond: median(of.map((r) => r.recordsPerSecond)),
          cpuShare: median(of.map((r) => r.cpuShare)),
        },
      ];
    }),
  );
}
