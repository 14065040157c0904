import { type SecretProvider } from '../core/secret-provider';
import { type RunOptions } from './cli-adapter';

/** The secret provider `shardline run` gives consumers for `kms:` and `kms-file:` secrets. */
export function createSecretProvider(_options: RunOptions): SecretProvider | undefined {
  return undefined;
}
