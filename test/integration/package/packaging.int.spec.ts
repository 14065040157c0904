import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortListening } from '../../../src/kinesis/local-kinesis-server';

/**
 * shardline as a user gets it: `npm pack` of this checkout, a new project outside the repository that installs only
 * the tarball and what `shardline init` asks for (from the registry), then the scaffold's own commands: npm test,
 * npm run typecheck (on the TypeScript the registry serves today, and on 5.9), `shardline run` on piped records, and
 * `npm run dev` against kinesis-local until Ctrl-C. Nothing is copied from this repository.
 */
jest.setTimeout(600_000);

const ROOT = join(__dirname, '../../..');
const DEV_PORT = Number(process.env.SHARDLINE_TEST_PORT_BASE ?? '14500') + 93;
/** What a user's machine has: no SHARDLINE_* test variables, no jest worker variables. */
const USER_ENV: NodeJS.ProcessEnv = Object.fromEntries(
  Object.entries(process.env).filter(([key]) => !key.startsWith('SHARDLINE_') && !key.startsWith('JEST_') && key !== 'NODE_ENV'),
);

function sh(command: string, args: readonly string[], cwd: string, input?: string): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd, encoding: 'utf8', timeout: 300_000, env: USER_ENV, ...(input !== undefined ? { input } : {}) });
}

function ok(result: SpawnSyncReturns<string>, what: string): string {
  if (result.status !== 0) throw new Error(`${what} exited ${result.status ?? result.signal}:\n${result.stdout}\n${result.stderr}`);
  return result.stdout;
}

describe('the packed package in a new project', () => {
  let work: string;
  let tarball: string;
  let app: string;

  beforeAll(() => {
    work = mkdtempSync(join(tmpdir(), 'shardline-package-'));
    const packed = ok(sh('npm', ['pack', '--silent', '--pack-destination', work], ROOT), 'npm pack').trim().split('\n').pop() ?? '';
    tarball = join(work, packed);
    expect(existsSync(tarball)).toBe(true);
    // As a user runs a package's CLI: npm exec (npx) with the package, here the tarball instead of a registry name.
    const init = sh('npm', ['exec', '--yes', '--package', tarball, '--', 'shardline', 'init', 'flight-app', '--shardline', `file:${tarball}`], work);
    ok(init, 'shardline init');
    expect(init.stderr).toContain('Created flight-app. Next:');
    app = join(work, 'flight-app');
    ok(sh('npm', ['install', '--no-audit', '--no-fund'], app), 'npm install in the new project');
  });

  afterAll(() => {
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it('init writes a project with dev, start, test and typecheck scripts and the decorator flags', () => {
    for (const file of ['package.json', 'tsconfig.json', 'jest.config.js', '.gitignore', '.dockerignore', 'Dockerfile', 'README.md', 'src/flight-counter.ts', 'src/counter-store.ts', 'src/producer.ts', 'test/flight-counter.spec.ts']) {
      expect(existsSync(join(app, file))).toBe(true);
    }
    const pkg = JSON.parse(readFileSync(join(app, 'package.json'), 'utf8')) as { name: string; scripts: Record<string, string>; dependencies: Record<string, string> };
    expect(pkg.name).toBe('flight-app');
    expect(Object.keys(pkg.scripts)).toEqual(expect.arrayContaining(['dev', 'start', 'test', 'typecheck']));
    expect(pkg.dependencies['shardline']).toBe(`file:${tarball}`);
    const tsconfig = readFileSync(join(app, 'tsconfig.json'), 'utf8');
    expect(tsconfig).toContain('"experimentalDecorators": true');
    expect(tsconfig).toContain('"emitDecoratorMetadata": true');
    // The installed package is the tarball's, not a link into this checkout.
    expect(existsSync(join(app, 'node_modules/shardline/src'))).toBe(false);
    expect(existsSync(join(app, 'node_modules/shardline/templates/init/_gitignore'))).toBe(true);
  });

  it('npm test runs the scaffolded testing-kit test (injected service mocked) and passes', () => {
    const result = sh('npm', ['test'], app);
    expect(`${result.stdout}${result.stderr}`).toMatch(/Tests:\s+2 passed, 2 total/);
    expect(result.status).toBe(0);
  });

  it('a test of a consumer with a mocked injected service, written by the user, passes with the testing kit alone', () => {
    writeFileSync(
      join(app, 'test/alerts.spec.ts'),
      `import { Consumer, OnRecords, inject } from 'shardline';
import { createTestApp } from 'shardline/testing';

interface Notifier { notify(message: string): Promise<void> }
const NOTIFIER = Symbol('Notifier');

@Consumer({ streamName: 'orders' })
class BigOrderAlerts {
  constructor(@inject(NOTIFIER) private readonly notifier: Notifier) {}

  @OnRecords({ decode: 'json' })
  async handle(orders: { id: string; amount: number }[]): Promise<void> {
    for (const o of orders.filter((o) => o.amount >= 1000)) await this.notifier.notify(\`Big order \${o.id}\`);
  }
}

it('notifies big orders', async () => {
  const notifier = { notify: jest.fn().mockResolvedValue(undefined) };
  const t = await createTestApp(BigOrderAlerts, { providers: [{ provide: NOTIFIER, useValue: notifier }] });
  await t.push('shardId-000000000000', [{ id: 'a', amount: 5 }, { id: 'b', amount: 2500 }]);
  expect(notifier.notify).toHaveBeenCalledWith('Big order b');
  expect(notifier.notify).toHaveBeenCalledTimes(1);
  expect(t.checkpoints('shardId-000000000000')).toHaveLength(1);
  await t.stop();
});
`,
    );
    try {
      const result = sh('npx', ['jest', 'test/alerts.spec.ts'], app);
      expect(`${result.stdout}${result.stderr}`).toMatch(/Tests:\s+1 passed, 1 total/);
      expect(result.status).toBe(0);
      ok(sh('npm', ['run', 'typecheck'], app), 'typecheck with the user test');
    } finally {
      rmSync(join(app, 'test/alerts.spec.ts'));
    }
  });

  it('npm run typecheck passes on the TypeScript the registry serves today, and fails on a type error', () => {
    const version = ok(sh('npx', ['tsc', '--version'], app), 'tsc --version');
    expect(version).toMatch(/^Version 7\./);
    ok(sh('npm', ['run', 'typecheck'], app), `npm run typecheck (${version.trim()})`);
    writeFileSync(join(app, 'src/broken.ts'), "export const n: number = 'not a number';\n");
    try {
      const broken = sh('npm', ['run', 'typecheck'], app);
      expect(broken.status).not.toBe(0);
      expect(broken.stdout).toContain('src/broken.ts');
    } finally {
      rmSync(join(app, 'src/broken.ts'));
    }
  });

  it('shardline run without --adapter reads piped records on the memory adapter and says so', () => {
    const result = sh('npx', ['shardline', 'run', 'src/flight-counter.ts'], app, '{"dest":"LAX","carrier":"AA"}\n{"dest":"SFO","carrier":"UA"}\n{"dest":"LAX","carrier":"DL"}\n');
    expect(result.stderr).toContain('No --adapter given: running on the memory adapter');
    expect(result.stderr).toMatch(/shardId-000000000000 Hello\n/);
    expect(result.stderr).toMatch(/shardId-000000000000 Received 3 records from Kinesis\n/);
    expect(result.stderr).toMatch(/shardId-000000000000 Bye \(shardEnded\)\n/);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
  });

  it('npm run dev starts kinesis-local, the consumer and the producer; Ctrl-C stops it with exit 0', async () => {
    // Ctrl-C in a terminal signals the whole process group: npm, the shardline CLI, kinesis-local.
    const child = spawn('npm', ['run', 'dev', '--', '--port', String(DEV_PORT)], { cwd: app, env: USER_ENV, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // 'close': npm and everything it started (which share its output pipes) are gone.
    const closed = new Promise<string>((resolve) => child.once('close', (code, signal) => resolve(signal ?? String(code))));
    const received = (): number => (stderr.match(/Received \d+ records from Kinesis/g) ?? []).length;
    try {
      const deadline = Date.now() + 90_000;
      while (received() < 3 && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 250));
      expect(received()).toBeGreaterThanOrEqual(3);
      expect(stdout).toContain('created stream flights (2 shards)');
    } finally {
      if (child.pid !== undefined && child.exitCode === null) process.kill(-child.pid, 'SIGINT');
    }
    // npm itself ends on the SIGINT as in a terminal; shardline stops gracefully and says so.
    expect(['0', 'SIGINT']).toContain(await closed);
    expect(stdout).toContain('shardline dev: stopped');
    expect(stderr).toMatch(/Bye \(stopped\)/);
    expect(stderr).not.toMatch(/^shardline: /m);
    expect(await isPortListening(DEV_PORT)).toBe(false); // kinesis-local was stopped too
  });

  it('npm run typecheck also passes on TypeScript 5.9', () => {
    ok(sh('npm', ['install', '--no-audit', '--no-fund', '--save-dev', 'typescript@~5.9.3'], app), 'npm install typescript@5.9');
    expect(ok(sh('npx', ['tsc', '--version'], app), 'tsc --version')).toMatch(/^Version 5\.9\./);
    ok(sh('npm', ['run', 'typecheck'], app), 'npm run typecheck on TypeScript 5.9');
  });
});
