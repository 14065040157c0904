import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const RESULTS = path.join(__dirname, '..', 'docs', 'benchmarks.md');

/**
 * Replaces one benchmark's section of docs/benchmarks.md (between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`),
 * so that each benchmark rewrites only its own results.
 */
export function writeBenchmarkSection(name: string, markdown: string): void {
  const start = `<!-- bench:${name} -->`;
  const end = `<!-- /bench:${name} -->`;
  const current = existsSync(RESULTS) ? readFileSync(RESULTS, 'utf8') : '# Benchmarks\n';
  const section = `${start}\n${markdown.trim()}\n${end}`;
  const from = current.indexOf(start);
  const to = current.indexOf(end);
  const next = from >= 0 && to > from ? current.slice(0, from) + section + current.slice(to + end.length) : `${current.trimEnd()}\n\n${section}\n`;
  writeFileSync(RESULTS, next);
}
