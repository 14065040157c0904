import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { InvalidArgumentError } from 'commander';
import { isAdapterPath, loadAdapter } from '../../../src/cli/adapter-loader';
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
