import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ConfigurationError } from 'shardline';
import { INIT_DEV_DEPENDENCIES, scaffoldProject } from '../../../src/cli/init/scaffold';

describe('shardline init (scaffoldProject)', () => {
  let base: string;
  beforeEach(() => {
    base = mkdtempSync(path.join(tmpdir(), 'shardline-init-'));
  });
  afterEach(() => rmSync(base, { recursive: true, force: true }));

  it('writes the project: package.json with the scripts, dot files under their real names, the name in the README', () => {
    const result = scaffoldProject({ directory: path.join(base, 'My Flights') });
    expect(result.name).toBe('my-flights');
    expect(result.files).toEqual(
      expect.arrayContaining(['package.json', '.gitignore', '.dockerignore', 'Dockerfile', 'tsconfig.json', 'jest.config.js', 'README.md', 'src/flight-counter.ts', 'src/counter-store.ts', 'src/producer.ts', 'test/flight-counter.spec.ts']),
    );
    expect(result.files.some((f) => path.basename(f).startsWith('_'))).toBe(false);
    const pkg = JSON.parse(readFileSync(path.join(result.directory, 'package.json'), 'utf8')) as {
      name: string;
      scripts: Record<string, string>;
      dependencies: Record<string, string>;
      devDependencies: Record<string, string>;
    };
    expect(pkg.name).toBe('my-flights');
    expect(pkg.scripts).toMatchObject({ dev: expect.stringContaining('shardline dev'), start: expect.stringContaining('shardline run'), test: 'jest', typecheck: 'tsc --noEmit' });
    expect(pkg.dependencies['shardline']).toMatch(/^\^\d+\.\d+\.\d+/);
    expect(pkg.devDependencies).toMatchObject(INIT_DEV_DEPENDENCIES);
    expect(pkg.devDependencies['@swc/core']).toBeDefined();
    expect(readFileSync(path.join(result.directory, 'README.md'), 'utf8')).toMatch(/^# my-flights\n/);
  });

  it('takes --name and --shardline', () => {
    const result = scaffoldProject({ directory: path.join(base, 'x'), name: '@acme/orders', shardlineSpec: 'file:../shardline-0.1.0.tgz' });
    const pkg = JSON.parse(readFileSync(path.join(result.directory, 'package.json'), 'utf8')) as { name: string; dependencies: Record<string, string> };
    expect(pkg).toMatchObject({ name: '@acme/orders', dependencies: { shardline: 'file:../shardline-0.1.0.tgz' } });
  });

  it('refuses a folder with files unless forced, naming what is there', () => {
    const dir = path.join(base, 'busy');
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'notes.txt'), 'mine');
    expect(() => scaffoldProject({ directory: dir })).toThrow(ConfigurationError);
    expect(() => scaffoldProject({ directory: dir })).toThrow(/busy is not empty \(notes\.txt\): choose a new folder, or add --force/);
    scaffoldProject({ directory: dir, force: true });
    expect(readFileSync(path.join(dir, 'notes.txt'), 'utf8')).toBe('mine');
    expect(existsSync(path.join(dir, 'src/flight-counter.ts'))).toBe(true);
  });

  it('refuses a name npm would refuse', () => {
    expect(() => scaffoldProject({ directory: path.join(base, 'ok'), name: 'Bad Name' })).toThrow('"Bad Name" is not a valid npm package name: give one with --name (lower case, no spaces)');
  });
});
