import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';

/** What a measured child reports to run.ts over IPC, once a second and when asked. */
export interface ProbeSample {
  readonly type: 'sample';
  /** Records handled so far (user records). */
  readonly records: number;
  /** `process.cpuUsage()` user + system, ms since the process started. */
  readonly cpuMs: number;
  readonly rssMb: number;
  /**
   * Peak RSS of this process, MB: `VmHWM` of /proc/self/status (not `process.resourceUsage().maxRSS`, which on Linux
   * keeps the parent's peak across fork and exec), or the largest RSS sampled where /proc is missing.
   */
  readonly peakRssMb: number;
  /** p99 and max event-loop delay since the last `reset` message, ms. */
  readonly loopDelayP99Ms: number;
  readonly loopDelayMaxMs: number;
  /** Epoch ms of the sample. */
  readonly at: number;
}

/**
 * Reports a child's counters to its parent (run.ts) over the IPC channel: every `intervalMs`, and at once on a
 * `sample` message; a `reset` message restarts the event-loop delay histogram (the start of the measured window).
 * Does nothing without an IPC channel. The timers are unref'd: they never keep the process alive.
 */
export function startProbe(count: () => number, intervalMs = 1_000): void {
  const send = process.send?.bind(process);
  if (send === undefined) return;
  let sampledPeakMb = 0;
  const peakRss = (): number => {
    sampledPeakMb = Math.max(sampledPeakMb, process.memoryUsage.rss() / 1024 / 1024);
    try {
      const match = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'));
      if (match !== null) return Number(match[1]) / 1024;
    } catch {
      // not Linux: the sampled peak
    }
    return sampledPeakMb;
  };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const sample = (): ProbeSample => {
    const cpu = process.cpuUsage();
    return {
      type: 'sample',
      records: count(),
      cpuMs: (cpu.user + cpu.system) / 1000,
      rssMb: process.memoryUsage.rss() / 1024 / 1024,
      peakRssMb: peakRss(),
      loopDelayP99Ms: delay.percentile(99) / 1e6,
      loopDelayMaxMs: delay.max / 1e6,
      at: Date.now(),
    };
  };
  const timer = setInterval(() => send(sample()), intervalMs);
  timer.unref();
  process.on('message', (message: unknown) => {
    if (message === 'reset') delay.reset();
    if (message === 'sample') send(sample());
  });
  process.channel?.unref();
}
