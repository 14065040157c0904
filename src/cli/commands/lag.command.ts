import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline lag`. */
export function lagCommand(): Command {
  return pendingCommand('lag', 'show per-shard checkpoints and how far behind they are');
}
