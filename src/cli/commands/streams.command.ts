import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline streams`. */
export function streamsCommand(): Command {
  return pendingCommand('streams', 'create, describe, list, delete, merge, split and scale streams');
}
