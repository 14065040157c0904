import { existsSync, statSync } from 'node:fs';
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

/**
 * Finds the adapter `--adapter <spec>` names: a built-in by name, else a file (TypeScript through the swc loader, or
 * JavaScript, CommonJS or ES module), else a package installed in the project of `cwd`. The module must export
 * `adapter` (or a default export) satisfying {@link CliAdapter}.
 * @throws UsageError (exit 2) when nothing of that name exists or the module exports no adapter.
 * @throws ConfigurationError (exit 1) with the module's own message when loading it throws.
 */
export async function loadAdapter(spec: string, builtIns: ReadonlyMap<string, CliAdapter>, cwd: string = process.cwd()): Promise<CliAdapter> {
  const builtIn = builtIns.get(spec);
  if (builtIn !== undefined) return builtIn;
  const file = isAdapterPath(spec) ? resolveAdapterFile(spec, cwd) : resolveAdapterPackage(spec, builtIns, cwd);
  const exported = await loadModule(spec, file);
  return pickAdapter(spec, exported);
}

function resolveAdapterFile(spec: string, cwd: string): string {
  const absolute = path.resolve(cwd, spec);
  const candidates = [absolute, ...LOADABLE_EXTENSIONS.map((extension) => `${absolute}${extension}`)];
  const found = candidates.find((candidate) => existsSync(candidate) && statSync(candidate).isFile());
  if (found === undefined) {
    throw new UsageError(`cannot find adapter "${spec}": no file ${absolute} (nor with .ts, .js, .mjs or .cjs); check the path, relative to ${cwd}`);
  }
  return found;
}

function resolveAdapterPackage(spec: string, builtIns: ReadonlyMap<string, CliAdapter>, cwd: string): string {
  // Resolved as the user's project would (its node_modules and their parents), not from shardline's own folder.
  const requireFromProject = createRequire(path.join(cwd, 'package.json'));
  try {
    return requireFromProject.resolve(spec);
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code !== 'MODULE_NOT_FOUND' && code !== 'ERR_PACKAGE_PATH_NOT_EXPORTED') throw error;
    throw new UsageError(
      `cannot find adapter "${spec}": not a built-in (${[...builtIns.keys()].join(', ')}) and no module or package of that name from ${cwd}; install it or give a path`,
      { cause: error },
    );
  }
}

async function loadModule(spec: string, file: string): Promise<unknown> {
  if (file.endsWith('.ts')) registerTypeScriptLoader();
  try {
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- the adapter is only known at run time
      return require(file) as unknown;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      if (code !== 'ERR_REQUIRE_ESM' && code !== 'ERR_REQUIRE_ASYNC_MODULE') throw error;
      return await importEsm(pathToFileURL(file).href);
    }
  } catch (error) {
    const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
    throw new ConfigurationError(`adapter "${spec}" failed to load (${file}): ${message}`, { cause: error });
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
