import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { Consumer, OnRecords, exploreConsumer } from 'shardline';
import { buildKclProperties, formatKclProperties, KCL_PROPERTY_KEYS, type KclPropertiesInput } from '../../../src/kcl-daemon/kcl-properties';
import { kclTakeoverNotes, kclTakeoverSettings, KCL_TAKEOVER_PROFILES } from '../../../src/kcl-daemon/kcl-takeover-profile';

@Consumer({ streamName: 'flights', applicationName: 'flight-counter' })
class TakeoverConsumer {
  @OnRecords()
  handle(): void {}
}

const input = (extra: Partial<KclPropertiesInput> = {}): KclPropertiesInput => ({
  definition: exploreConsumer(TakeoverConsumer),
  executable: 'node bin/shardline.js run app.ts --adapter kcl',
  retrievalMode: 'POLLING',
  shutdownGraceMs: 10_000,
  ...extra,
});

describe('takeover profiles', () => {
  it('fast shortens failover, the dead-worker threshold (2 x the metrics period) and the assignment interval', () => {
    const props = new Map(buildKclProperties(input({ takeover: 'fast' })));
    expect(props.get('failoverTimeMillis')).toBe('5000');
    expect(props.get('workerMetricsReporterFreqInMillis')).toBe('3000');
    expect(props.get('leaseAssignmentIntervalMillis')).toBe('3000');
  });

  it('default writes the daemon\'s own values (failover 10 s, metrics every 30 s, assignment every 2 x failover)', () => {
    const props = new Map(buildKclProperties(input({ takeover: 'default' })));
    expect(props.get('failoverTimeMillis')).toBe('10000');
    expect(props.get('workerMetricsReporterFreqInMillis')).toBe('30000');
    expect(props.get('leaseAssignmentIntervalMillis')).toBe(String(2 * 10_000));
  });

  it('without a profile writes none of these keys (the daemon keeps its defaults, as before)', () => {
    const keys = new Set(buildKclProperties(input()).map(([key]) => key));
    for (const { key } of kclTakeoverSettings('fast')) expect(keys.has(key)).toBe(false);
  });

  it('every key a profile writes is one the daemon reads, and each carries a note on its cost', () => {
    for (const profile of KCL_TAKEOVER_PROFILES) {
      for (const setting of kclTakeoverSettings(profile)) {
        expect(KCL_PROPERTY_KEYS.has(setting.key)).toBe(true);
        expect(setting.note.join(' ').length).toBeGreaterThan(40);
      }
    }
    expect(kclTakeoverSettings('fast')[0]?.note.join(' ')).toMatch(/twice the DynamoDB writes/);
  });

  it('--set overrides a profile value, and that key then loses its now untrue note', () => {
    const props = buildKclProperties(input({ takeover: 'fast', extra: [['failoverTimeMillis', '8000']] }));
    expect(new Map(props).get('failoverTimeMillis')).toBe('8000');
    const notes = kclTakeoverNotes('fast', props);
    expect(notes.has('failoverTimeMillis')).toBe(false);
    expect(notes.has('workerMetricsReporterFreqInMillis')).toBe(true);
  });

  it('still refuses an unknown key next to a profile', () => {
    expect(() => buildKclProperties(input({ takeover: 'fast', extra: [['failoverTimeMs', '5000']] }))).toThrow(/unknown KCL property "failoverTimeMs"/);
  });

  it('writes each note as comment lines just above its key, never on the key\'s line', () => {
    const props = buildKclProperties(input({ takeover: 'fast' }));
    const lines = formatKclProperties(props, ['header'], kclTakeoverNotes('fast', props)).split('\n');
    const at = lines.indexOf('failoverTimeMillis = 5000');
    expect(at).toBeGreaterThan(0);
    expect(lines[at - 1]).toMatch(/^# .*loses its leases\.$/);
    for (const line of lines) expect(line === '' || line.startsWith('#') || /^[\w.]+ = \S/.test(line)).toBe(true);
  });
});

describe('shardline kcl properties --takeover (built CLI)', () => {
  const ROOT = path.resolve(__dirname, '../../..');
  const cli = (args: string[]) => spawnSync(process.execPath, [path.join(ROOT, 'bin/shardline.js'), 'kcl', 'properties', path.join(ROOT, 'examples/demo-app/demo-app.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
  });

  beforeAll(() => {
    if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
      const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
      if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
    }
  }, 250_000);

  it('fast: writes the three keys with their notes', () => {
    const r = cli(['--takeover', 'fast']);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/\n# .*\nfailoverTimeMillis = 5000\n/);
    expect(r.stdout).toContain('workerMetricsReporterFreqInMillis = 3000');
    expect(r.stdout).toContain('leaseAssignmentIntervalMillis = 3000');
    expect(r.stdout).toMatch(/its lock lives\n# 2 minutes/);
  }, 30_000);

  it('an unknown profile is a usage error (exit 2) naming the choices', () => {
    const r = cli(['--takeover', 'quick']);
    expect(r.status).toBe(2);
    expect(r.stderr).toMatch(/--takeover.*quick.*default, fast/s);
  }, 30_000);

  it('--set still wins over the profile and still refuses unknown keys', () => {
    const r = cli(['--takeover', 'fast', '--set', 'failoverTimeMillis=8000']);
    expect(r.status).toBe(0);
    expect(r.stdout).toContain('failoverTimeMillis = 8000');
    expect(r.stdout).not.toMatch(/Takeover profile "fast"/);
    const bad = cli(['--takeover', 'fast', '--set', 'leaseAssignmentIntervalMs=1000']);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(/unknown KCL property "leaseAssignmentIntervalMs"/);
  }, 30_000);
});
