import { type FlightsRedisTransaction } from './redis-client';

/**
 * The Redis keys the flights consumer writes and the dashboard reads. One counter per destination
 * (`flight:<dest>`, as in the seed talk), a set listing the destinations seen (so that readers never need `KEYS`),
 * and two totals.
 */
export const FLIGHT_KEY_PREFIX = 'flight:';

/** Set of the destination codes that have a `flight:<dest>` counter. */
export const DESTINATIONS_KEY = 'flights:destinations';

/** Number of valid flight records counted. */
export const TOTAL_KEY = 'flights:total';

/** Number of records that were not flights (not JSON, or no destination). */
export const INVALID_KEY = 'flights:invalid';

/** The counter key of one destination: `flight:LAX`. */
export function flightKey(dest: string): string {
  return `${FLIGHT_KEY_PREFIX}${dest}`;
}

/**
 * Adds one batch's counts to a transaction: each destination's counter, the set of destinations, and the totals.
 * The one place the counters are written, so the consumer and anything seeding them (tests) agree on the keys.
 */
export function addCounts(
  tx: FlightsRedisTransaction,
  perDestination: ReadonlyMap<string, number>,
  invalid = 0,
): FlightsRedisTransaction {
  let valid = 0;
  for (const [dest, n] of perDestination) {
    tx.incrby(flightKey(dest), n);
    valid += n;
  }
  if (perDestination.size > 0) tx.sadd(DESTINATIONS_KEY, ...perDestination.keys());
  if (valid > 0) tx.incrby(TOTAL_KEY, valid);
  if (invalid > 0) tx.incrby(INVALID_KEY, invalid);
  return tx;
}
