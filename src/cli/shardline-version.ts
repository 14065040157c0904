import { readFileSync } from 'node:fs';
import path from 'node:path';
import { PACKAGE_ROOT } from '../kcl-daemon/kcl-paths';

/** The running shardline package's own package.json (the fields the CLI uses). */
export function readOwnPackageJson(): { readonly version: string; readonly dependencies?: Readonly<Record<string, string>> } {
  return JSON.parse(readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string; dependencies?: Record<string, string> };
}

/** The version of the running shardline package. */
export function shardlineVersion(): string {
  return readOwnPackageJson().version;
}
