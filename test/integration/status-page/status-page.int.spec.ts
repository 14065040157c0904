/**
 * The live status page in headless Chromium (Debian's package, driven by playwright-core), served with a mutable
 * snapshot by a tiny node:http server: the per-shard table, the lag chart, readiness and its reasons, refreshing by
 * itself, strings from the snapshot shown as text, the "disconnected" banner, a phone screen and a path prefix.
 * Screenshots go to artifacts/ (gitignored).
 */
import { existsSync, mkdirSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { renderStatusPage } from '../../../src/metrics/status-page';
import { type LagSample, type ShardStatus, type StatusSnapshot } from '../../../src/metrics/status-snapshot';

jest.setTimeout(90_000);

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(__dirname, '../../../artifacts');
const REFRESH_MS = 400;
const SEQ = '49650145553311445788392741856323612658245683936217792514';
const INJECTION = '<img src=x onerror="window.__injected=1"><b id="injected">bold</b> & "quotes"';

/** A backlog being worked off: 5 minutes of samples every 5 s, from 2 min of lag down to 800 ms. */
function lagHistory(now: number, count = 60): LagSample[] {
  return Array.from({ length: count }, (_, i) => ({ t: now - (count - 1 - i) * 5_000, maxMillisBehindLatest: Math.round(120_000 * (1 - i / (count - 1)) ** 2) + 800 }));
}

function shard(id: number, overrides: Partial<ShardStatus> = {}): ShardStatus {
  return {
    shardId: `shardId-00000000000${id}`,
    state: 'open',
    checkpoint: `${SEQ.slice(0, -1)}${id}`,
    millisBehindLatest: 800 + id * 1_000,
    recordsPerSecond: 125.4 + id,
    recordsTotal: 12_345 + id,
    lastBatchAt: new Date(Date.now() - 3_000).toISOString(),
    ...overrides,
  };
}

function healthySnapshot(): StatusSnapshot {
  const now = Date.now();
  return {
    generatedAt: new Date(now).toISOString(),
    ready: { status: 'ok', reasons: [] },
    applications: [
      { application: 'orders-app', stream: 'orders', source: 'polling', shards: [shard(0), shard(1, { millisBehindLatest: 65_000, recordsPerSecond: 3.25 })], lagHistory: lagHistory(now) },
    ],
  };
}

interface StatusServer {
  readonly url: string;
  /** The snapshot the next `GET status.json` answers with. */
  snapshot: StatusSnapshot;
  /** When set, `GET status.json` answers with this HTTP status and no snapshot. */
  failWith: number | undefined;
  readonly requests: string[];
  close(): Promise<void>;
}

async function startStatusServer(prefix = '/'): Promise<StatusServer> {
  const page = renderStatusPage({ refreshMs: REFRESH_MS });
  const requests: string[] = [];
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    if (req.url === prefix) {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(page);
    } else if (req.url === `${prefix}status.json`) {
      if (state.failWith !== undefined) res.writeHead(state.failWith, { 'content-type': 'text/plain' }).end('broken');
      else res.writeHead(200, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(JSON.stringify(state.snapshot));
    } else {
      res.writeHead(404).end();
    }
  });
  const state: StatusServer = {
    url: '',
    snapshot: healthySnapshot(),
    failWith: undefined,
    requests,
    close: () => new Promise<void>((done) => server.close(() => done())),
  };
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  return Object.assign(state, { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}${prefix}` });
}

/** Collects what would show in the browser console as an error (a CSP violation, an exception in the page). */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    // A failed status.json (the 500 test) is logged by Chromium as a resource error: expected there, not a page fault.
    if (message.type() === 'error' && !/status\.json|status of 500/.test(`${message.text()} ${message.location().url}`)) errors.push(message.text());
  });
  return errors;
}

const row = (page: Page, shardId: string) => page.locator(`tr[data-shard="${shardId}"]`);
const cell = (page: Page, shardId: string, field: string) => row(page, shardId).locator(`[data-field="${field}"]`);

describe('status page in headless Chromium', () => {
  let browser: Browser;
  let server: StatusServer;

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} not found: run \`bash scripts/setup.sh\` (or apt-get install chromium)`);
    mkdirSync(ARTIFACTS, { recursive: true });
    // playwright's launch() gives Chromium a fresh temporary profile (user-data-dir) and deletes it on close.
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
  });

  beforeEach(async () => {
    server = await startStatusServer();
  });

  afterEach(async () => {
    await server?.close();
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('shows readiness, one row per shard with its values, and a lag chart with one point per sample', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(server.url);
    await row(page, 'shardId-000000000001').waitFor();

    expect(await page.locator('#ready').getAttribute('data-status')).toBe('ok');
    expect(await page.locator('#ready').textContent()).toBe('ready');
    expect(await page.locator('#ready-reasons').isVisible()).toBe(false);
    expect(await page.locator('#banner').isVisible()).toBe(false);
    const app = page.locator('section.app[data-application="orders-app"][data-stream="orders"][data-source="polling"]');
    expect(await app.count()).toBe(1);
    expect(await app.locator('tbody tr').count()).toBe(2);

    expect(await cell(page, 'shardId-000000000000', 'state').textContent()).toBe('open');
    expect(await cell(page, 'shardId-000000000000', 'checkpoint').textContent()).toBe(`${SEQ.slice(0, -1)}0`);
    expect(await cell(page, 'shardId-000000000000', 'lag').textContent()).toBe('800 ms');
    expect(await cell(page, 'shardId-000000000001', 'lag').textContent()).toBe('1.1 min');
    expect(await cell(page, 'shardId-000000000001', 'lag').getAttribute('data-ms')).toBe('65000');
    expect(await cell(page, 'shardId-000000000000', 'recordsPerSecond').textContent()).toBe('125');
    expect(await cell(page, 'shardId-000000000001', 'recordsPerSecond').textContent()).toBe('3.3');
    expect(await cell(page, 'shardId-000000000000', 'recordsTotal').textContent()).toBe('12,345');
    expect(await cell(page, 'shardId-000000000000', 'lastBatchAt').textContent()).toMatch(/^\d s ago$/);
    expect(await cell(page, 'shardId-000000000000', 'lastError').textContent()).toBe('none');
    expect(await app.locator('.summary').textContent()).toBe('2 shards · 2 open · max lag 1.1 min');

    const points = (await page.locator('#lag-chart polyline').getAttribute('points'))?.trim().split(/\s+/) ?? [];
    expect(points).toHaveLength(60);
    expect(await page.locator('#lag-chart').getAttribute('data-points')).toBe('60');
    // The line falls: the first point (2 min of lag) is higher on screen (smaller y) than the last (800 ms).
    const ys = points.map((p) => Number(p.split(',')[1]));
    expect(ys[0]).toBeLessThan(ys[59]!);
    const yLabels = await page.locator('#lag-chart text.y-label').allTextContents();
    expect(yLabels[0]).toBe('0 ms');
    expect(yLabels).toContain('2 min');
    const xLabels = await page.locator('#lag-chart text.x-label').allTextContents();
    expect(xLabels[0]).toBe('now');
    expect(xLabels).toEqual(['now', '−1 min', '−2 min', '−3 min', '−4 min']);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-laptop.png'), fullPage: true });
    expect(errors).toEqual([]);
    await page.close();
  });

  it('refreshes by itself: a changed snapshot shows without a reload', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
    await cell(page, 'shardId-000000000000', 'recordsTotal').getByText('12,345').waitFor();
    const updatesBefore = Number(await page.evaluate('document.body.dataset.updates'));
    // A refresh updates the page in place: unchanged elements (a checkpoint someone is selecting) stay the same nodes.
    await page.evaluate(`document.querySelector('tr[data-shard="shardId-000000000001"] code').marked = 'yes'`);
    const now = Date.now();
    server.snapshot = {
      ...healthySnapshot(),
      applications: [
        {
          ...healthySnapshot().applications[0]!,
          shards: [shard(0, { recordsTotal: 98_765, millisBehindLatest: 0 }), shard(1), shard(2)],
          lagHistory: [...lagHistory(now), { t: now + 1, maxMillisBehindLatest: 0 }],
        },
      ],
    };
    await cell(page, 'shardId-000000000000', 'recordsTotal').getByText('98,765').waitFor({ timeout: 5_000 });
    expect(await cell(page, 'shardId-000000000000', 'lag').textContent()).toBe('0 ms');
    expect(await row(page, 'shardId-000000000002').count()).toBe(1);
    expect(await page.locator('#lag-chart').getAttribute('data-points')).toBe('61');
    expect(Number(await page.evaluate('document.body.dataset.updates'))).toBeGreaterThan(updatesBefore);
    expect(await page.evaluate(`document.querySelector('tr[data-shard="shardId-000000000001"] code').marked`)).toBe('yes');
    await page.close();
  });

  it('shows a stopped shard with its error, a closed shard with its reason, and why it is not ready', async () => {
    const failedAt = new Date(Date.now() - 12_000).toISOString();
    server.snapshot = {
      ...healthySnapshot(),
      ready: { status: 'error', reasons: ['shard shardId-000000000001 stopped: handler failed 5 times', 'lag 65000 ms over the 30000 ms threshold'] },
      applications: [
        {
          ...healthySnapshot().applications[0]!,
          shards: [
            shard(0, { state: 'closed', closedReason: 'shardEnded', checkpoint: 'SHARD_END', millisBehindLatest: 0, recordsPerSecond: 0 }),
            shard(1, { state: 'stopped', lastError: { message: 'HandlerError: OrdersConsumer.handle failed 5 times on shardId-000000000001', at: failedAt } }),
            shard(2, { lastBatchAt: undefined, checkpoint: undefined, millisBehindLatest: undefined, recordsPerSecond: 0, recordsTotal: 0 }),
          ],
        },
      ],
    };
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
    await row(page, 'shardId-000000000001').waitFor();

    expect(await page.locator('#ready').getAttribute('data-status')).toBe('error');
    expect(await page.locator('#ready').textContent()).toBe('not ready');
    expect(await page.locator('#ready-reasons li').allTextContents()).toEqual([
      'shard shardId-000000000001 stopped: handler failed 5 times',
      'lag 65000 ms over the 30000 ms threshold',
    ]);
    expect(await page.locator('#ready-reasons').isVisible()).toBe(true);
    expect(await row(page, 'shardId-000000000001').getAttribute('data-state')).toBe('stopped');
    expect(await cell(page, 'shardId-000000000001', 'state').textContent()).toBe('stopped');
    expect(await cell(page, 'shardId-000000000001', 'lastError').locator('.error-message').textContent()).toBe(
      'HandlerError: OrdersConsumer.handle failed 5 times on shardId-000000000001',
    );
    expect(await cell(page, 'shardId-000000000001', 'lastError').locator('.muted').textContent()).toMatch(/^1\d s ago$/);
    expect(await cell(page, 'shardId-000000000001', 'lastError').locator('.muted').getAttribute('title')).toBe(failedAt);
    expect(await cell(page, 'shardId-000000000000', 'state').textContent()).toBe('closedshardEnded');
    expect(await cell(page, 'shardId-000000000000', 'state').locator('.reason').textContent()).toBe('shardEnded');
    expect(await cell(page, 'shardId-000000000002', 'lastBatchAt').textContent()).toBe('never');
    expect(await cell(page, 'shardId-000000000002', 'checkpoint').textContent()).toBe('none');
    expect(await cell(page, 'shardId-000000000002', 'lag').textContent()).toBe('–');
    // The stopped state stands out: its badge is not the neutral grey of a closed one.
    const colours = await page.evaluate<string[]>(
      `['open', 'closed', 'stopped'].map((s) => getComputedStyle(document.querySelector('.state[data-state="' + s + '"]')).backgroundColor)`,
    );
    expect(new Set(colours).size).toBe(3);
    expect(await page.locator('section.app .summary').textContent()).toBe('3 shards · 1 open · 1 closed · 1 stopped · max lag –');
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-not-ready.png'), fullPage: true });
    await page.close();
  });

  it('shows HTML from the snapshot as text, never as markup', async () => {
    server.snapshot = {
      ...healthySnapshot(),
      ready: { status: 'error', reasons: [`stopped: ${INJECTION}`] },
      applications: [
        {
          application: `<script>window.__injected=2</script>app`,
          stream: '<i id="injected-stream">s</i>',
          source: 'memory',
          shards: [shard(0, { shardId: '<b id="injected-shard">x</b>', state: 'stopped', lastError: { message: INJECTION, at: new Date().toISOString() } })],
          lagHistory: [],
        },
      ],
    };
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    const errors = watchErrors(page);
    await page.goto(server.url);
    await page.locator('tr[data-state="stopped"]').waitFor();
    expect(await page.locator('td[data-field="lastError"] .error-message').textContent()).toBe(INJECTION);
    expect(await page.locator('#ready-reasons li').textContent()).toBe(`stopped: ${INJECTION}`);
    expect(await page.locator('section.app .app-name').textContent()).toBe('<script>window.__injected=2</script>app');
    expect(await page.locator('section.app').getAttribute('data-application')).toBe('<script>window.__injected=2</script>app');
    expect(await page.locator('th[data-field="shardId"]').textContent()).toBe('<b id="injected-shard">x</b>');
    expect(await page.locator('#injected, #injected-stream, #injected-shard, main img, main b, main i, main script').count()).toBe(0);
    expect(await page.evaluate('window.__injected')).toBeUndefined();
    // No samples yet: the chart says so instead of drawing a line.
    expect(await page.locator('#lag-chart polyline').count()).toBe(0);
    expect(await page.locator('#lag-chart text.no-data').textContent()).toBe('no lag samples yet');
    expect(errors).toEqual([]);
    await page.close();
  });

  it('shows a "disconnected, retrying" banner while status.json fails, and clears it when the server recovers', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
    await row(page, 'shardId-000000000000').waitFor();
    server.failWith = 500;
    await page.locator('#banner').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await page.locator('#banner').textContent()).toMatch(/^Disconnected \(HTTP 500\), retrying every 400 ms…/);
    // The readiness shown before is no longer known.
    expect(await page.locator('#ready').getAttribute('data-status')).toBe('unknown');
    expect(await page.evaluate('document.body.dataset.connection')).toBe('disconnected');
    // The last figures stay on the page (dimmed) while it retries.
    expect(await row(page, 'shardId-000000000000').count()).toBe(1);
    const requestsWhileFailing = server.requests.filter((r) => r.endsWith('status.json')).length;
    await page.waitForTimeout(REFRESH_MS * 3);
    expect(server.requests.filter((r) => r.endsWith('status.json')).length).toBeGreaterThan(requestsWhileFailing);
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-disconnected.png') });
    server.failWith = undefined;
    await page.locator('#banner').waitFor({ state: 'hidden', timeout: 5_000 });
    expect(await page.evaluate('document.body.dataset.connection')).toBe('ok');
    expect(await page.locator('#ready').getAttribute('data-status')).toBe('ok');
    await page.close();
  });

  it('says "disconnected" when the server is gone altogether, and keeps retrying', async () => {
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    await page.goto(server.url);
    await row(page, 'shardId-000000000000').waitFor();
    await server.close();
    await page.locator('#banner').waitFor({ state: 'visible', timeout: 5_000 });
    expect(await page.locator('#banner').textContent()).toMatch(/^Disconnected \(server unreachable\), retrying/);
    await page.close();
  });

  it('fits a phone screen without horizontal scrolling, with a readable chart', async () => {
    const context = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
    const page = await context.newPage();
    await page.goto(server.url);
    await row(page, 'shardId-000000000001').waitFor();
    expect(Number(await page.evaluate('document.documentElement.scrollWidth'))).toBeLessThanOrEqual(390);
    const chart = await page.locator('#lag-chart').boundingBox();
    expect(chart!.x + chart!.width).toBeLessThanOrEqual(390);
    expect(chart!.width).toBeGreaterThan(300);
    // Drawn at its on-screen size, not scaled down: the axis labels keep their 11 px.
    const label = await page.locator('#lag-chart text.y-label').first().boundingBox();
    expect(label!.height).toBeGreaterThanOrEqual(10);
    for (const r of await page.locator('tbody tr').all()) {
      const box = await r.boundingBox();
      expect(box!.x + box!.width).toBeLessThanOrEqual(390 + 1);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'status-page-phone.png'), fullPage: true });
    await context.close();
  });

  it('works behind a path prefix: status.json is fetched relative to the page', async () => {
    const prefixed = await startStatusServer('/ops/shardline/');
    try {
      const page = await browser.newPage();
      await page.goto(prefixed.url);
      await row(page, 'shardId-000000000000').waitFor();
      expect(prefixed.requests).toContain('/ops/shardline/status.json');
      expect(prefixed.requests.filter((r) => r === '/status.json')).toEqual([]);
      await page.close();
    } finally {
      await prefixed.close();
    }
  });
});
