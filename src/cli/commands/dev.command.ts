import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline dev`. */
export function devCommand(): Command {
  return pendingCommand('dev', 'run a consumer against a local Kinesis emulator (no AWS account)');
}
