/**
 * The flights dashboard in headless Chromium (Debian's package, driven by playwright-core) against a real Redis:
 * the treemap renders with airport names, sized by count, refreshes by itself when the counters change, and fits a
 * phone screen. Screenshots go to artifacts/ (gitignored).
 */
import Redis from 'ioredis';
import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { airportName } from '../../../examples/dashboard/airport-names';
import { startDashboard, type Dashboard } from '../../../examples/dashboard/dashboard-server';
import { redisUrl } from '../../harness/endpoints';
import { addCounts } from '../../../examples/flights-redis/redis-keys';

jest.setTimeout(90_000);

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../../artifacts');
const REDIS_DB = 8;

async function addFlights(redis: Redis, counts: Record<string, number>): Promise<void> {
  await addCounts(redis.multi(), new Map(Object.entries(counts))).exec();
}

async function tileArea(page: Page, dest: string): Promise<number> {
  const box = await page.locator(`.tile[data-dest="${dest}"]`).boundingBox();
  if (box === null) throw new Error(`no tile for ${dest}`);
  return box.width * box.height;
}

describe('flights dashboard in headless Chromium', () => {
  let redis: Redis;
  let dashboard: Dashboard;
  let browser: Browser;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash scripts/setup.sh\` (or apt-get install chromium)`);
    const url = new URL(redisUrl());
    url.pathname = `/${REDIS_DB}`;
    redis = new Redis(url.toString());
    await redis.flushdb();
    dashboard = await startDashboard({ redis: url.toString(), port: 0, airportName });
    mkdirSync(ARTIFACTS, { recursive: true });
    // playwright's launch() gives Chromium a fresh temporary profile (user-data-dir) and deletes it on close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
  });

  afterAll(async () => {
    await browser?.close();
    await dashboard?.close();
    await redis?.quit();
  });

  it('shows an empty state before any flight was counted', async () => {
    const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
    await page.goto(dashboard.url);
    await page.locator('#empty').waitFor({ state: 'visible' });
    await page.locator('#status', { hasText: 'updated' }).waitFor();
    expect(await page.locator('.tile').count()).toBe(0);
    await page.close();
  });

  it('renders the treemap with airport names, sized by count, and follows the counters every 2 s', async () => {
    await addFlights(redis, { ATL: 500, LAX: 300, ORD: 150, BOS: 50 });
    const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
    await page.goto(dashboard.url);
    await page.locator('.tile[data-dest="ATL"]').waitFor();

    const atl = page.locator('.tile[data-dest="ATL"]');
    expect(await atl.getAttribute('data-count')).toBe('500');
    const atlName = airportName('ATL');
    expect(atlName).toBeDefined();
    expect(atlName).not.toBe('ATL');
    await expect(atl.locator('.name').textContent()).resolves.toBe(atlName);
    await expect(page.locator('.tile[data-dest="LAX"] .name').textContent()).resolves.toBe(airportName('LAX'));
    expect(await page.locator('#total').textContent()).toBe('1,000');
    expect(await page.locator('.tile').count()).toBe(4);
    expect(await page.locator('#empty').isVisible()).toBe(false);

    // Areas proportional to the counts (within the rounding of the layout).
    const areas = { ATL: await tileArea(page, 'ATL'), LAX: await tileArea(page, 'LAX'), BOS: await tileArea(page, 'BOS') };
    expect(areas.ATL / areas.LAX).toBeCloseTo(500 / 300, 1);
    expect(areas.ATL / areas.BOS).toBeCloseTo(10, 0);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-laptop-before.png') });

    // The counters move: the page picks it up on its own within a refresh or two.
    const updatesBefore = Number(await page.evaluate('document.body.dataset.updates'));
    await addFlights(redis, { SFO: 1_500, BOS: 10 });
    await page.locator('.tile[data-dest="SFO"][data-count="1500"]').waitFor({ timeout: 6_000 });
    expect(await page.locator('.tile[data-dest="BOS"]').getAttribute('data-count')).toBe('60');
    expect(await page.locator('#total').textContent()).toBe('2,510');
    expect(Number(await page.evaluate('document.body.dataset.updates'))).toBeGreaterThan(updatesBefore);
    await page.waitForTimeout(700); // let the tiles' transition finish before measuring
    expect((await tileArea(page, 'SFO')) / (await tileArea(page, 'ATL'))).toBeCloseTo(3, 1);
    await expect(page.locator('.tile[data-dest="SFO"] .name').textContent()).resolves.toBe(airportName('SFO'));
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-laptop-after.png') });
    await page.close();
  });

  it('fits a phone screen without horizontal scrolling', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(dashboard.url);
    await page.locator('.tile[data-dest="SFO"]').waitFor();
    const scrollWidth = Number(await page.evaluate('document.documentElement.scrollWidth'));
    expect(scrollWidth).toBeLessThanOrEqual(390);
    for (const tile of await page.locator('.tile').all()) {
      const box = await tile.boundingBox();
      expect(box).not.toBeNull();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390 + 1);
    }
    const sfo = await page.locator('.tile[data-dest="SFO"]').boundingBox();
    expect(sfo!.width).toBeGreaterThan(150);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-phone.png') });
    await context.close();
  });

  it('says so on the page when the counters cannot be read', async () => {
    const broken = await startDashboard({ redis: 'redis://127.0.0.1:1/0', port: 0, refreshMs: 500 });
    try {
      const page = await browser.newPage({ viewport: { width: 800, height: 600 } });
      await page.goto(broken.url);
      await page.locator('#status.stale').waitFor({ timeout: 10_000 });
      expect(await page.locator('#status').textContent()).toMatch(/cannot reach the counters \(HTTP 503\)/);
      await page.close();
    } finally {
      await broken.close();
    }
  });
});
