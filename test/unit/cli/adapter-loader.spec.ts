import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { exportsTarget, isAdapterPath, loadAdapter } from '../../../src/cli/adapter-loader';
import { collectAdapterOption } from '../../../src/cli/adapter-loader-options';
import { CLI_ADAPTERS } from '../../../src/cli/adapters';
import { ConfigurationError } from '../../../src/core/errors';
import { UsageError } from '../../../src/cli/usage-error';

const ADAPTER_JS = "exports.adapter = { name: 'lines', description: 'test', setup: async () => ({ sources: [], handleSignals: true, stdoutReserved: false }) };\n";

function project(files: Record<string, string>): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'shardline-adapter-loader-'));
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    writeFileSync(path.join(dir, name), text);
  }
  return dir;
}

/** The error a promise rejects with (an Error whose message says it did not reject, when it resolves). */
const failure = (promise: Promise<unknown>): Promise<Error> =>
  promise.then(
    () => new Error('expected a failure'),
    (error: unknown) => error as Error,
  );

describe('loadAdapter (shardline run --adapter <name | path | package>)', () => {
  it('returns a built-in by name', async () => {
    await expect(loadAdapter('polling', CLI_ADAPTERS)).resolves.toBe(CLI_ADAPTERS.get('polling'));
  });

  it('loads `adapter`, a default export or a default export holding `adapter`, from a path relative to cwd', async () => {
    const dir = project({
      'named.js': ADAPTER_JS,
      'default.cjs': "module.exports = { default: { name: 'd', setup: async () => ({}) } };\n",
      'nested.js': "exports.default = { adapter: { name: 'n', setup: async () => ({}) } };\n",
      'typed.ts': "import type { CliAdapter } from 'shardline';\nexport const adapter: CliAdapter = { name: 'typed', setup: () => Promise.reject(new Error('no')) };\n",
    });
    expect((await loadAdapter('./named.js', CLI_ADAPTERS, dir)).name).toBe('lines');
    expect((await loadAdapter('./named', CLI_ADAPTERS, dir)).name).toBe('lines');
    expect((await loadAdapter(path.join(dir, 'default.cjs'), CLI_ADAPTERS, dir)).name).toBe('d');
    expect((await loadAdapter('./nested.js', CLI_ADAPTERS, dir)).name).toBe('n');
    expect((await loadAdapter('typed.ts', CLI_ADAPTERS, dir)).name).toBe('typed');
  });

  it("loads a package from the project's node_modules, not from shardline's", async () => {
    const dir = project({
      'package.json': '{"name":"app"}',
      'node_modules/shardline-adapter-lines/package.json': '{"name":"shardline-adapter-lines","main":"lib/index.js"}',
      'node_modules/shardline-adapter-lines/lib/index.js': ADAPTER_JS,
    });
    expect((await loadAdapter('shardline-adapter-lines', CLI_ADAPTERS, dir)).name).toBe('lines');
    const error = await failure(loadAdapter('shardline-adapter-lines', CLI_ADAPTERS, path.dirname(dir)));
    expect(error).toBeInstanceOf(UsageError);
  });

  it('loads a folder: what its package.json exports or names as main, else its index file', async () => {
    const dir = project({
      'ts-folder/index.ts': "export const adapter = { name: 'ts-index', setup: () => Promise.reject(new Error('no')) };\n",
      'js-folder/index.js': ADAPTER_JS,
      'cjs-folder/index.cjs': "module.exports = { adapter: { name: 'cjs-index', setup: async () => ({}) } };\n",
      'main-folder/package.json': '{"main":"lib/entry"}',
      'main-folder/lib/entry.js': "exports.adapter = { name: 'main', setup: async () => ({}) };\n",
      'main-folder/index.js': "exports.adapter = { name: 'not-this-one', setup: async () => ({}) };\n",
      'exports-folder/package.json': '{"exports":{".":{"types":"./x.d.ts","require":"./dist/cjs.js","import":"./dist/esm.mjs"}}}',
      'exports-folder/dist/cjs.js': "exports.adapter = { name: 'exports-require', setup: async () => ({}) };\n",
      'empty-folder/README.md': 'nothing to load\n',
    });
    expect((await loadAdapter('./ts-folder', CLI_ADAPTERS, dir)).name).toBe('ts-index');
    expect((await loadAdapter('./js-folder/', CLI_ADAPTERS, dir)).name).toBe('lines');
    expect((await loadAdapter(path.join(dir, 'cjs-folder'), CLI_ADAPTERS, dir)).name).toBe('cjs-index');
    expect((await loadAdapter('./main-folder', CLI_ADAPTERS, dir)).name).toBe('main');
    expect((await loadAdapter('./exports-folder', CLI_ADAPTERS, dir)).name).toBe('exports-require');
    const empty = await failure(loadAdapter('./empty-folder', CLI_ADAPTERS, dir));
    expect(empty).toBeInstanceOf(UsageError);
    expect(empty.message).toBe(
      `cannot find adapter "./empty-folder": the folder ${path.join(dir, 'empty-folder')} has none of index.ts, index.js, index.mjs, index.cjs; check the path, relative to ${dir}`,
    );
  });

  it('finds an ES-module-only package (exports only to import) and imports it, rather than calling it missing', async () => {
    const dir = project({
      'package.json': '{"name":"app"}',
      'node_modules/esm-only-adapter/package.json': '{"name":"esm-only-adapter","type":"module","exports":{".":{"import":"./index.js"}}}',
      'node_modules/esm-only-adapter/index.js': "throw new Error('imported as an ES module');\n",
      'node_modules/@scope/esm-sub/package.json': '{"type":"module","exports":{"./adapters/*":{"import":"./src/*.js"}}}',
      'node_modules/@scope/esm-sub/src/queue.js': "throw new Error('subpath imported');\n",
      'node_modules/esm-broken/package.json': '{"type":"module","exports":{".":{"import":"./missing.js"}}}',
      'node_modules/esm-browser/package.json': '{"exports":{".":{"browser":"./b.js"}}}',
      'node_modules/no-main/package.json': '{"main":"lib/gone.js"}',
    });
    const imported = await failure(loadAdapter('esm-only-adapter', CLI_ADAPTERS, dir));
    // ConfigurationError "failed to load" with the module's own message: it was resolved for import and imported
    // (jest's sandbox cannot run import(); outside jest the module loads, as the integration test shows).
    expect(imported).toBeInstanceOf(ConfigurationError);
    expect(imported).not.toBeInstanceOf(UsageError);
    expect(imported.message).toMatch(new RegExp(`^adapter "esm-only-adapter" failed to load \\(${dir}/node_modules/esm-only-adapter/index\\.js\\): `));
    expect((await failure(loadAdapter('@scope/esm-sub/adapters/queue', CLI_ADAPTERS, dir))).message).toContain(`(${dir}/node_modules/@scope/esm-sub/src/queue.js)`);

    const found = (name: string) => `adapter package "${name}" was found (${dir}/node_modules/${name}) but could not be loaded: `;
    const broken = await failure(loadAdapter('esm-broken', CLI_ADAPTERS, dir));
    expect(broken).toBeInstanceOf(ConfigurationError);
    expect(broken.message).toBe(`${found('esm-broken')}its package.json "exports" gives ./missing.js to import for the package itself, and there is no such file`);
    expect((await failure(loadAdapter('esm-browser', CLI_ADAPTERS, dir))).message).toBe(
      `${found('esm-browser')}its package.json "exports" has no entry for the package itself under the require, import, node or default conditions`,
    );
    // Node's own reason (outside jest: "Cannot find module '…/lib/gone.js'. Please verify that the package.json has a valid "main" entry").
    const noMain = await failure(loadAdapter('no-main', CLI_ADAPTERS, dir));
    expect(noMain).toBeInstanceOf(ConfigurationError);
    expect(noMain.message.startsWith(found('no-main'))).toBe(true);
    expect(noMain.message).toContain('Cannot find module');
  });

  it('reads package.json exports as Node does', () => {
    const exports = { '.': [{ types: './t.d.ts', node: { import: './n.mjs', require: './n.cjs' } }, './fallback.js'], './sub/*': { import: './esm/*.js', default: null }, './sub/x/*': './x/*.js' };
    expect(exportsTarget(exports, '.', ['node', 'import'])).toBe('./n.mjs');
    expect(exportsTarget(exports, '.', ['node', 'require'])).toBe('./n.cjs');
    expect(exportsTarget(exports, '.', ['browser'])).toBe('./fallback.js');
    expect(exportsTarget(exports, './sub/a/b', ['import'])).toBe('./esm/a/b.js');
    expect(exportsTarget(exports, './sub/a', ['require'])).toBeUndefined();
    expect(exportsTarget(exports, './sub/x/y', ['require'])).toBe('./x/y.js');
    expect(exportsTarget(exports, './other', ['import'])).toBeUndefined();
    expect(exportsTarget('./main.js', '.', [])).toBe('./main.js');
    expect(exportsTarget({ import: './i.js' }, '.', ['import'])).toBe('./i.js');
  });

  it('says what to do, as a usage error (exit 2), when nothing of that name exists', async () => {
    const dir = project({});
    const unknown = await failure(loadAdapter('no-such-adapter', CLI_ADAPTERS, dir));
    expect(unknown).toBeInstanceOf(UsageError);
    expect(unknown.message).toBe(
      `cannot find adapter "no-such-adapter": not a built-in (memory, kcl, polling, efo) and no module or package of that name from ${dir}; install it or give a path`,
    );
    const missingFile = await failure(loadAdapter('./missing.ts', CLI_ADAPTERS, dir));
    expect(missingFile).toBeInstanceOf(UsageError);
    expect(missingFile.message).toContain(`cannot find adapter "./missing.ts": no file ${path.join(dir, 'missing.ts')}`);
  });

  it('names what to export (exit 2) when the module exports no adapter or a malformed one', async () => {
    const dir = project({
      'none.js': 'exports.somethingElse = 1;\n',
      'bad.js': "exports.adapter = { name: '', setup: 'later', maxConsumers: 0 };\n",
    });
    const none = await failure(loadAdapter('./none.js', CLI_ADAPTERS, dir));
    expect(none).toBeInstanceOf(UsageError);
    expect(none.message).toBe('adapter "./none.js" exports no adapter: export const adapter = { name, description, setup } (see docs/adapters.md), or make it the default export');
    const bad = await failure(loadAdapter('./bad.js', CLI_ADAPTERS, dir));
    expect(bad).toBeInstanceOf(UsageError);
    expect(bad.message).toContain('exports an adapter whose name is not a non-empty string and setup is not a function and maxConsumers is not a positive integer');
  });

  it('fails at run time (exit 1) with the module\'s own message when loading it throws', async () => {
    const dir = project({ 'throws.js': "throw new Error('ADAPTER_URL is not set');\n" });
    const error = await failure(loadAdapter('./throws.js', CLI_ADAPTERS, dir));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect(error).not.toBeInstanceOf(UsageError);
    expect(error.message).toBe(`adapter "./throws.js" failed to load (${path.join(dir, 'throws.js')}): ADAPTER_URL is not set`);
  });

  it('tells paths from names', () => {
    expect(['./a', '../a', '/a', 'a.ts', 'lib/a.mjs', 'C:\\a'].every(isAdapterPath)).toBe(true);
    expect(['polling', 'shardline-adapter-x', '@scope/adapter'].some(isAdapterPath)).toBe(false);
  });
});

describe('--adapter-option key=value', () => {
  it('collects repeated options, keeping "=" in values and the last value of a key', () => {
    const options = ['url=http://h/?a=b', 'batch.size=10', 'url=http://other'].reduce(
      (previous, text) => collectAdapterOption(text, previous),
      {} as Readonly<Record<string, string>>,
    );
    expect(options).toEqual({ url: 'http://other', 'batch.size': '10' });
  });

  it('refuses text without a key', () => {
    expect(() => collectAdapterOption('novalue', {})).toThrow(InvalidArgumentError);
    expect(() => collectAdapterOption('=x', {})).toThrow('expected key=value');
  });
});
