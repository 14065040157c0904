import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = path.resolve(__dirname, '../../..');
const indexFile = path.join(root, 'src/index.ts');
const adaptersDir = path.join(root, 'src/cli/adapters');

function parse(file: string): ts.SourceFile {
  return ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
}

/** `dir` + a relative specifier → the .ts file it names (without extension). */
function moduleFile(fromFile: string, specifier: string): string {
  return path.resolve(path.dirname(fromFile), specifier).replace(/\.ts$/, '');
}

/** What src/index.ts re-exports, as `file#name` of the original declaration module and name. */
function publicNames(): Set<string> {
  const names = new Set<string>();
  for (const statement of parse(indexFile).statements) {
    if (!ts.isExportDeclaration(statement) || statement.moduleSpecifier === undefined || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = statement.moduleSpecifier.text;
    if (!from.startsWith('.') || statement.exportClause === undefined || !ts.isNamedExports(statement.exportClause)) continue;
    for (const element of statement.exportClause.elements) names.add(`${moduleFile(indexFile, from)}#${(element.propertyName ?? element.name).text}`);
  }
  return names;
}

/** Named imports of shardline's own modules (relative specifiers) in `file`, as `file#name`, plus imports that are not named. */
function ownImports(file: string): { readonly named: string[]; readonly other: string[] } {
  const named: string[] = [];
  const other: string[] = [];
  const source = parse(file);
  for (const statement of source.statements) {
    if (!ts.isImportDeclaration(statement) || !ts.isStringLiteral(statement.moduleSpecifier)) continue;
    const from = statement.moduleSpecifier.text;
    if (!from.startsWith('.')) continue; // node: built-ins and packages
    const bindings = statement.importClause?.namedBindings;
    if (statement.importClause?.name !== undefined || bindings === undefined || !ts.isNamedImports(bindings)) {
      other.push(statement.getText(source));
      continue;
    }
    for (const element of bindings.elements) named.push(`${moduleFile(file, from)}#${(element.propertyName ?? element.name).text}`);
  }
  return { named, other };
}

/**
 * The built-in adapters are written against the public adapter contract: every name they import from shardline's own
 * sources is one that `shardline` (src/index.ts) re-exports from that same module, so a plug-in can do all they do.
 */
describe('built-in CLI adapters', () => {
  it('import from shardline only what src/index.ts exports', () => {
    const exported = publicNames();
    const files = readdirSync(adaptersDir).filter((name) => name.endsWith('.cli-adapter.ts'));
    expect(files.length).toBeGreaterThanOrEqual(3);
    const imports = files.flatMap((name) => {
      const { named, other } = ownImports(path.join(adaptersDir, name));
      return [...named.map((ref) => ({ name, ref })), ...other.map((text) => ({ name, ref: `not a named import: ${text}` }))];
    });
    expect(imports.length).toBeGreaterThan(10);
    const notPublic = imports.filter(({ ref }) => !exported.has(ref)).map(({ name, ref }) => `${name}: ${path.relative(root, ref)}`);
    expect(notPublic).toEqual([]);
  });

  it('would report a name that src/index.ts does not export', () => {
    expect(publicNames().has(`${path.join(root, 'src/adapters/kcl/kcl-record-source')}#KclConversation`)).toBe(false);
    expect(publicNames().has(`${path.join(root, 'src/adapters/kcl/kcl-record-source')}#KclRecordSource`)).toBe(true);
  });
});
