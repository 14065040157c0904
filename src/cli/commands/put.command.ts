import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline put`. */
export function putCommand(): Command {
  return pendingCommand('put', 'produce records from NDJSON or lines');
}
