import { AIRPORTS, FLIGHTS_TABLE, makeFlight, produce, type FlightRecord } from './flights-producer';

describe('flights example producer', () => {
  it('ships a table of real NYC origins and destinations with names and time zones', () => {
    expect(['JFK', 'LGA', 'EWR'].map((c) => AIRPORTS.get(c)?.name)).toEqual(['John F Kennedy Intl', 'La Guardia', 'Newark Liberty Intl']);
    expect(FLIGHTS_TABLE.airports.length).toBeGreaterThanOrEqual(40);
    expect(AIRPORTS.get('LAX')).toMatchObject({ name: 'Los Angeles Intl', tz: 'America/Los_Angeles' });
    for (const route of FLIGHTS_TABLE.routes) {
      expect(['JFK', 'LGA', 'EWR']).toContain(route.origin);
      expect(AIRPORTS.has(route.dest)).toBe(true);
    }
  });

  it('builds seed-shaped records with local times', () => {
    const route = FLIGHTS_TABLE.routes.find((r) => r.dest === 'LAX')!;
    const flight = makeFlight(route, new Date('2026-01-15T12:00:00Z'), () => 0.5);
    expect(flight).toMatchObject({ year: 2026, month: 1, day: 15, dest: 'LAX', carrier: route.carrier, sched_dep_time: route.sched_dep_time, dep_delay: -5 + 8 });
    // Departure is origin-local, arrival destination-local (3 hours behind New York).
    const dep = Math.floor(flight.dep_time / 100) * 60 + (flight.dep_time % 100);
    const arr = Math.floor(flight.arr_time / 100) * 60 + (flight.arr_time % 100);
    expect((arr - dep + 1440 * 2) % 1440).toBe((flight.air_time + 15 - 180 + 1440) % 1440);
  });

  it('sends records partitioned by destination at the requested count', async () => {
    const sent: [FlightRecord, string][] = [];
    const n = await produce(async (data, key) => void sent.push([data as FlightRecord, key]), new AbortController().signal, { ratePerSecond: 1000, count: 25 });
    expect(n).toBe(25);
    expect(sent).toHaveLength(25);
    for (const [record, key] of sent) expect(key).toBe(record.dest);
  });

  it('stops when the signal aborts', async () => {
    const abort = new AbortController();
    setTimeout(() => abort.abort(), 50);
    const n = await produce(async () => undefined, abort.signal, { ratePerSecond: 20 });
    expect(n).toBeGreaterThan(0);
    expect(n).toBeLessThan(5);
  });
});
