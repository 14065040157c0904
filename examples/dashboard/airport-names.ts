import { AIRPORTS } from '../flights-producer/flights-producer';

/**
 * The airport name of a code, from the flights producer's airports table (`ATL` → `Hartsfield Jackson Atlanta
 * Intl`), or undefined for a code the table does not know.
 */
export function airportName(code: string): string | undefined {
  return AIRPORTS.get(code)?.name;
}
