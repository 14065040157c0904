/**
 * The consumer image cannot be built here (no Docker engine), so the Dockerfile is checked statically: the
 * dockerfile-utils validator (the linter of the Docker language server) must report nothing, and the rules that
 * matter for this image are asserted on its syntax tree (dockerfile-ast).
 */
import { DockerfileParser, type Instruction } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

const ROOT = resolve(__dirname, '../../..');
const DOCKERFILE = join(ROOT, 'deploy', 'Dockerfile');
const content = readFileSync(DOCKERFILE, 'utf8');
const dockerfile = DockerfileParser.parse(content);
const instructions = dockerfile.getInstructions();

/** ARG defaults declared before the first FROM (the only ones a FROM can use). */
function globalArgs(): Map<string, string> {
  const args = new Map<string, string>();
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') break;
    if (instruction.getKeyword() !== 'ARG') continue;
    const [name, value] = (instruction.getArgumentsContent() ?? '').split('=', 2);
    if (name !== undefined && value !== undefined) args.set(name.trim(), value.trim());
  }
  return args;
}

/** Instructions of each stage, by stage name. */
function stages(): Map<string, Instruction[]> {
  const result = new Map<string, Instruction[]>();
  let current: Instruction[] | undefined;
  for (const instruction of instructions) {
    if (instruction.getKeyword() === 'FROM') {
      const name = dockerfile.getFROMs().find((f) => f.getRange().start.line === instruction.getRange().start.line)?.getBuildStage() ?? `stage${result.size}`;
      current = [];
      result.set(name, current);
    }
    current?.push(instruction);
  }
  return result;
}

const args = (i: Instruction): string => i.getArgumentsContent() ?? '';
const lines = content.split('\n');
/** The instruction as written, flags included. */
const raw = (i: Instruction): string => lines.slice(i.getRange().start.line, i.getRange().end.line + 1).join('\n');

describe('deploy/Dockerfile', () => {
  it('passes the dockerfile-utils validator with no error or warning', () => {
    const diagnostics = validate(content);
    expect(diagnostics.map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)).toEqual([]);
  });

  it('detects a broken Dockerfile (the validator is live)', () => {
    const broken = validate('FROM node:20\nCOPY\nENTRYPOINT ["node" "x"]\nFROM\n');
    expect(broken.length).toBeGreaterThan(0);
  });

  it('pins every base image to an exact version (no latest, no floating major)', () => {
    const globals = globalArgs();
    const images = dockerfile.getFROMs().map((from) => {
      const image = from.getImage() ?? '';
      return image.replace(/^\$\{?(\w+)\}?$/, (_, name: string) => globals.get(name) ?? image);
    });
    const stageNames = new Set(dockerfile.getFROMs().map((f) => f.getBuildStage()));
    const external = images.filter((image) => !stageNames.has(image));
    expect(external.length).toBeGreaterThan(0);
    for (const image of external) {
      expect(image).toMatch(/^[a-z0-9./-]+(:\d+\.\d+\.\d+[\w.-]*)?(@sha256:[a-f0-9]{64})?$/);
      expect(image).toMatch(/:\d+\.\d+\.\d+|@sha256:/);
      expect(image).toMatch(/^node:20\./);
    }
  });

  it('runs as a non-root user in the final stage, and ends with the daemon as an exec-form ENTRYPOINT', () => {
    const finalStage = [...stages().values()].at(-1)!;
    const users = finalStage.filter((i) => i.getKeyword() === 'USER');
    expect(users).toHaveLength(1);
    const user = args(users[0]!).split(':')[0];
    expect(user).not.toMatch(/^(root|0)$/);
    expect(finalStage.some((i) => i.getKeyword() === 'RUN' && new RegExp(`useradd .*${user}`).test(args(i)))).toBe(true);
    const entrypoints = finalStage.filter((i) => i.getKeyword() === 'ENTRYPOINT');
    expect(entrypoints).toHaveLength(1);
    const entrypoint = entrypoints[0]!;
    expect(finalStage.indexOf(users[0]!)).toBeLessThan(finalStage.indexOf(entrypoint));
    const json = JSON.parse(args(entrypoint)) as unknown;
    expect(json).toEqual(['node', 'bin/shardline.js', 'kcl', 'start', 'flights-redis.properties']);
    expect(finalStage.some((i) => i.getKeyword() === 'CMD')).toBe(false);
  });

  it('has a Java 17 runtime, the daemon jars from shardline kcl bootstrap and the properties from shardline kcl properties', () => {
    const all = stages();
    const finalStage = [...all.values()].at(-1)!;
    const runs = (stage: Instruction[]): string[] => stage.filter((i) => i.getKeyword() === 'RUN').map(args);
    expect(runs(finalStage).some((r) => /apt-get install .*openjdk-17-jre-headless/.test(r))).toBe(true);
    const jarsStage = all.get('jars');
    expect(jarsStage).toBeDefined();
    expect(runs(jarsStage!).some((r) => /bin\/shardline\.js kcl bootstrap\b/.test(r))).toBe(true);
    expect(finalStage.some((i) => i.getKeyword() === 'COPY' && /--from=jars\b.*kcl\/jars/.test(raw(i)))).toBe(true);
    const properties = runs(finalStage).find((r) => /bin\/shardline\.js kcl properties/.test(r));
    expect(properties).toMatch(/-o flights-redis\.properties/);
    expect(properties).toMatch(/app\/flights-redis\/flights-redis\.js/);
  });

  it('bakes no secret into the image', () => {
    for (const i of instructions.filter((x) => ['ENV', 'ARG', 'LABEL'].includes(x.getKeyword()))) {
      const text = args(i);
      expect(text).not.toMatch(/(PASSWORD|SECRET|TOKEN|ACCESS_KEY|PRIVATE)/i);
      expect(text).not.toMatch(/redis(s)?:\/\//);
      expect(text).not.toMatch(/AKIA[0-9A-Z]{16}/);
    }
    expect(content).not.toMatch(/kms:[A-Za-z0-9+/]{20,}/);
  });

  it('copies only files that exist in the repository (the build context is the repository root)', () => {
    const copies = instructions.filter((i) => (i.getKeyword() === 'COPY' || i.getKeyword() === 'ADD') && !/--from=/.test(raw(i)));
    expect(copies.length).toBeGreaterThan(3);
    for (const copy of copies) {
      const parts = args(copy).split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const source of parts.slice(0, -1)) expect([source, existsSync(join(ROOT, source))]).toEqual([source, true]);
    }
    const ignore = readFileSync(join(ROOT, 'deploy', 'Dockerfile.dockerignore'), 'utf8');
    for (const heavy of ['node_modules', '.venv', 'kcl/jars', '.git']) expect(ignore).toContain(heavy);
  });
});
