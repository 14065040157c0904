import { existsSync, statSync } from 'node:fs';
import path from 'node:path';
import 'reflect-metadata';
import { type ConsumerClass, isConsumerClass } from '../core/consumer-explorer';
import { ConfigurationError } from '../core/errors';
import { registerTypeScriptLoader } from './typescript-loader';

/** Resolves a module path as given on the command line: a file, or a directory with index/main/app. */
export function resolveModulePath(modulePath: string, cwd: string = process.cwd()): string {
  const absolute = path.resolve(cwd, modulePath);
  const candidates = [absolute, `${absolute}.ts`, `${absolute}.js`];
  if (existsSync(absolute) && statSync(absolute).isDirectory()) {
    for (const name of ['index', 'main', 'app', path.basename(absolute)]) candidates.push(path.join(absolute, `${name}.ts`), path.join(absolute, `${name}.js`));
  }
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  if (found === undefined) throw new ConfigurationError(`cannot find module ${modulePath} (looked for ${candidates.map((c) => path.relative(cwd, c)).join(', ')})`);
  return found;
}

/**
 * Loads a module (TypeScript or JavaScript) and returns the `@Consumer` classes it exports.
 * @param only a class name, to pick one consumer of several.
 * @throws ConfigurationError when the module exports no consumer, or not the one asked for.
 */
export function loadConsumers(modulePath: string, only?: string): ConsumerClass[] {
  const file = resolveModulePath(modulePath);
  if (file.endsWith('.ts')) registerTypeScriptLoader();
  let exported: Record<string, unknown>;
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's module is only known at run time
    exported = require(file) as Record<string, unknown>;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'MODULE_NOT_FOUND' && /Cannot find module 'shardline(\/[^']*)?'/.test((error as Error).message)) {
      throw new ConfigurationError(
        `${modulePath} imports 'shardline', which Node cannot find from ${path.dirname(file)}: install it in that project (npm install <path of the shardline checkout>), or run \`npm link\` in the shardline checkout and \`npm link shardline\` next to your module`,
        { cause: error },
      );
    }
    throw error;
  }
  const consumers = Object.values(exported).filter(isConsumerClass);
  if (consumers.length === 0) {
    throw new ConfigurationError(`${modulePath} exports no @Consumer class: export the class (export class MyConsumer …)`);
  }
  if (only === undefined) return [...new Set(consumers)];
  const picked = consumers.filter((c) => c.name === only);
  if (picked.length === 0) throw new ConfigurationError(`${modulePath} has no consumer named ${only} (it has ${consumers.map((c) => c.name).join(', ')})`);
  return picked;
}
