/**
 * A small seeded pseudo-random generator (mulberry32) for the chaos scenarios: the same seed gives the same kill
 * moments, split points and fault decisions, so a failing run can be replayed with `CHAOS_SEED=<seed>`.
 */
export interface SeededRandom {
  /** The seed this generator started from (printed in test names and failure messages). */
  readonly seed: number;
  /** A number in [0, 1). */
  next(): number;
  /** An integer in [min, max] (both included). */
  int(min: number, max: number): number;
}

/** Creates a generator from a 32-bit seed. */
export function seededRandom(seed: number): SeededRandom {
  let state = seed >>> 0;
  const next = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    seed,
    next,
    int: (min, max) => min + Math.floor(next() * (max - min + 1)),
  };
}

/**
 * The seed of a scenario: `CHAOS_SEED` when set (to replay a failure), else the scenario's fixed default, so that CI
 * runs are reproducible.
 */
export function scenarioSeed(defaultSeed: number): number {
  const fromEnv = process.env['CHAOS_SEED'];
  if (fromEnv === undefined || fromEnv === '') return defaultSeed;
  const seed = Number(fromEnv);
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new Error(`CHAOS_SEED must be an integer in [0, 2^32), got "${fromEnv}"`);
  return seed;
}
