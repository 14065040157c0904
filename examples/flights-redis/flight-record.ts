import { type KinesisRecord } from 'shardline';

/** What the consumer reads from a flight record: its destination airport code, upper-cased. */
export interface ParsedFlight {
  readonly ok: true;
  readonly dest: string;
}

/** A record that is not a flight, and why. */
export interface InvalidFlight {
  readonly ok: false;
  readonly reason: string;
}

/** IATA (3) or ICAO (4) airport code: letters and digits only, so that it is safe in a Redis key. */
const AIRPORT_CODE = /^[A-Z0-9]{3,4}$/;

/**
 * Reads a flight record: a JSON object with a `dest` airport code, such as `{"dest":"LAX","carrier":"UA",…}`. A one-row
 * JSON array (`[{"dest":"LAX",…}]`, what R's `jsonlite::toJSON(flight)` wrote in the seed talk) is accepted too.
 * Never throws: anything else is an {@link InvalidFlight} with the reason.
 */
export function parseFlight(record: KinesisRecord): ParsedFlight | InvalidFlight {
  let value: unknown;
  try {
    value = JSON.parse(record.data.toString('utf8'));
  } catch {
    return { ok: false, reason: 'not JSON' }; // also a payload that is not valid base64 (RecordDecodeError)
  }
  if (Array.isArray(value) && value.length === 1) value = value[0];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return { ok: false, reason: 'not a JSON object' };
  const dest = (value as Record<string, unknown>).dest;
  if (dest === undefined || dest === null) return { ok: false, reason: 'no "dest" field' };
  if (typeof dest !== 'string') return { ok: false, reason: '"dest" is not a string' };
  const code = dest.trim().toUpperCase();
  if (!AIRPORT_CODE.test(code)) return { ok: false, reason: `"dest" ${JSON.stringify(dest.slice(0, 16))} is not an airport code` };
  return { ok: true, dest: code };
}
