import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/** The shardline package's root (the folder with package.json), from src/ or dist/. */
export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** The pom that pins the daemon (`kcl/pom.xml`). */
export const DEFAULT_KCL_POM = path.join(PACKAGE_ROOT, 'kcl', 'pom.xml');

/** Where `shardline kcl bootstrap` puts the daemon's jars, and where `kcl start` looks for them. */
export const DEFAULT_KCL_JARS = path.join(PACKAGE_ROOT, 'kcl', 'jars');

/** The daemon's main class (KCL 2.1+ and 3.x). */
export const KCL_MAIN_CLASS = 'software.amazon.kinesis.multilang.MultiLangDaemon';

/** The KCL version a pom pins (`<kcl.version>`), or undefined. */
export function pinnedKclVersion(pom: string): string | undefined {
  if (!existsSync(pom)) return undefined;
  return /<kcl\.version>\s*([^<\s]+)\s*<\/kcl\.version>/.exec(readFileSync(pom, 'utf8'))?.[1];
}

/** The jar files in a folder, sorted; empty when the folder does not exist. */
export function listJars(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((name) => name.endsWith('.jar'))
    .sort()
    .map((name) => path.join(dir, name));
}
