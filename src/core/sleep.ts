/** Waits `ms` milliseconds on a real (or jest-faked) timer. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Capped exponential backoff with full jitter: a random delay in [0, min(cap, base * 2^attempt)]. */
export function backoffWithJitter(attempt: number, baseMs: number, capMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(capMs, baseMs * 2 ** attempt);
  return Math.round(ceiling * random());
}
