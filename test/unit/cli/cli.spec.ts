import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type Command } from 'commander';
import { buildProgram, main } from '../../../src/cli/main';

/*
 * The CLI as a user runs it: `node bin/shardline.js …` on the built dist/ (run `npm run build` first; the suite
 * builds it when dist/ is missing).
 */

const ROOT = path.resolve(__dirname, '../../..');
const BIN = path.join(ROOT, 'bin/shardline.js');
const DEMO = path.join(ROOT, 'examples/demo-app/demo-app.ts');
const FIXTURES = path.join(ROOT, 'test/fixtures/consumers');
const SEED_LINE = /^(ERROR|WARN|INFO|DEBUG|TRACE) \[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\] shardId-000000000000 .+$/;

jest.setTimeout(60_000);

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function cli(args: string[], input = ''): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, input, encoding: 'utf8', timeout: 30_000, env: { ...process.env, SHARDLINE_DEBUG: '' } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

beforeAll(() => {
  if (!existsSync(path.join(ROOT, 'dist/cli/main.js'))) {
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8', timeout: 240_000 });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  }
});

/** A JavaScript consumer module (no TypeScript, decorators applied by hand), written where ESLint's TS project does not look. */
function writeEchoModule(dir: string): string {
  const file = path.join(dir, 'echo-consumer.js');
  writeFileSync(
    file,
    `'use strict';
/* A JavaScript consumer module (no TypeScript, decorators applied by hand): logs each record's text in order. */
const { Consumer, OnRecords, OnShutdown, ShardContext } = require(${JSON.stringify(path.join(ROOT, 'dist/index.js'))});

class EchoConsumer {
  constructor(shard) {
    this.shard = shard;
  }
  handle(records) {
    for (const record of records) this.shard.logger.info(\`echo \${record.text()}\`);
  }
  bye(reason) {
    this.shard.logger.info(\`echo done (\${reason})\`);
  }
}
Reflect.defineMetadata('design:paramtypes', [ShardContext], EchoConsumer);
OnRecords()(EchoConsumer.prototype, 'handle', Object.getOwnPropertyDescriptor(EchoConsumer.prototype, 'handle'));
OnShutdown()(EchoConsumer.prototype, 'bye', Object.getOwnPropertyDescriptor(EchoConsumer.prototype, 'bye'));
Consumer({ streamName: 'echo', applicationName: 'echo-app' })(EchoConsumer);

module.exports = { EchoConsumer };
`,
  );
  return file;
}

function commandPaths(command: Command, prefix: string[] = []): string[][] {
  const paths: string[][] = [];
  for (const sub of command.commands) {
    const here = [...prefix, sub.name()];
    paths.push(here, ...commandPaths(sub, here));
  }
  return paths;
}

describe('--help', () => {
  const paths = commandPaths(buildProgram());

  it('lists run and every other command', () => {
    expect(paths.map((p) => p.join(' '))).toEqual(expect.arrayContaining(['run']));
  });

  it.each([[[] as string[]], ...paths.map((p) => [p])])('shardline %p --help prints usage on stdout and exits 0', async (commandPath) => {
    const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
    try {
      const code = await main([...commandPath, '--help']);
      const printed = out.mock.calls.map((c) => String(c[0])).join('');
      expect(code).toBe(0);
      expect(printed).toMatch(new RegExp(`Usage: shardline ${commandPath.join(' ')}`.trim()));
      expect(printed.length).toBeGreaterThan(60);
      expect(err).not.toHaveBeenCalled();
    } finally {
      out.mockRestore();
      err.mockRestore();
    }
  });

  it('the built binary prints help for run with its options', () => {
    const r = cli(['run', '--help']);
    expect(r.code).toBe(0);
    for (const option of ['--adapter', '--stream', '--endpoint', '--region', '--from', '--checkpoints', '--log-level', '--log-file', '--shutdown-timeout-ms']) {
      expect(r.stdout).toContain(option);
    }
    expect(r.stderr).toBe('');
  });
});

describe('usage errors: one clear line on stderr, exit 2', () => {
  it.each([
    ['an unknown option', ['run', DEMO, '--bogus'], /^error: unknown option '--bogus'$/],
    ['an unknown adapter', ['run', DEMO, '--adapter', 'nope'], /^shardline: cannot find adapter "nope": not a built-in \(memory, kcl, polling, efo\) and no module or package of that name from .*; install it or give a path$/],
    ['a bad log level', ['run', DEMO, '--log-level', 'loud'], /^error: option '--log-level <level>' argument 'loud' is invalid/],
    ['a bad number', ['run', DEMO, '--shutdown-timeout-ms', 'soon'], /^error: option '--shutdown-timeout-ms <ms>' argument 'soon' is invalid\. expected a positive whole number, got "soon"$/],
    ['a missing module argument', ['run'], /^error: missing required argument 'module'$/],
    ['an unknown command', ['runn'], /^error: unknown command 'runn'/],
  ])('%s', (_name, args, firstLine) => {
    const r = cli(args);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    expect(lines[0]).toMatch(firstLine);
    expect(lines.length).toBeLessThanOrEqual(3); // the error, maybe "(Did you mean run?)", and "(run with --help for usage)"
    expect(r.stderr).not.toMatch(/\n\s+at /); // no stack trace
  });
});

describe('run failures: shardline: <message>, exit 1', () => {
  it('a module that exports no consumer', () => {
    const r = cli(['run', path.join(FIXTURES, 'no-consumer.ts')], '');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/^shardline: .*no-consumer\.ts exports no @Consumer class: export the class/);
    expect(r.stdout).toBe('');
  });

  it('a module outside any project that has shardline says how to make it importable', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shardline-outside-'));
    try {
      writeFileSync(path.join(dir, 'app.ts'), "import { Consumer } from 'shardline';\nexport const x = Consumer;\n");
      const r = cli(['run', path.join(dir, 'app.ts')], '');
      expect(r.code).toBe(1);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(/^shardline: .*app\.ts imports 'shardline', which Node cannot find .*npm link/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('a module whose decorators are wrong names the class', () => {
    const r = cli(['run', path.join(FIXTURES, 'bad-decorator.ts')], '');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toBe('shardline: @Consumer on BadCheckpoint: checkpoint.everyRecords must be a positive integer, got 0');
  });

  it('a consumer whose env secret is missing: one line naming Class.property, nothing read', () => {
    const r = cli(['run', path.join(FIXTURES, 'secret-consumer.ts')], 'a\n');
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr.trim().split('\n')).toEqual([
      'shardline: cannot resolve secret SecretConsumer.apiKey: environment variable SHARDLINE_FIXTURE_API_KEY is not set; export it before starting',
    ]);
  });

  it('a module that does not exist', () => {
    const r = cli(['run', 'does/not/exist.ts'], '');
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^shardline: cannot find module does\/not\/exist\.ts/);
  });

  it('--consumer naming a class the module does not have', () => {
    const r = cli(['run', DEMO, '--consumer', 'Nope'], '');
    expect(r.code).toBe(1);
    expect(r.stderr.trim()).toMatch(/has no consumer named Nope \(it has DemoApp\)$/);
  });
});

describe('run without --adapter', () => {
  it('says that the memory adapter runs, and reads piped records', () => {
    const r = cli(['run', DEMO], '{"a":1}\n{"a":2}\n');
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/No --adapter given: running on the memory adapter: records are the lines of stdin/);
    expect(r.stderr).toContain('Received 2 records from Kinesis');
    expect(r.stderr).not.toContain('reading records from this terminal');
  });

  it("on a terminal's stdin, prints one hint line saying what it waits for and how to read a stream", () => {
    // script(1) gives the command a pseudo-terminal as stdin; its input ends at once, so the run ends too.
    const command = [process.execPath, BIN, 'run', DEMO].map((a) => `'${a}'`).join(' ');
    const r = spawnSync('script', ['-qec', `${command} < /dev/tty & sleep 3; kill -INT $! 2>/dev/null; wait`, '/dev/null'], {
      cwd: ROOT,
      encoding: 'utf8',
      timeout: 30_000,
    });
    const hints = r.stdout.split(/\r?\n/).filter((l) => l.startsWith('shardline: reading records from this terminal'));
    expect(hints).toEqual([
      'shardline: reading records from this terminal, one per line (Ctrl-D ends them); to read a Kinesis stream, pass --adapter polling or --adapter kcl',
    ]);
  });
});

describe('run --metrics-port', () => {
  it('out of range: one line, exit 2', () => {
    const r = cli(['run', DEMO, '--metrics-port', '70000'], '');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(`error: option '--metrics-port <port>' argument '70000' is invalid. expected a TCP port from 1 to 65535, got "70000"`);
  });

  it('in use: one line naming the port, exit 2, nothing read', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    try {
      const r = spawnSync(process.execPath, [BIN, 'run', DEMO, '--metrics-port', String(port)], { cwd: ROOT, input: '{"a":1}\n', encoding: 'utf8', timeout: 30_000 });
      expect(r.status).toBe(2);
      expect(r.stderr.trim()).toBe(`shardline: --metrics-port ${port} on 127.0.0.1 is in use by another process: choose another port`);
    } finally {
      await new Promise((resolve) => blocker.close(resolve));
    }
  });

  it('with --adapter kcl: refused with what to use instead, exit 2', () => {
    const r = cli(['run', DEMO, '--adapter', 'kcl', '--metrics-port', '9464'], '');
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toMatch(/^shardline: --metrics-port cannot be used with --adapter kcl: .*use --metrics-emf/);
  });
});

describe('run --adapter memory', () => {
  it('runs the demo on stdin lines: seed-style lines on stderr, nothing on stdout, exit 0', () => {
    const r = cli(['run', DEMO, '--adapter', 'memory'], '{"a":1}\n{"a":2}\n\n{"a":3}\n');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe('');
    const lines = r.stderr.trim().split('\n');
    const shardLines = lines.filter((l) => SEED_LINE.test(l));
    const messages = shardLines.map((l) => l.replace(/^.*shardId-000000000000 /, ''));
    expect(messages).toEqual(expect.arrayContaining(['Hello', 'Received 3 records from Kinesis', 'Bye (shardEnded)']));
    expect(messages.indexOf('Hello')).toBeLessThan(messages.indexOf('Received 3 records from Kinesis'));
    expect(messages.indexOf('Received 3 records from Kinesis')).toBeLessThan(messages.indexOf('Bye (shardEnded)'));
    for (const line of lines) expect(line).toMatch(/^(ERROR|WARN|INFO|DEBUG|TRACE) \[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} UTC\] /);
  });

  it('the demo honours SHARDLINE_DEMO_LOGFILE: the same seed lines go to the file and to stderr', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shardline-demo-'));
    try {
      const file = path.join(dir, 'demo.log');
      const r = spawnSync(process.execPath, [BIN, 'run', DEMO], { cwd: ROOT, input: 'x\ny\n', encoding: 'utf8', timeout: 30_000, env: { ...process.env, SHARDLINE_DEMO_LOGFILE: file } });
      expect(r.status).toBe(0);
      expect(r.stdout).toBe('');
      const logged = readFileSync(file, 'utf8').trim().split('\n');
      expect(logged.filter((l) => SEED_LINE.test(l)).map((l) => l.replace(/^.*shardId-000000000000 /, ''))).toEqual(
        expect.arrayContaining(['Hello', 'Received 2 records from Kinesis', 'Bye (shardEnded)']),
      );
      expect(r.stderr).toContain('shardId-000000000000 Received 2 records from Kinesis');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('runs a JavaScript module, delivers lines in order, and honours --log-file and --log-level', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'shardline-cli-'));
    try {
      const file = path.join(dir, 'run.log');
      const echo = writeEchoModule(dir);
      const input = Array.from({ length: 1200 }, (_, i) => `line-${i}`).join('\n');
      const r = cli(['run', echo, '--log-file', file, '--log-level', 'warn'], input);
      expect(r.code).toBe(0);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(''); // warn level: nothing to say
      expect(existsSync(file)).toBe(true);
      expect(readFileSync(file, 'utf8')).toBe('');
      const verbose = cli(['run', echo, '--log-file', file], input);
      expect(verbose.code).toBe(0);
      const echoed = readFileSync(file, 'utf8').split('\n').map((l) => /shardId-000000000000 echo (line-\d+)$/.exec(l)?.[1]).filter(Boolean);
      expect(echoed).toEqual(Array.from({ length: 1200 }, (_, i) => `line-${i}`));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('SIGTERM during a run: the batch in flight finishes, Bye runs, exit 0', async () => {
    const child = spawn(process.execPath, [BIN, 'run', path.join(FIXTURES, 'slow-consumer.ts'), '--adapter', 'memory'], { cwd: ROOT, stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    let stdout = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    child.stdin.write('one\ntwo\n'); // stdin stays open: only the signal ends the run
    const deadline = Date.now() + 20_000;
    while (!stderr.includes('start ') && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
    child.kill('SIGTERM');
    const code = await exited;
    expect(code).toBe(0);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/Received SIGTERM/);
    expect(stderr).toMatch(/shardId-000000000000 finished \d+ records/);
    expect(stderr).toMatch(/shardId-000000000000 Bye \(stopped\)/);
    expect(stderr.indexOf('finished')).toBeLessThan(stderr.indexOf('Bye (stopped)'));
  });
});
