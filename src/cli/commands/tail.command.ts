import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline tail`. */
export function tailCommand(): Command {
  return pendingCommand('tail', 'print records of a stream as they arrive');
}
