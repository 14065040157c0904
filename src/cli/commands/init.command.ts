import path from 'node:path';
import { Command } from 'commander';
import { scaffoldProject } from '../init/scaffold';

/** `shardline init [dir]`: scaffolds a new consumer project. */
export function initCommand(): Command {
  return new Command('init')
    .description('create a new consumer project: a consumer with an injected service, its test, tsconfig, jest, Dockerfile')
    .argument('[dir]', 'the folder to create', '.')
    .option('--name <name>', 'package name (default: the folder name)')
    .option('--shardline <spec>', 'how package.json asks for shardline: a range, or file:<path to a checkout or .tgz> (default: ^<this version>)')
    .option('--force', 'write into a folder that already has files')
    .addHelpText(
      'after',
      `
Example:
  npx shardline init flight-counter && cd flight-counter && npm install && npm test && npm run dev`,
    )
    .action((dir: string, options: { name?: string; shardline?: string; force?: boolean }) => {
      const result = scaffoldProject({
        directory: dir,
        ...(options.name !== undefined ? { name: options.name } : {}),
        ...(options.shardline !== undefined ? { shardlineSpec: options.shardline } : {}),
        ...(options.force === true ? { force: true } : {}),
      });
      const relative = path.relative(process.cwd(), result.directory);
      const shown = relative === '' ? '.' : relative.startsWith('..') ? result.directory : relative;
      for (const file of result.files) process.stderr.write(`  created ${path.join(shown, file)}\n`);
      const cd = shown === '.' ? '' : `  cd ${shown}\n`;
      process.stderr.write(
        `\nCreated ${result.name}. Next:\n${cd}  npm install\n  npm test            # the consumer's unit test, with its service mocked\n  npm run typecheck\n  npm run dev         # local Kinesis + the consumer + a producer, no AWS account (Ctrl-C stops)\n`,
      );
    });
}
