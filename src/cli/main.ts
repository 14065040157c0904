import 'reflect-metadata';
import { Command, CommanderError } from 'commander';
import { ShardlineError } from '../core/errors';
import { secretMask } from '../core/secret-mask';
import { devCommand } from './commands/dev.command';
import { initCommand } from './commands/init.command';
import { kclCommand } from './commands/kcl.command';
import { kmsCommand } from './commands/kms.command';
import { lagCommand } from './commands/lag.command';
import { putCommand } from './commands/put.command';
import { runCommand } from './commands/run.command';
import { shardlineVersion } from './shardline-version';
import { UsageError } from './usage-error';
import { streamsCommand } from './commands/streams.command';
import { tailCommand } from './commands/tail.command';

/** Exit codes: 0 done, 1 failed at run time, 2 bad command line. */
export const EXIT_USAGE = 2;
export const EXIT_FAILURE = 1;

/** Builds the `shardline` command. */
export function buildProgram(): Command {
  const program = new Command('shardline')
    .description('shardline: run and operate Kinesis consumers written in TypeScript')
    .version(shardlineVersion(), '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({ writeErr: (text) => process.stderr.write(text) });
  for (const command of [initCommand(), runCommand(), devCommand(), kclCommand(), kmsCommand(), putCommand(), tailCommand(), streamsCommand(), lagCommand()]) {
    program.addCommand(command);
  }
  return applyExitOverride(program);
}

function applyExitOverride(command: Command): Command {
  command.exitOverride();
  for (const sub of command.commands) applyExitOverride(sub);
  return command;
}

/** Runs the CLI with `argv` and returns the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help') return 0;
      return EXIT_USAGE;
    }
    // The last line passes the secret mask like every other line (an error of any kind may quote a secret).
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`shardline: ${secretMask.maskText(message)}\n`);
    if (!(error instanceof ShardlineError) && error instanceof Error && error.stack !== undefined && process.env.SHARDLINE_DEBUG === '1') {
      process.stderr.write(`${secretMask.maskText(error.stack)}\n`);
    }
    return error instanceof UsageError ? EXIT_USAGE : EXIT_FAILURE;
  }
}
