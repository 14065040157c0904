/**
 * Summarises a `node --cpu-prof` profile: self time per function and per file, largest first.
 *   node -r ./dist/cli/register.js bench/capacity/profile-summary.ts <file.cpuprofile> [top=25]
 */
import { readFileSync } from 'node:fs';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: { readonly functionName: string; readonly url: string; readonly lineNumber: number };
  readonly children?: readonly number[];
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function main(): void {
  const [file = '', topText = '25'] = process.argv.slice(2);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0)));
  const total = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const byFunction = new Map<string, number>();
  const byFile = new Map<string, number>();
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const where = frame.url.replace(/^file:\/\//, '').replace(/.*node_modules\//, '~/').replace(/.*\/(dist|src)\//, '$1/');
    byFunction.set(`${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`, (byFunction.get(`${frame.functionName || '(anonymous)'} ${where}:${frame.lineNumber + 1}`) ?? 0) + us);
    byFile.set(where || '(native)', (byFile.get(where || '(native)') ?? 0) + us);
  }
  const top = Number(topText);
  const print = (title: string, map: Map<string, number>): void => {
    process.stdout.write(`${title} (total ${(total / 1000).toFixed(0)} ms)\n`);
    for (const [name, us] of [...map].sort((a, b) => b[1] - a[1]).slice(0, top)) {
      process.stdout.write(`${((us / total) * 100).toFixed(1).padStart(5)} %  ${(us / 1000).toFixed(0).padStart(6)} ms  ${name}\n`);
    }
  };
  print('self time by function', byFunction);
  print('self time by file', byFile);
}

main();
