import { startDashboard, type Dashboard, type TreemapResponse } from '../../../examples/dashboard/dashboard-server';
import { FakeRedis } from './fake-redis';
import { addCounts } from '../../../examples/flights-redis/redis-keys';

async function seed(redis: FakeRedis, counts: Record<string, number>, invalid = 0): Promise<void> {
  await addCounts(redis.multi(), new Map(Object.entries(counts)), invalid).exec();
}

describe('dashboard server (mocked Redis)', () => {
  let dashboard: Dashboard | undefined;
  afterEach(async () => {
    await dashboard?.close();
    dashboard = undefined;
  });

  it('serves a responsive page with no external resources', async () => {
    dashboard = await startDashboard({ redis: new FakeRedis(), port: 0, refreshMs: 2000 });
    const response = await fetch(dashboard.url);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toContain('text/html');
    const html = await response.text();
    expect(html).toContain('<meta name="viewport" content="width=device-width, initial-scale=1">');
    expect(html).toContain('var REFRESH_MS = 2000;');
    expect(html).not.toMatch(/(src|href)=["']?https?:/);
  });

  it('lays out the Redis counters as a treemap of the requested size, with airport names', async () => {
    const redis = new FakeRedis();
    await seed(redis, { LAX: 60, SFO: 30, XYZ: 10 }, 4);
    const names: Record<string, string> = { LAX: 'Los Angeles Intl', SFO: 'San Francisco Intl' };
    dashboard = await startDashboard({ redis, port: 0, airportName: (code) => names[code] });
    const body = (await (await fetch(`${dashboard.url}api/treemap?width=400&height=300`)).json()) as TreemapResponse;
    expect(body.total).toBe(100);
    expect(body.invalid).toBe(4);
    expect(body.tiles.map((t) => [t.dest, t.name, t.count])).toEqual([
      ['LAX', 'Los Angeles Intl', 60],
      ['SFO', 'San Francisco Intl', 30],
      ['XYZ', 'XYZ', 10],
    ]);
    const areas = body.tiles.map((t) => t.width * t.height);
    expect(areas[0]! / (400 * 300)).toBeCloseTo(0.6, 2);
    expect(areas[2]! / (400 * 300)).toBeCloseTo(0.1, 2);

    await seed(redis, { XYZ: 80 });
    const after = (await (await fetch(`${dashboard.url}api/treemap?width=400&height=300`)).json()) as TreemapResponse;
    expect(after.tiles[0]).toMatchObject({ dest: 'XYZ', count: 90 });
  });

  it('answers 503 with the reason when Redis is unreachable, and 404/405 for the rest', async () => {
    const redis = new FakeRedis();
    redis.smembers = async () => {
      throw new Error('connect ECONNREFUSED 127.0.0.1:6379');
    };
    dashboard = await startDashboard({ redis, port: 0 });
    const failed = await fetch(`${dashboard.url}api/treemap`);
    expect(failed.status).toBe(503);
    expect(await failed.json()).toEqual({ error: 'cannot read the counters from Redis: connect ECONNREFUSED 127.0.0.1:6379' });
    expect((await fetch(`${dashboard.url}nope`)).status).toBe(404);
    expect((await fetch(dashboard.url, { method: 'POST' })).status).toBe(405);
  });
});
