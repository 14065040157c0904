/** A timer scheduled on a {@link LeaseClock}. */
export interface LeaseTimer {
  cancel(): void;
}

/**
 * The coordinator's only source of time: a monotonic clock in milliseconds and one-shot timers. Real processes use
 * {@link systemLeaseClock}; the simulation injects a fake clock so that a run is deterministic.
 */
export interface LeaseClock {
  /** Monotonic milliseconds (never wall-clock time: lease expiry must not depend on clock skew or NTP steps). */
  now(): number;
  /** Runs `callback` once after `delayMs`. */
  setTimer(callback: () => void, delayMs: number): LeaseTimer;
}

/** `performance.now()` and `setTimeout`. */
export const systemLeaseClock: LeaseClock = {
  now: () => performance.now(),
  setTimer: (callback, delayMs) => {
    const handle = setTimeout(callback, Math.max(0, delayMs));
    return { cancel: () => clearTimeout(handle) };
  },
};

/** Resolves after `delayMs` on `clock`. */
export function sleepOn(clock: LeaseClock, delayMs: number): Promise<void> {
  return new Promise((resolve) => {
    clock.setTimer(resolve, delayMs);
  });
}
