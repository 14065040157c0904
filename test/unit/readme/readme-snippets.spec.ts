import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

/*
 * Every code snippet of the README is a file of this repository, shown whole: a `<!-- snippet: path -->` line
 * stands before each fenced TypeScript / JavaScript / JSON block, and the block must equal that file. The files are
 * compiled by `npm run typecheck` and run by the tests checked below, so a snippet that stops working fails here or there.
 */

const ROOT = path.resolve(__dirname, '../../..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const CODE_LANGUAGES = new Set(['ts', 'typescript', 'js', 'javascript', 'json', 'jsonc', 'tsx']);

interface Block {
  readonly language: string;
  readonly content: string;
  readonly line: number;
  readonly snippet: string | undefined;
}

function codeBlocks(markdown: string): Block[] {
  const lines = markdown.split('\n');
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (open === null) continue;
    const start = i;
    let end = i + 1;
    while (end < lines.length && lines[end] !== '```') end++;
    const marker = /^<!-- snippet: (\S+) -->$/.exec(lines[start - 1] ?? '');
    blocks.push({ language: open[1] ?? '', content: lines.slice(start + 1, end).join('\n'), line: start + 1, snippet: marker?.[1] });
    i = end;
  }
  return blocks;
}

/** Test files of the repository (unit, integration, examples, template), as text. */
function testSources(): string {
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      if (entry.name === 'node_modules' || entry.name === 'dist' || entry.name.startsWith('.')) continue;
      const full = path.join(dir, entry.name);
      if (entry.isDirectory()) walk(full);
      else if (entry.name.endsWith('.spec.ts')) out.push(readFileSync(full, 'utf8'));
    }
  };
  for (const dir of ['test', 'examples', 'templates']) walk(path.join(ROOT, dir));
  return out.join('\n');
}

describe('README snippets', () => {
  const blocks = codeBlocks(README).filter((b) => CODE_LANGUAGES.has(b.language));

  it('has code snippets', () => {
    expect(blocks.length).toBeGreaterThanOrEqual(8);
  });

  it.each(blocks.map((b) => [`line ${b.line} (${b.snippet ?? 'no snippet marker'})`, b] as const))('%s is a whole file of the repository', (_name, block) => {
    expect(block.snippet).toBeDefined();
    const file = path.join(ROOT, block.snippet!);
    expect(existsSync(file)).toBe(true);
    expect(block.content).toBe(readFileSync(file, 'utf8').replace(/\n$/, ''));
  });

  it('runs every TypeScript snippet in a test, and the configuration snippets in the packaging test', () => {
    const tests = testSources();
    const packaging = readFileSync(path.join(ROOT, 'test/integration/package/packaging.int.spec.ts'), 'utf8');
    for (const block of blocks) {
      const file = block.snippet!;
      if (file.endsWith('.spec.ts')) continue; // a test itself
      if (file.endsWith('.ts')) {
        const module = path.basename(file, '.ts');
        expect({ file, imported: new RegExp(`['"/]${module.replace(/[.-]/g, '\\$&')}['"]`).test(tests) }).toEqual({ file, imported: true });
      } else {
        expect({ file, packagingTestUsesIt: packaging.includes(path.basename(file)) }).toEqual({ file, packagingTestUsesIt: true });
      }
    }
  });

  it('links only to files that exist and ship in the package', () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { files: string[] };
    const links = [...README.matchAll(/\]\(((?!https?:|#)[^)]+)\)/g)].map((m) => m[1]!);
    expect(links.length).toBeGreaterThan(0);
    for (const link of links) {
      expect({ link, exists: existsSync(path.join(ROOT, link)) }).toEqual({ link, exists: true });
      expect({ link, shipped: pkg.files.some((f) => link === f || link.startsWith(`${f}/`)) }).toEqual({ link, shipped: true });
    }
  });
});
