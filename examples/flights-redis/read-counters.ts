import { type FlightsRedisClient } from './redis-client';
import { DESTINATIONS_KEY, flightKey, INVALID_KEY, TOTAL_KEY } from './redis-keys';

/** A destination and its number of flights. */
export interface DestinationCount {
  readonly dest: string;
  readonly count: number;
}

/** Every counter the flights consumer keeps, read at one moment. */
export interface FlightCounters {
  /** Destinations, most flights first (ties by code). */
  readonly destinations: readonly DestinationCount[];
  /** Valid flights counted. */
  readonly total: number;
  /** Records that were not flights. */
  readonly invalid: number;
}

function toCount(value: string | null | undefined): number {
  const n = Number(value ?? 0);
  return Number.isFinite(n) ? n : 0;
}

/** Reads the counters with two round trips (`SMEMBERS`, then one `MGET`), never `KEYS`. */
export async function readCounters(redis: FlightsRedisClient): Promise<FlightCounters> {
  const codes = (await redis.smembers(DESTINATIONS_KEY)).sort();
  const values = await redis.mget(TOTAL_KEY, INVALID_KEY, ...codes.map(flightKey));
  const destinations = codes
    .map((dest, i) => ({ dest, count: toCount(values[i + 2]) }))
    .filter((d) => d.count > 0)
    .sort((a, b) => b.count - a.count || a.dest.localeCompare(b.dest));
  return { destinations, total: toCount(values[0]), invalid: toCount(values[1]) };
}
