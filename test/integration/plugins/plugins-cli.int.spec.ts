import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const ROOT = join(__dirname, '../../..');
const CLI = join(ROOT, 'bin/shardline.js');
const EXAMPLE_APP = join(ROOT, 'examples/custom-adapter/app.ts');
const FILE_LINES = './examples/custom-adapter/file-lines.adapter.ts';

const shardline = (args: readonly string[], cwd = ROOT) =>
  spawnSync(process.execPath, [CLI, ...args], { cwd, encoding: 'utf8', timeout: 60_000, env: { ...process.env, SHARDLINE_DEBUG: '' } });

const made: string[] = [];
/** A temporary folder, removed after the suite (the link to this checkout is removed, not followed). */
function tempDir(prefix: string): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true });
});

const lines = (text: string): string[] => text.trimEnd().split('\n').filter((line) => line !== '');

/**
 * A project of its own in a temporary folder, with shardline installed (a link to this checkout, as `npm link` makes)
 * and a plug-in package in node_modules: the package reads its records from `--adapter-option lines=a,b,c`.
 */
function projectWithPackage(): string {
  const dir = tempDir('shardline-plugin-project-');
  mkdirSync(join(dir, 'node_modules/shardline-adapter-inline/lib'), { recursive: true });
  symlinkSync(ROOT, join(dir, 'node_modules/shardline'), 'dir');
  writeFileSync(join(dir, 'package.json'), '{"name":"plugin-user","private":true}\n');
  writeFileSync(join(dir, 'node_modules/shardline-adapter-inline/package.json'), '{"name":"shardline-adapter-inline","main":"lib/index.js"}\n');
  writeFileSync(
    join(dir, 'node_modules/shardline-adapter-inline/lib/index.js'),
    `const { InMemoryRecordSource } = require('shardline');
exports.adapter = {
  name: 'inline',
  description: 'records from --adapter-option lines=a,b,c',
  setup: async (consumers, options) => {
    const sources = consumers.map(() => new InMemoryRecordSource());
    const records = (options.adapterOptions.lines || '').split(',').map((data) => ({ data }));
    void (async () => {
      for (const source of sources) {
        await source.push('shardId-000000000000', records);
        await source.endShard('shardId-000000000000');
        source.complete();
      }
    })();
    return { sources, handleSignals: true, stdoutReserved: false };
  },
};
`,
  );
  writeFileSync(
    join(dir, 'app.js'),
    `const { Consumer, OnRecords } = require('shardline');
class Echo { handle(records) { for (const r of records) process.stderr.write('got ' + r.text() + '\\n'); } }
OnRecords()(Echo.prototype, 'handle', Object.getOwnPropertyDescriptor(Echo.prototype, 'handle'));
exports.Echo = Consumer({ streamName: 'inline-stream', applicationName: 'inline-app' })(Echo) || Echo;
`,
  );
  return dir;
}

beforeAll(() => {
  if (!existsSync(join(ROOT, 'dist/cli/main.js'))) throw new Error('run `npm run build` first: these tests run bin/shardline.js');
});

describe('shardline run --adapter <path | package> (plug-in adapters)', () => {
  it('runs the example file-lines adapter from its .ts path, then resumes from its checkpoints on a second run', () => {
    const dir = tempDir('shardline-file-lines-');
    writeFileSync(join(dir, 'a.log'), 'alpha\nbeta\n');
    writeFileSync(join(dir, 'b.log'), 'gamma\n');
    const args = ['run', EXAMPLE_APP, '--adapter', FILE_LINES, '--adapter-option', `files=${dir}/a.log,${dir}/b.log`, '--adapter-option', `checkpoints=${dir}/cp.json`];
    const first = shardline(args);
    expect(first.stderr).toContain('line 1: alpha');
    expect(first.stderr).toContain('line 2: beta');
    expect(first.stderr).toContain('line 1: gamma');
    expect(first.stderr.match(/end of file/g)).toHaveLength(2);
    expect(first.stdout).toBe('');
    expect(first.status).toBe(0);
    writeFileSync(join(dir, 'b.log'), 'gamma\ndelta\n'); // b.log ended (SHARD_END stored): nothing more is read from it
    const second = shardline(args);
    expect(second.status).toBe(0);
    expect(second.stderr).not.toMatch(/line \d+:/);
    expect(second.stderr).toContain('The record source ended');
  });

  it("runs a plug-in package installed in the user's project, with its --adapter-option", () => {
    const dir = projectWithPackage();
    const out = shardline(['run', 'app.js', '--adapter', 'shardline-adapter-inline', '--adapter-option', 'lines=one,two,three'], dir);
    expect(lines(out.stderr).filter((line) => line.startsWith('got '))).toEqual(['got one', 'got two', 'got three']);
    expect(out.status).toBe(0);
  });

  it('runs an ES-module-only package (exports only to import), which require cannot resolve', () => {
    const dir = projectWithPackage();
    const pkg = join(dir, 'node_modules/shardline-adapter-esm-only');
    mkdirSync(pkg);
    writeFileSync(join(pkg, 'package.json'), '{"name":"shardline-adapter-esm-only","type":"module","exports":{".":{"import":"./index.js"}}}\n');
    writeFileSync(
      join(pkg, 'index.js'),
      `import shardline from 'shardline';
export const adapter = {
  name: 'esm-only',
  setup: async (consumers) => {
    const sources = consumers.map(() => new shardline.InMemoryRecordSource());
    void (async () => {
      for (const source of sources) {
        await source.push('shardId-000000000000', [{ data: 'from' }, { data: 'esm' }]);
        await source.endShard('shardId-000000000000');
        source.complete();
      }
    })();
    return { sources, handleSignals: true, stdoutReserved: false };
  },
};
`,
    );
    const out = shardline(['run', 'app.js', '--adapter', 'shardline-adapter-esm-only'], dir);
    expect(lines(out.stderr).filter((line) => line.startsWith('got '))).toEqual(['got from', 'got esm']);
    expect(out.status).toBe(0);
  });

  it('loads an ES module adapter (.mjs)', () => {
    const dir = projectWithPackage();
    writeFileSync(
      join(dir, 'esm-adapter.mjs'),
      "import shardline from 'shardline';\nexport const adapter = { name: 'esm', setup: async () => { throw new shardline.ConfigurationError('esm adapter reached: ' + typeof shardline.InMemoryRecordSource); } };\n",
    );
    const out = shardline(['run', 'app.js', '--adapter', './esm-adapter.mjs'], dir);
    expect(lines(out.stderr)).toEqual(['shardline: esm adapter reached: function']);
    expect(out.status).toBe(1);
  });

  describe('bad input: one line saying what to do', () => {
    const dir = projectWithPackage();
    writeFileSync(join(dir, 'no-export.js'), 'exports.notAnAdapter = 1;\n');
    writeFileSync(join(dir, 'throws.js'), "throw new Error('INLINE_URL is not set: export INLINE_URL=http://…');\n");
    writeFileSync(join(dir, 'setup-fails.js'), "exports.adapter = { name: 'broken', setup: async () => { throw new Error('cannot reach the queue at 127.0.0.1:1'); } };\n");

    it.each([
      [
        'an unknown name: exit 2',
        ['--adapter', 'shardline-adapter-missing'],
        2,
        `shardline: cannot find adapter "shardline-adapter-missing": not a built-in (memory, kcl, polling, efo) and no module or package of that name from ${dir}; install it or give a path`,
      ],
      ['a path to no file: exit 2', ['--adapter', './nowhere.ts'], 2, `shardline: cannot find adapter "./nowhere.ts": no file ${dir}/nowhere.ts (nor with .ts, .js, .mjs or .cjs); check the path, relative to ${dir}`],
      [
        'a module without an adapter export: exit 2',
        ['--adapter', './no-export.js'],
        2,
        'shardline: adapter "./no-export.js" exports no adapter: export const adapter = { name, description, setup } (see docs/adapters.md), or make it the default export',
      ],
      ['a module that throws on load: exit 1', ['--adapter', './throws.js'], 1, `shardline: adapter "./throws.js" failed to load (${dir}/throws.js): INLINE_URL is not set: export INLINE_URL=http://…`],
      ['an adapter whose setup fails: exit 1', ['--adapter', './setup-fails.js'], 1, 'shardline: cannot reach the queue at 127.0.0.1:1'],
      ['a bad --adapter-option: exit 2', ['--adapter', 'shardline-adapter-inline', '--adapter-option', 'lines'], 2, `error: option '--adapter-option <key=value>' argument 'lines' is invalid. expected key=value with a key of letters, digits, '_', '.' or '-', got "lines"`],
    ])('%s', (_name, args, code, line) => {
      const out = shardline(['run', 'app.js', ...args], dir);
      expect(lines(out.stderr)[0]).toBe(line);
      expect(lines(out.stderr).length).toBeLessThanOrEqual(2); // commander adds "(run with --help for usage)"
      expect(out.stdout).toBe('');
      expect(out.status).toBe(code);
    });

    it('the example adapter refuses a missing option as a usage error (exit 2)', () => {
      const out = shardline(['run', EXAMPLE_APP, '--adapter', FILE_LINES]);
      expect(lines(out.stderr)).toEqual(['shardline: the file-lines adapter needs files to read: --adapter-option files=a.log,b.log']);
      expect(out.status).toBe(2);
    });
  });

  it('shardline run --help lists the built-ins and how to load a plug-in', () => {
    const out = shardline(['run', '--help']);
    expect(out.stdout).toMatch(/^ {2}polling +reads every shard directly/m);
    expect(out.stdout).toContain('--adapter-option <key=value>');
    expect(out.stdout).toMatch(/<path> +a module \(\.ts, \.js, \.mjs, \.cjs\) or a folder exporting `adapter`/);
    expect(out.status).toBe(0);
  });
});
