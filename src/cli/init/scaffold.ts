import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ConfigurationError } from '../../core/errors';
import { PACKAGE_ROOT } from '../../kcl-daemon/kcl-paths';
import { readOwnPackageJson, shardlineVersion } from '../shardline-version';

/** Where the files of a new project are kept in the package (`templates/init`). */
export const INIT_TEMPLATE_DIRECTORY = path.join(PACKAGE_ROOT, 'templates', 'init');

/**
 * Dev dependencies of a new project, at the ranges the packaging test installs and runs. TypeScript 7 (the native
 * compiler) type-checks legacy decorators and decorator metadata; the code itself is compiled by swc, both by
 * `shardline run` and by jest (@swc/jest), so no TypeScript transformer (ts-jest, ts-node) is needed.
 */
export const INIT_DEV_DEPENDENCIES: Readonly<Record<string, string>> = {
  '@swc/jest': '^0.2.39',
  '@types/jest': '^30.0.0',
  '@types/node': '^20.19.0',
  jest: '^30.2.0',
  'kinesis-local': '^0.6.2',
  typescript: '^7.0.2',
};

/** Options of {@link scaffoldProject}. */
export interface ScaffoldOptions {
  /** The folder to create (or an empty one to fill). */
  readonly directory: string;
  /** The package name; default: the folder's name. */
  readonly name?: string;
  /** How package.json asks for shardline: a version range, or a path or tarball (`file:…`). Default `^<this version>`. */
  readonly shardlineSpec?: string;
  /** Write into a folder that already has files (existing files are kept unless the scaffold has one of that name). */
  readonly force?: boolean;
}

/** What {@link scaffoldProject} wrote. */
export interface ScaffoldResult {
  readonly directory: string;
  readonly name: string;
  /** Paths relative to the directory, in the order written. */
  readonly files: readonly string[];
}

/** Template files stored under another name, because npm leaves dot files such as `.gitignore` out of a package. */
const RENAMED: Readonly<Record<string, string>> = { _gitignore: '.gitignore', _dockerignore: '.dockerignore' };

/**
 * Writes a new consumer project: package.json (scripts dev, start, test, typecheck), a tsconfig with the decorator
 * flags, a jest setup on swc, a consumer with an injected service, its unit test, a dev producer, a Dockerfile for
 * the KCL adapter, .gitignore and a README.
 * @throws ConfigurationError when the folder has files already (without `force`) or the name is not a valid package name.
 */
export function scaffoldProject(options: ScaffoldOptions): ScaffoldResult {
  const directory = path.resolve(options.directory);
  const name = options.name ?? toPackageName(path.basename(directory));
  if (!/^(@[a-z0-9-~][a-z0-9-._~]*\/)?[a-z0-9-~][a-z0-9-._~]*$/.test(name) || name.length > 214) {
    throw new ConfigurationError(`"${name}" is not a valid npm package name: give one with --name (lower case, no spaces)`);
  }
  if (existsSync(directory)) {
    if (!statSync(directory).isDirectory()) throw new ConfigurationError(`${options.directory} exists and is not a folder: choose another path`);
    const present = readdirSync(directory).filter((entry) => entry !== '.git');
    if (present.length > 0 && options.force !== true) {
      throw new ConfigurationError(`${options.directory} is not empty (${present.slice(0, 3).join(', ')}${present.length > 3 ? ', …' : ''}): choose a new folder, or add --force to write into it`);
    }
  }
  const files: string[] = [];
  const write = (relative: string, content: string): void => {
    const target = path.join(directory, relative);
    mkdirSync(path.dirname(target), { recursive: true });
    writeFileSync(target, content);
    files.push(relative);
  };
  write('package.json', `${JSON.stringify(packageJson(name, options.shardlineSpec ?? `^${shardlineVersion()}`), null, 2)}\n`);
  for (const relative of listTemplateFiles(INIT_TEMPLATE_DIRECTORY)) {
    const renamed = path.join(path.dirname(relative), RENAMED[path.basename(relative)] ?? path.basename(relative));
    write(renamed, readFileSync(path.join(INIT_TEMPLATE_DIRECTORY, relative), 'utf8').replaceAll('{{name}}', name));
  }
  return { directory, name, files };
}

function packageJson(name: string, shardlineSpec: string): Record<string, unknown> {
  return {
    name,
    version: '0.1.0',
    private: true,
    description: 'A Kinesis consumer written with shardline',
    engines: { node: '>=20' },
    scripts: {
      dev: 'shardline dev src/flight-counter.ts --produce src/producer.ts',
      start: 'shardline run src/flight-counter.ts --adapter polling --checkpoints file:.shardline/checkpoints',
      test: 'jest',
      typecheck: 'tsc --noEmit',
      'kcl:properties': 'shardline kcl properties src/flight-counter.ts -o app.properties',
    },
    dependencies: { shardline: shardlineSpec },
    devDependencies: { '@swc/core': swcCoreRange(), ...INIT_DEV_DEPENDENCIES },
  };
}

/** The template's files, relative to its folder, sorted (so the order written is stable). */
function listTemplateFiles(root: string, relative = ''): string[] {
  if (!existsSync(root)) throw new ConfigurationError(`the project template is missing from this shardline install (${root}): reinstall shardline`);
  const out: string[] = [];
  for (const entry of readdirSync(path.join(root, relative), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
    const child = path.join(relative, entry.name);
    if (entry.isDirectory()) out.push(...listTemplateFiles(root, child));
    else out.push(child);
  }
  return out;
}

/** The @swc/core range shardline itself depends on, so that jest and `shardline run` share one compiler. */
function swcCoreRange(): string {
  return readOwnPackageJson().dependencies?.['@swc/core'] ?? '^1.16.0';
}

/** A folder name made into a package name: lower case, spaces and odd characters as dashes. */
function toPackageName(folder: string): string {
  return folder
    .toLowerCase()
    .replace(/[^a-z0-9-._~]+/g, '-')
    .replace(/^[-._]+|-+$/g, '');
}
