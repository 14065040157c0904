import { existsSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigurationError } from '../core/errors';
import { type CliAdapter } from './cli-adapter';
import { registerTypeScriptLoader } from './typescript-loader';
import { UsageError } from './usage-error';

const PATH_PREFIX = /^(\.{1,2}[\\/]|[\\/]|[A-Za-z]:[\\/])/;
const MODULE_EXTENSION = /\.(ts|js|mjs|cjs)$/;
const LOADABLE_EXTENSIONS = ['.ts', '.js', '.mjs', '.cjs'];

/** Whether `--adapter` names a file (`./x`, `../x`, `/abs`, `x.ts`) rather than a built-in or a package. */
export function isAdapterPath(spec: string): boolean {
  return PATH_PREFIX.test(spec) || MODULE_EXTENSION.test(spec);
}

/** A module to load, and how: `import` for an ES module that a package exports only to `import`. */
interface AdapterModule {
  readonly file: string;
  readonly via: 'require' | 'import';
}

/** The conditions of a package's `exports` that `require` and `import` match in Node (`default` always matches). */
const REQUIRE_CONDITIONS = ['node', 'require'];
const IMPORT_CONDITIONS = ['node', 'import'];
const INDEX_FILES = LOADABLE_EXTENSIONS.map((extension) => `index${extension}`);

/**
 * Finds the adapter `--adapter <spec>` names: a built-in by name, else a file or a folder (TypeScript through the swc
 * loader, or JavaScript, CommonJS or ES module), else a package installed in the project of `cwd` (including one that
 * exports only to `import`). The module must export `adapter` (or a default export) satisfying {@link CliAdapter}.
 * @throws UsageError (exit 2) when nothing of that name exists or the module exports no adapter.
 * @throws ConfigurationError (exit 1) with the module's own message when loading it throws, or when a package of that
 * name is installed but cannot be loaded (its `exports` or `main` lead nowhere).
 */
export async function loadAdapter(spec: string, builtIns: ReadonlyMap<string, CliAdapter>, cwd: string = process.cwd()): Promise<CliAdapter> {
  const builtIn = builtIns.get(spec);
  if (builtIn !== undefined) return builtIn;
  const module = isAdapterPath(spec) ? resolveAdapterFile(spec, cwd) : resolveAdapterPackage(spec, builtIns, cwd);
  const exported = await loadModule(spec, module);
  return pickAdapter(spec, exported);
}

const isFile = (file: string): boolean => existsSync(file) && statSync(file).isFile();
const isDirectory = (dir: string): boolean => existsSync(dir) && statSync(dir).isDirectory();
const firstLine = (error: unknown): string => (error instanceof Error ? error.message.split('\n')[0] ?? '' : String(error));

function resolveAdapterFile(spec: string, cwd: string): AdapterModule {
  const absolute = path.resolve(cwd, spec);
  const candidates = [absolute, ...LOADABLE_EXTENSIONS.map((extension) => `${absolute}${extension}`)];
  const found = candidates.find(isFile);
  if (found !== undefined) return { file: found, via: 'require' };
  if (isDirectory(absolute)) return resolveAdapterFolder(spec, absolute, cwd);
  throw new UsageError(`cannot find adapter "${spec}": no file ${absolute} (nor with .ts, .js, .mjs or .cjs); check the path, relative to ${cwd}`);
}

/** A folder, as `shardline run <folder>` takes one: what its package.json's `exports` or `main` names, else its index file. */
function resolveAdapterFolder(spec: string, dir: string, cwd: string): AdapterModule {
  const manifest = readManifest(dir, (why) => new ConfigurationError(`adapter "${spec}": cannot read ${path.join(dir, 'package.json')}: ${why}`));
  const candidates: AdapterModule[] = [];
  if (manifest?.exports !== undefined) {
    const forRequire = exportsTarget(manifest.exports, '.', REQUIRE_CONDITIONS);
    const forImport = exportsTarget(manifest.exports, '.', IMPORT_CONDITIONS);
    if (forRequire !== undefined) candidates.push({ file: path.resolve(dir, forRequire), via: 'require' });
    else if (forImport !== undefined) candidates.push({ file: path.resolve(dir, forImport), via: 'import' });
  } else if (typeof manifest?.main === 'string') {
    const main = path.resolve(dir, manifest.main);
    candidates.push(...[main, ...LOADABLE_EXTENSIONS.map((extension) => `${main}${extension}`)].map((file) => ({ file, via: 'require' as const })));
  }
  candidates.push(...INDEX_FILES.map((name) => ({ file: path.join(dir, name), via: 'require' as const })));
  const found = candidates.find((candidate) => isFile(candidate.file));
  if (found !== undefined) return found;
  const looked = [...new Set(candidates.map((candidate) => path.relative(dir, candidate.file)))].join(', ');
  throw new UsageError(`cannot find adapter "${spec}": the folder ${dir} has none of ${looked}; check the path, relative to ${cwd}`);
}

function resolveAdapterPackage(spec: string, builtIns: ReadonlyMap<string, CliAdapter>, cwd: string): AdapterModule {
  // Resolved as the user's project would (its node_modules and their parents), not from shardline's own folder.
  const requireFromProject = createRequire(path.join(cwd, 'package.json'));
  try {
    return { file: requireFromProject.resolve(spec), via: 'require' };
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    const { name, subpath } = splitPackageSpec(spec);
    const dir = (requireFromProject.resolve.paths(spec) ?? []).map((modules) => path.join(modules, name)).find((candidate) => isFile(path.join(candidate, 'package.json')));
    if (dir === undefined) {
      throw new UsageError(
        `cannot find adapter "${spec}": not a built-in (${[...builtIns.keys()].join(', ')}) and no module or package of that name from ${cwd}; install it or give a path`,
        { cause: error },
      );
    }
    // The package is installed but `require` cannot resolve it: it exports only to `import` (an ES module), or it is broken.
    const notLoadable = (why: string): ConfigurationError =>
      new ConfigurationError(`adapter package "${spec}" was found (${dir}) but could not be loaded: ${why}`, { cause: error });
    const manifest = readManifest(dir, (why) => notLoadable(`its package.json cannot be read: ${why}`));
    if (manifest?.exports === undefined) throw notLoadable(firstLine(error));
    const target = exportsTarget(manifest.exports, subpath, IMPORT_CONDITIONS);
    const entry = subpath === '.' ? 'the package itself' : subpath;
    if (target === undefined) throw notLoadable(`its package.json "exports" has no entry for ${entry} under the require, import, node or default conditions`);
    const file = path.resolve(dir, target);
    if (!isFile(file)) throw notLoadable(`its package.json "exports" gives ${target} to import for ${entry}, and there is no such file`);
    return { file, via: 'import' };
  }
}

/** `@scope/name/sub/path` → `@scope/name` and `./sub/path`; `name` → `name` and `.`. */
function splitPackageSpec(spec: string): { name: string; subpath: string } {
  const parts = spec.split('/');
  const nameParts = spec.startsWith('@') ? 2 : 1;
  const rest = parts.slice(nameParts).join('/');
  return { name: parts.slice(0, nameParts).join('/'), subpath: rest === '' ? '.' : `./${rest}` };
}

interface PackageManifest {
  readonly main?: unknown;
  readonly exports?: unknown;
}

/** A folder's package.json, or undefined when it has none. */
function readManifest(dir: string, fail: (why: string) => Error): PackageManifest | undefined {
  const file = path.join(dir, 'package.json');
  if (!isFile(file)) return undefined;
  try {
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    return typeof manifest === 'object' && manifest !== null ? manifest : {};
  } catch (error) {
    throw fail(firstLine(error));
  }
}

/**
 * The file (relative to the package) that a package.json `exports` field gives `subpath` (`.` or `./x`) under
 * `conditions` (and `default`), following Node's rules: a subpath map or conditions of `.`, nested conditions in the
 * order they are written, arrays as fallbacks, and `*` patterns.
 */
export function exportsTarget(exports: unknown, subpath: string, conditions: readonly string[]): string | undefined {
  const isSubpathMap = typeof exports === 'object' && exports !== null && !Array.isArray(exports) && Object.keys(exports).some((key) => key.startsWith('.'));
  if (!isSubpathMap) return subpath === '.' ? conditionalTarget(exports, conditions, undefined) : undefined;
  const map = exports as Record<string, unknown>;
  if (Object.hasOwn(map, subpath) && !subpath.includes('*')) return conditionalTarget(map[subpath], conditions, undefined);
  const pattern = Object.keys(map)
    .filter((key) => {
      const star = key.indexOf('*');
      return star >= 0 && subpath.length >= key.length - 1 && subpath.startsWith(key.slice(0, star)) && subpath.endsWith(key.slice(star + 1));
    })
    .sort((a, b) => b.indexOf('*') - a.indexOf('*') || b.length - a.length)[0];
  if (pattern === undefined) return undefined;
  const star = pattern.indexOf('*');
  return conditionalTarget(map[pattern], conditions, subpath.slice(star, subpath.length - (pattern.length - star - 1)));
}

function conditionalTarget(target: unknown, conditions: readonly string[], match: string | undefined): string | undefined {
  if (typeof target === 'string') return match === undefined ? target : target.replaceAll('*', match);
  const candidates: unknown[] = Array.isArray(target)
    ? target
    : typeof target === 'object' && target !== null
      ? Object.entries(target).filter(([condition]) => condition === 'default' || conditions.includes(condition)).map(([, value]) => value as unknown)
      : [];
  for (const candidate of candidates) {
    const found = conditionalTarget(candidate, conditions, match);
    if (found !== undefined) return found;
  }
  return undefined;
}

async function loadModule(spec: string, { file, via }: AdapterModule): Promise<unknown> {
  if (file.endsWith('.ts')) registerTypeScriptLoader();
  try {
    if (via === 'import' && !file.endsWith('.ts')) return await importEsm(pathToFileURL(file).href);
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the adapter is only known at run time
      return require(file) as unknown;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
      return await importEsm(pathToFileURL(file).href);
    }
  } catch (error) {
    throw new ConfigurationError(`adapter "${spec}" failed to load (${file}): ${firstLine(error)}`, { cause: error });
  }
}

/** A real `import()`: the CommonJS build would otherwise turn it into `require`, which cannot load every ES module. */
// eslint-disable-next-line @typescript-eslint/no-implied-eval -- a constant body: the only way to keep import() in CommonJS output
const importEsm = new Function('specifier', 'return import(specifier)') as (specifier: string) => Promise<unknown>;

function pickAdapter(spec: string, exported: unknown): CliAdapter {
  const module = (typeof exported === 'object' && exported !== null) || typeof exported === 'function' ? (exported as Record<string, unknown>) : {};
  const nestedDefault = module['default'];
  const candidate =
    module['adapter'] ??
    (typeof nestedDefault === 'object' && nestedDefault !== null && 'adapter' in nestedDefault ? (nestedDefault as Record<string, unknown>)['adapter'] : nestedDefault) ??
    (typeof module['setup'] === 'function' ? module : undefined);
  const howTo = 'export const adapter = { name, description, setup } (see docs/adapters.md), or make it the default export';
  if (candidate === undefined || candidate === null || typeof candidate !== 'object') {
    throw new UsageError(`adapter "${spec}" exports no adapter: ${howTo}`);
  }
  const adapter = candidate as Partial<Record<keyof CliAdapter, unknown>>;
  const problems = [
    typeof adapter.name === 'string' && adapter.name !== '' ? undefined : 'name is not a non-empty string',
    typeof adapter.setup === 'function' ? undefined : 'setup is not a function',
    adapter.description === undefined || typeof adapter.description === 'string' ? undefined : 'description is not a string',
    adapter.prepare === undefined || typeof adapter.prepare === 'function' ? undefined : 'prepare is not a function',
    adapter.maxConsumers === undefined || (Number.isInteger(adapter.maxConsumers) && (adapter.maxConsumers as number) > 0) ? undefined : 'maxConsumers is not a positive integer',
  ].filter((problem): problem is string => problem !== undefined);
  if (problems.length > 0) throw new UsageError(`adapter "${spec}" exports an adapter whose ${problems.join(' and ')}: ${howTo}`);
  return candidate as CliAdapter;
}
