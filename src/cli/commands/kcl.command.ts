import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline kcl`. */
export function kclCommand(): Command {
  return pendingCommand('kcl', 'run under the KCL MultiLangDaemon: generate properties, fetch the daemon, start it');
}
