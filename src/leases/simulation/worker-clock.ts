import { type LeaseClock, type LeaseTimer } from '../lease-clock';

/**
 * One simulated process's view of the shared clock: it can be paused (a GC pause, a frozen container: timers and
 * responses due meanwhile run at resume, late) or killed (nothing of it ever runs again).
 */
export class WorkerClock implements LeaseClock {
  private paused = false;
  private killed = false;
  private deferred: Array<() => void> = [];

  constructor(private readonly base: LeaseClock) {}

  now(): number {
    return this.base.now();
  }

  setTimer(callback: () => void, delayMs: number): LeaseTimer {
    let cancelled = false;
    const run = (): void => {
      if (cancelled || this.killed) return;
      if (this.paused) this.deferred.push(run);
      else callback();
    };
    const timer = this.base.setTimer(run, delayMs);
    return {
      cancel: () => {
        cancelled = true;
        timer.cancel();
      },
    };
  }

  get isPaused(): boolean {
    return this.paused;
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    const due = this.deferred;
    this.deferred = [];
    for (const run of due) run();
  }

  kill(): void {
    this.killed = true;
    this.deferred = [];
  }
}
