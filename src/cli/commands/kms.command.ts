import { type Command } from 'commander';
import { pendingCommand } from '../pending';

/** `shardline kms`. */
export function kmsCommand(): Command {
  return pendingCommand('kms', 'encrypt and decrypt secrets and files with KMS');
}
