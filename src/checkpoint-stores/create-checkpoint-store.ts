import { ConfigurationError } from '../core/errors';
import { type CheckpointStore } from './checkpoint-store';
import { DynamoDbCheckpointStore } from './dynamodb-checkpoint-store';
import { DEFAULT_CHECKPOINT_DIRECTORY, FileCheckpointStore } from './file-checkpoint-store';

/** A parsed `--checkpoints` value. */
export type CheckpointStoreSpec = { readonly kind: 'file'; readonly directory: string } | { readonly kind: 'dynamodb'; readonly tableName: string | undefined };

/**
 * Parses `file:PATH` (a folder; one JSON file per application and stream) or `dynamodb:TABLE` (a KCL lease table;
 * `dynamodb:` alone uses the application name, as the KCL does). Undefined means the file store in `.shardline/checkpoints`.
 * @throws ConfigurationError naming the accepted forms.
 */
export function parseCheckpointStoreSpec(value: string | undefined): CheckpointStoreSpec {
  if (value === undefined || value === '') return { kind: 'file', directory: DEFAULT_CHECKPOINT_DIRECTORY };
  const match = /^(file|dynamodb):(.*)$/.exec(value);
  if (match === null) {
    throw new ConfigurationError(`--checkpoints ${JSON.stringify(value)} is not understood: use file:PATH (a folder) or dynamodb:TABLE (a KCL lease table)`);
  }
  const rest = match[2] ?? '';
  if (match[1] === 'file') {
    if (rest === '') throw new ConfigurationError('--checkpoints file: needs a folder, e.g. file:.shardline/checkpoints');
    return { kind: 'file', directory: rest };
  }
  if (rest !== '' && !/^[a-zA-Z0-9_.-]{3,255}$/.test(rest)) {
    throw new ConfigurationError(`--checkpoints dynamodb:${rest}: a table name is 3-255 letters, digits, "_", "-" or "."`);
  }
  return { kind: 'dynamodb', tableName: rest === '' ? undefined : rest };
}

/** Makes the store a `--checkpoints` value names, for one application and stream. */
export function createCheckpointStore(
  spec: CheckpointStoreSpec,
  context: { readonly applicationName: string; readonly streamName: string; readonly region?: string | undefined; readonly dynamoDbEndpoint?: string | undefined },
): CheckpointStore {
  if (spec.kind === 'file') {
    return new FileCheckpointStore({ directory: spec.directory, applicationName: context.applicationName, streamName: context.streamName });
  }
  return new DynamoDbCheckpointStore({
    tableName: spec.tableName ?? context.applicationName,
    ...(context.region === undefined ? {} : { region: context.region }),
    ...(context.dynamoDbEndpoint === undefined ? {} : { endpoint: context.dynamoDbEndpoint }),
  });
}
