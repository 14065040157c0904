/**
 * The Dockerfile that `shardline init` writes, checked statically (no Docker engine here): the validator reports
 * nothing, and the image runs the consumer under the KCL daemon as a non-root user, from files the scaffold has.
 */
import { DockerfileParser } from 'dockerfile-ast';
import { validate } from 'dockerfile-utils';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { scaffoldProject } from '../../../src/cli/init/scaffold';

const content = readFileSync(resolve(__dirname, '../../../templates/init/Dockerfile'), 'utf8');
const instructions = DockerfileParser.parse(content).getInstructions();
const byKeyword = (keyword: string): string[] => instructions.filter((i) => i.getKeyword() === keyword).map((i) => i.getArgumentsContent() ?? '');

describe('templates/init/Dockerfile', () => {
  it('passes the dockerfile-utils validator with no error or warning', () => {
    expect(validate(content).map((d) => `line ${d.range.start.line + 1}: ${typeof d.message === 'string' ? d.message : d.message.value}`)).toEqual([]);
  });

  it('pins the Node base image to an exact version and Java to 17', () => {
    expect(content).toMatch(/^ARG NODE_IMAGE=node:\d+\.\d+\.\d+-bookworm-slim$/m);
    expect(content).toContain('openjdk-17-jre-headless=17.*');
  });

  it('fetches the daemon jars, generates the properties, and starts the daemon as a non-root exec-form ENTRYPOINT', () => {
    expect(byKeyword('RUN').some((r) => r.includes('shardline kcl bootstrap'))).toBe(true);
    expect(byKeyword('RUN').some((r) => r.includes('kcl properties src/flight-counter.ts'))).toBe(true);
    expect(byKeyword('USER').at(-1)).toBe('node');
    expect(byKeyword('ENTRYPOINT').at(-1)).toBe('["node", "node_modules/shardline/bin/shardline.js", "kcl", "start", "app.properties"]');
  });

  it('copies only files a scaffolded project has', () => {
    const dir = mkdtempSync(join(tmpdir(), 'shardline-init-docker-'));
    try {
      scaffoldProject({ directory: join(dir, 'app') });
      const lines = content.split('\n');
      const fromBuildContext = instructions.filter((i) => i.getKeyword() === 'COPY' && !lines[i.getRange().start.line]!.includes('--from='));
      expect(fromBuildContext.length).toBeGreaterThan(0);
      for (const copy of fromBuildContext.map((i) => i.getArgumentsContent() ?? '')) {
        const sources = copy.split(/\s+/).slice(0, -1).filter((s) => !s.endsWith('*'));
        for (const source of sources) expect({ source, exists: existsSync(join(dir, 'app', source)) }).toEqual({ source, exists: true });
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
