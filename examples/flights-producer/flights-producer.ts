import flightsTable from './flights.json';

/** An airport of the shipped table: FAA code, name, position and IANA time zone. */
export interface Airport {
  readonly faa: string;
  readonly name: string;
  readonly lat: number;
  readonly lon: number;
  readonly tz: string;
}

/** A scheduled route of the shipped table. */
export interface Route {
  readonly carrier: string;
  readonly flight: number;
  readonly origin: string;
  readonly dest: string;
  /** Scheduled departure, local HHMM. */
  readonly sched_dep_time: number;
  /** Great-circle distance in miles. */
  readonly distance: number;
  /** Typical air time in minutes. */
  readonly air_time: number;
}

/** One flight record, shaped like the seed's nycflights13 rows. */
export interface FlightRecord {
  readonly year: number;
  readonly month: number;
  readonly day: number;
  /** Actual departure, local HHMM at the origin. */
  readonly dep_time: number;
  readonly sched_dep_time: number;
  readonly dep_delay: number;
  /** Actual arrival, local HHMM at the destination. */
  readonly arr_time: number;
  readonly carrier: string;
  readonly flight: number;
  readonly origin: string;
  readonly dest: string;
  readonly air_time: number;
  readonly distance: number;
  readonly time_hour: string;
}

/** The airports (3 NYC origins and their destinations), carriers and routes shipped with the example. */
export const FLIGHTS_TABLE: { readonly airports: readonly Airport[]; readonly carriers: readonly { carrier: string; name: string }[]; readonly routes: readonly Route[] } = flightsTable;

/** Airports by FAA code (the dashboard shows their names). */
export const AIRPORTS: ReadonlyMap<string, Airport> = new Map(FLIGHTS_TABLE.airports.map((a) => [a.faa, a]));

/** How `produce` sends one record: resolves once the record is accepted. */
export type PutFunction = (data: object, partitionKey: string) => Promise<unknown>;

/** Options of {@link produce}. */
export interface ProduceOptions {
  /** Records per second. Default: FLIGHTS_RATE from the environment, else 2 (the seed's pace). */
  readonly ratePerSecond?: number;
  /** Stop after this many records. Default: until the signal aborts. */
  readonly count?: number;
  /** Random numbers (tests pass a seeded one). Default Math.random. */
  readonly random?: () => number;
  /** Called after each record was accepted. */
  readonly onRecord?: (record: FlightRecord) => void;
}

const clockFormats = new Map<string, Intl.DateTimeFormat>();

function localHhmm(instant: Date, timeZone: string): number {
  let format = clockFormats.get(timeZone);
  if (format === undefined) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    clockFormats.set(timeZone, format);
  }
  const parts = format.formatToParts(instant);
  const hour = Number(parts.find((p) => p.type === 'hour')?.value ?? 0);
  const minute = Number(parts.find((p) => p.type === 'minute')?.value ?? 0);
  return hour * 100 + minute;
}

/** Builds one flight of `route` departing today (New York time), with a random delay. */
export function makeFlight(route: Route, now: Date = new Date(), random: () => number = Math.random): FlightRecord {
  const origin = AIRPORTS.get(route.origin);
  const dest = AIRPORTS.get(route.dest);
  if (origin === undefined || dest === undefined) throw new Error(`route ${route.carrier}${route.flight} names an airport missing from flights.json`);
  // Most flights leave within minutes of schedule; some are late by up to three hours.
  const delay = random() < 0.7 ? Math.round(random() * 15) - 5 : Math.round(random() * 180);
  const nyDate = new Intl.DateTimeFormat('en-CA', { timeZone: origin.tz, year: 'numeric', month: '2-digit', day: '2-digit' }).format(now);
  const [year, month, day] = nyDate.split('-').map(Number) as [number, number, number];
  const schedHour = Math.floor(route.sched_dep_time / 100);
  const schedMinute = route.sched_dep_time % 100;
  // The instant of the scheduled departure: local wall time at the origin, less the zone's offset from UTC.
  const scheduled = new Date(Date.UTC(year, month - 1, day, schedHour, schedMinute) - zoneOffsetMs(now, origin.tz));
  const departed = new Date(scheduled.getTime() + delay * 60_000);
  const airTime = Math.max(20, Math.round(route.air_time * (0.9 + random() * 0.2)));
  const arrived = new Date(departed.getTime() + (airTime + 15) * 60_000); // plus taxi time
  return {
    year,
    month,
    day,
    dep_time: localHhmm(departed, origin.tz),
    sched_dep_time: route.sched_dep_time,
    dep_delay: delay,
    arr_time: localHhmm(arrived, dest.tz),
    carrier: route.carrier,
    flight: route.flight,
    origin: route.origin,
    dest: route.dest,
    air_time: airTime,
    distance: route.distance,
    time_hour: `${nyDate} ${String(schedHour).padStart(2, '0')}:00:00`,
  };
}

/** How far the zone's wall clock is ahead of UTC at `instant`, in milliseconds. */
function zoneOffsetMs(instant: Date, timeZone: string): number {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).formatToParts(instant);
  const part = (type: Intl.DateTimeFormatPartTypes): number => Number(parts.find((p) => p.type === type)?.value ?? 0);
  const wall = Date.UTC(part('year'), part('month') - 1, part('day'), part('hour'), part('minute'));
  return wall - Math.floor(instant.getTime() / 60_000) * 60_000;
}

/**
 * Sends random flights of the shipped table, partitioned by destination (like the seed's
 * `kinesis_put_record(..., partitionKey = flight$dest)`), at `ratePerSecond` until `signal` aborts or `count`
 * records were sent. Usable by `shardline dev --produce` and by `main.ts`.
 *
 * @returns the number of records sent
 */
export async function produce(put: PutFunction, signal: AbortSignal, options: ProduceOptions = {}): Promise<number> {
  const rate = options.ratePerSecond ?? Number(process.env['FLIGHTS_RATE'] ?? 2);
  if (!(rate > 0)) throw new RangeError(`ratePerSecond must be greater than 0, got ${rate}`);
  const random = options.random ?? Math.random;
  const routes = FLIGHTS_TABLE.routes;
  const startedAt = Date.now();
  let sent = 0;
  const inFlight = new Set<Promise<unknown>>();
  while (!signal.aborted && (options.count === undefined || sent < options.count)) {
    const due = startedAt + (sent * 1000) / rate;
    const waitMs = due - Date.now();
    if (waitMs > 0) {
      await new Promise<void>((resolve) => {
        const onAbort = (): void => {
          clearTimeout(timer);
          resolve();
        };
        // Remove the abort listener when the timer fires, or every wait would leave one behind.
        const timer = setTimeout(() => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        }, waitMs);
        signal.addEventListener('abort', onAbort, { once: true });
      });
      if (signal.aborted) break;
    }
    const record = makeFlight(routes[Math.floor(random() * routes.length)]!, new Date(), random);
    sent++;
    const promise = put(record, record.dest).then(() => options.onRecord?.(record));
    inFlight.add(promise);
    void promise.finally(() => inFlight.delete(promise)).catch(() => undefined);
    // Keep at most ~1 s of records unacknowledged, so a stalled stream slows the producer down.
    if (inFlight.size > Math.max(10, rate)) await Promise.race(inFlight);
  }
  await Promise.all(inFlight);
  return sent;
}
