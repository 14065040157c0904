import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { kinesaliteEndpoint, TEST_PORT_BASE } from '../../harness/endpoints';
import { isPortOpen } from '../../harness/services';
import { createStream, localKinesis, makeRecords, putRecords, tempDir, uniqueName, waitFor } from '../polling/polling-test-kit';

/**
 * A real Prometheus (Debian's package) scrapes a polling consumer (the built CLI, kinesalite, a backlog) through
 * `--metrics-port`; its HTTP query API must show every record counted and the largest lag back at 0. The same run
 * writes CloudWatch EMF lines to a file, whose RecordsProcessed add up to the backlog too.
 */
jest.setTimeout(180_000);

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const PROMETHEUS = '/usr/bin/prometheus';
const METRICS_PORT = TEST_PORT_BASE + 81;
const PROMETHEUS_PORT = TEST_PORT_BASE + 82;
const BACKLOG = 3_000;

interface QueryResult {
  status: string;
  data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
}

/** The first value of a PromQL query, or undefined (no series yet, or Prometheus not answering yet). */
async function query(promql: string): Promise<number | undefined> {
  try {
    const response = await fetch(`http://127.0.0.1:${PROMETHEUS_PORT}/api/v1/query?query=${encodeURIComponent(promql)}`);
    const body = (await response.json()) as QueryResult;
    const value = body.data.result[0]?.value[1];
    return value === undefined ? undefined : Number(value);
  } catch {
    return undefined;
  }
}

function stop(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
  if (child === undefined || child.exitCode !== null) return Promise.resolve(child?.exitCode ?? null);
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
    child.kill(signal);
  });
}

describe('metrics scraped by a real Prometheus', () => {
  let prometheus: ChildProcess | undefined;
  let consumer: ChildProcess | undefined;

  beforeAll(() => {
    if (!existsSync(PROMETHEUS)) throw new Error(`${PROMETHEUS} not found: run \`bash scripts/setup.sh\` (it installs Debian's prometheus package)`);
    if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: this test runs bin/shardline.js');
  });

  afterAll(async () => {
    await stop(consumer, 'SIGKILL');
    await stop(prometheus);
  });

  it('counts every record of a backlog and sees the max lag fall to 0; EMF lines add up too', async () => {
    const client = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('prom');
    await createStream(client, stream, 4);
    await putRecords(client, stream, makeRecords('p', BACKLOG, 16));
    client.destroy();

    const dir = tempDir('shardline-prometheus-');
    const emfFile = join(dir, 'emf.log');
    const out = join(dir, 'ids.txt');
    consumer = spawn(
      process.execPath,
      [CLI, 'run', join(ROOT, 'test/integration/polling/fixtures/dev.consumer.ts'), '--adapter', 'polling', '--endpoint', kinesaliteEndpoint(), '--region', 'us-east-1',
        '--from', 'trim-horizon', '--checkpoints', `file:${join(dir, 'checkpoints')}`, '--metrics-port', String(METRICS_PORT), '--metrics-emf', emfFile, '--log-level', 'warn'],
      { cwd: dir, env: { ...process.env, SHARDLINE_IT_STREAM: stream, SHARDLINE_IT_OUT: out, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test' }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    consumer.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    await waitFor(() => isPortOpen(METRICS_PORT), 30_000, () => `the consumer's metrics port never opened; stderr: ${stderr}`);

    const config = join(dir, 'prometheus.yml');
    writeFileSync(config, `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: shardline\n    static_configs:\n      - targets: ['127.0.0.1:${METRICS_PORT}']\n`);
    mkdirSync(join(dir, 'tsdb'));
    prometheus = spawn(PROMETHEUS, [`--config.file=${config}`, `--storage.tsdb.path=${join(dir, 'tsdb')}`, `--web.listen-address=127.0.0.1:${PROMETHEUS_PORT}`], { stdio: ['ignore', 'ignore', 'pipe'] });
    let prometheusLog = '';
    prometheus.stderr?.on('data', (d: Buffer) => (prometheusLog += d.toString()));
    await waitFor(() => isPortOpen(PROMETHEUS_PORT), 30_000, () => `Prometheus did not start: ${prometheusLog.slice(-2_000)}`);

    const counted = `sum(shardline_records_total{stream="${stream}"})`;
    let seen: number | undefined;
    await waitFor(
      async () => (seen = await query(counted)) === BACKLOG,
      90_000,
      () => `Prometheus saw ${seen} of ${BACKLOG} records; consumer stderr: ${stderr.slice(-2_000)}`,
    );
    let lag: number | undefined;
    await waitFor(async () => (lag = await query(`max(shardline_behind_latest_max_seconds{stream="${stream}"})`)) === 0, 60_000, () => `max lag stayed at ${lag}`);
    expect(await query(`sum(shardline_shards_owned{stream="${stream}"})`)).toBe(4);
    expect(await query(`sum(shardline_checkpoints_total{stream="${stream}",result="ok"})`)).toBeGreaterThan(0);
    expect(await query(`sum(shardline_errors_total{stream="${stream}"})`)).toBe(0);
    expect(await query('up{job="shardline"}')).toBe(1);
    expect(await query(`sum(shardline_get_records_total{stream="${stream}",result="ok"})`)).toBeGreaterThanOrEqual(4);

    const ready = await fetch(`http://127.0.0.1:${METRICS_PORT}/readyz`);
    expect(ready.status).toBe(200);
    const page = await fetch(`http://127.0.0.1:${METRICS_PORT}/`);
    expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
    expect(await page.text()).toContain('status.json');
    const status = (await (await fetch(`http://127.0.0.1:${METRICS_PORT}/status.json`)).json()) as { applications: Array<{ stream: string; shards: unknown[] }> };
    expect(status.applications.find((a) => a.stream === stream)?.shards).toHaveLength(4);

    expect(await stop(consumer)).toBe(0);
    const emf = readFileSync(emfFile, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    const recordsProcessed = emf.filter((e) => e['ShardId'] !== undefined).reduce((n, e) => n + Number(e['RecordsProcessed'] ?? 0), 0);
    expect(recordsProcessed).toBe(BACKLOG);
    expect(new Set(readFileSync(out, 'utf8').trim().split('\n')).size).toBe(BACKLOG);
  });
});
