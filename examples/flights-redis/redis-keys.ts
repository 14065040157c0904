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
