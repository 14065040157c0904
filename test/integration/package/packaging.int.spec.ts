import { spawn, spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isPortListening } from '../../../src/kinesis/local-kinesis-server';
import { kinesisEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, putRecords, uniqueName, waitFor } from '../polling/polling-test-kit';

/**
 * shardline as a user gets it: `npm pack` of this checkout, a new project outside the repository that installs only
 * the tarball and what `shardline init` asks for (from the registry), then the scaffold's own commands: npm test,
 * npm run typecheck (on the TypeScript the registry serves today, and on 5.9), `shardline run` on piped records,
 * enhanced fan-out on the harness's kinesis-local, plug-in adapters written in the project (a .ts file, an ES module
 * package in its node_modules), and `npm run dev` against kinesis-local until Ctrl-C. Nothing is copied from this repository.
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

/** Three flights as JSON lines (one blank line between, which the lines adapter skips). */
const FLIGHT_LINES = '{"dest":"LAX","carrier":"AA"}\n{"dest":"SFO","carrier":"UA"}\n\n{"dest":"JFK","carrier":"B6"}\n';

/**
 * A plug-in adapter as a user writes it in their project, importing only from 'shardline': one shard whose records are
 * the non-empty lines of `--adapter-option file=…`; the run ends at the end of the file. In TypeScript (typed with the
 * package's public types only) or as plain JavaScript for an ES module package.
 */
function linesAdapterSource(typescript: boolean): string {
  const t = (text: string): string => (typescript ? text : '');
  return `import { readFileSync } from 'node:fs';
import { InMemoryRecordSource, UsageError${t(', type AdapterSetup, type CliAdapter, type RecordInput')} } from 'shardline';

/** --adapter-option file=records.txt: one shard, one record per non-empty line; the run ends at the end of the file. */
export const adapter${t(': CliAdapter')} = {
  name: 'lines',
  description: 'the lines of a text file, as one shard',
  setup: async (consumers, options)${t(': Promise<AdapterSetup>')} => {
    const file = options.adapterOptions?.['file'];
    if (file === undefined || file === '') throw new UsageError('the lines adapter needs a file: --adapter-option file=records.txt');
    const records${t(': RecordInput[]')} = readFileSync(file, 'utf8')
      .split('\\n')
      .filter((line) => line.trim() !== '')
      .map((line) => ({ data: line }));
    const sources = consumers.map(() => new InMemoryRecordSource(options.stream ?? 'lines'));
    for (const source of sources) {
      void (async () => {
        await source.push('lines-0', records);
        await source.endShard('lines-0');
        source.complete();
      })();
    }
    return { sources, handleSignals: true, stdoutReserved: false };
  },
};
`;
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

  it('shardline run --adapter efo reads a 2-shard stream by enhanced fan-out, registers its consumer, and stops on SIGTERM with exit 0', async () => {
    const client = localKinesis();
    const stream = uniqueName('pkg-efo');
    const endpoint = kinesisEndpoint();
    try {
      await createStream(client, stream, 2);
      await putRecords(client, stream, ['LAX', 'SFO', 'JFK', 'LAX', 'ORD', 'SEA'].map((dest, i) => ({ id: `f${i}`, key: `k${i}`, n: 0, dest })));
      const checkpoints = mkdtempSync(join(work, 'efo-checkpoints-'));
      // The installed package's bin, as npx and npm scripts run it (npx itself ends by the signal: its exit code is not the CLI's).
      const child = spawn(
        join(app, 'node_modules/.bin/shardline'),
        ['run', 'src/flight-counter.ts', '--adapter', 'efo', '--consumer-name', 'pkg-efo', '--stream', stream, '--endpoint', endpoint, '--region', 'us-east-1', '--checkpoints', `file:${checkpoints}`, '--from', 'trim-horizon'],
        { cwd: app, env: USER_ENV, stdio: ['ignore', 'pipe', 'pipe'] },
      );
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ?? String(code))));
      const received = (): number => [...stderr.matchAll(/Received (\d+) records from Kinesis/g)].reduce((sum, m) => sum + Number(m[1]), 0);
      try {
        await waitFor(() => received() >= 6 || child.exitCode !== null, 45_000, () => `${received()} of 6 records; stderr: ${stderr}`);
      } finally {
        if (child.exitCode === null) child.kill('SIGTERM');
      }
      expect(await exited).toBe('0');
      expect(received()).toBe(6);
      expect(stderr).toMatch(/Registered stream consumer pkg-efo on /);
      expect(stderr).toMatch(/shardId-000000000000 Bye \(stopped\)\n/);
      expect(stderr).toMatch(/shardId-000000000001 Bye \(stopped\)\n/);
      expect(stderr).not.toMatch(/^shardline: /m);
      expect(stdout).toBe('');
      const listed = JSON.parse(ok(sh('npx', ['shardline', 'streams', 'consumers', stream, '--endpoint', endpoint, '--json'], app), 'streams consumers')) as Array<{ name: string; status: string }>;
      expect(listed.map((c) => [c.name, c.status])).toEqual([['pkg-efo', 'ACTIVE']]);
    } finally {
      // Leave nothing registered on the shared kinesis-local (a stream without consumers, as the other suites leave theirs).
      sh('npx', ['shardline', 'streams', 'deregister-consumer', stream, 'pkg-efo', '--endpoint', endpoint], app);
      client.destroy();
    }
  });

  it("a plug-in adapter written in the project's src/ (TypeScript, public types only) runs to the end of its input and typechecks", () => {
    const input = join(work, 'flights.jsonl');
    writeFileSync(input, FLIGHT_LINES);
    writeFileSync(join(app, 'src/lines-adapter.ts'), linesAdapterSource(true));
    try {
      const result = sh('npx', ['shardline', 'run', 'src/flight-counter.ts', '--adapter', './src/lines-adapter.ts', '--adapter-option', `file=${input}`], app);
      expect(result.stderr).toMatch(/lines-0 Hello\n/);
      expect(result.stderr).toMatch(/lines-0 Received 3 records from Kinesis\n/);
      expect(result.stderr).toMatch(/lines-0 Bye \(shardEnded\)\n/);
      expect(result.stderr).toContain('The record source ended');
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
      // Its own UsageError, thrown from the user's .ts file: exit 2 with its one line.
      const missing = sh('npx', ['shardline', 'run', 'src/flight-counter.ts', '--adapter', './src/lines-adapter.ts'], app);
      expect(missing.stderr.trim().split('\n')).toEqual(['shardline: the lines adapter needs a file: --adapter-option file=records.txt']);
      expect(missing.status).toBe(2);
      ok(sh('npm', ['run', 'typecheck'], app), 'npm run typecheck with src/lines-adapter.ts');
    } finally {
      rmSync(join(app, 'src/lines-adapter.ts'));
    }
  });

  it('the same adapter as an ES-module-only package in node_modules runs with --adapter <package>', () => {
    const input = join(work, 'flights.jsonl');
    writeFileSync(input, FLIGHT_LINES);
    const pkg = join(app, 'node_modules/shardline-lines-adapter');
    mkdirSync(join(pkg, 'lib'), { recursive: true });
    writeFileSync(join(pkg, 'package.json'), '{"name":"shardline-lines-adapter","version":"1.0.0","type":"module","exports":{".":{"import":"./lib/index.js"}}}\n');
    writeFileSync(join(pkg, 'lib/index.js'), linesAdapterSource(false));
    const result = sh('npx', ['shardline', 'run', 'src/flight-counter.ts', '--adapter', 'shardline-lines-adapter', '--adapter-option', `file=${input}`], app);
    expect(result.stderr).toMatch(/lines-0 Received 3 records from Kinesis\n/);
    expect(result.stderr).toMatch(/lines-0 Bye \(shardEnded\)\n/);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(0);
    // Named imports of the CommonJS package from an ES module: the UsageError is shardline's own class (exit 2, not 1).
    const missing = sh('npx', ['shardline', 'run', 'src/flight-counter.ts', '--adapter', 'shardline-lines-adapter'], app);
    expect(missing.stderr.trim().split('\n')).toEqual(['shardline: the lines adapter needs a file: --adapter-option file=records.txt']);
    expect(missing.status).toBe(2);
  });

  it('a plug-in path to no file exits 2 with one line', () => {
    const result = sh('npx', ['shardline', 'run', 'src/flight-counter.ts', '--adapter', './src/no-such-adapter.ts'], app);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^shardline: cannot find adapter "\.\/src\/no-such-adapter\.ts": no file .*src\/no-such-adapter\.ts/);
    expect(result.stdout).toBe('');
    expect(result.status).toBe(2);
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
