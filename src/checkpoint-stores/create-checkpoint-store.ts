import { ConfigurationError } from '../core/errors';
import { type CheckpointStore } from './checkpoint-store';
import { DynamoDbCheckpointStore } from './dynamodb-checkpoint-store';
import { checkpointFileName, DEFAULT_CHECKPOINT_DIRECTORY, FileCheckpointStore } from './file-checkpoint-store';

/** A parsed `--checkpoints` value. */
export type CheckpointStoreSpec = { readonly kind: 'file'; readonly directory: string } | { readonly kind: 'dynamodb'; readonly tableName: string | undefined };

/** In a `dynamodb:` table name, replaced by each consumer's applicationName: `dynamodb:leases-{app}`. */
export const APP_PLACEHOLDER = '{app}';

/**
 * Parses `file:PATH` (a folder; one JSON file per application and stream) or `dynamodb:TABLE` (a KCL lease table;
 * `dynamodb:` alone uses the application name, as the KCL does; `{app}` in TABLE is replaced by it). Undefined means the file store in `.shardline/checkpoints`.
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
  if (rest !== '' && !/^[a-zA-Z0-9_.-]{3,255}$/.test(rest.replaceAll(APP_PLACEHOLDER, 'app'))) {
    throw new ConfigurationError(`--checkpoints dynamodb:${rest}: a table name is 3-255 letters, digits, "_", "-" or "." (and ${APP_PLACEHOLDER} for the application name)`);
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
    tableName: tableNameFor(spec, context.applicationName),
    ...(context.region === undefined ? {} : { region: context.region }),
    ...(context.dynamoDbEndpoint === undefined ? {} : { endpoint: context.dynamoDbEndpoint }),
  });
}

/** The lease table of one application: `dynamodb:` → the applicationName, `dynamodb:x-{app}` → `x-<applicationName>`. */
export function tableNameFor(spec: CheckpointStoreSpec & { kind: 'dynamodb' }, applicationName: string): string {
  return spec.tableName === undefined ? applicationName : spec.tableName.replaceAll(APP_PLACEHOLDER, applicationName);
}

/** What {@link assertSeparateCheckpoints} needs to know of a consumer. */
export interface CheckpointOwner {
  readonly consumerName: string;
  readonly applicationName: string;
  readonly streamName: string;
}

/**
 * Refuses a `--checkpoints` value under which two consumers of one process would share checkpoints: lease keys and
 * file entries are bare shard ids, so they would overwrite each other's positions (and one could resume from its
 * sibling's checkpoint and skip records). The KCL keeps one lease table per application; so does this.
 * @throws ConfigurationError saying what to write instead.
 */
export function assertSeparateCheckpoints(spec: CheckpointStoreSpec, owners: readonly CheckpointOwner[]): void {
  const byTarget = new Map<string, CheckpointOwner[]>();
  for (const owner of owners) {
    // A file is per application and stream; a lease table is per application (its keys are shard ids only).
    const target = spec.kind === 'file' ? checkpointFileName(owner.applicationName, owner.streamName) : tableNameFor(spec, owner.applicationName);
    byTarget.set(target, [...(byTarget.get(target) ?? []), owner]);
  }
  for (const sharing of byTarget.values()) {
    if (sharing.length < 2) continue;
    const names = sharing.map((o) => o.consumerName).join(', ');
    if (spec.kind === 'dynamodb' && new Set(sharing.map((o) => o.applicationName)).size > 1) {
      throw new ConfigurationError(
        `--checkpoints dynamodb:${spec.tableName ?? ''} would share one lease table between ${names}, which would overwrite each other's checkpoints: ` +
          `use --checkpoints dynamodb: (one table per consumer, named after its applicationName, as the KCL does) or dynamodb:PREFIX-${APP_PLACEHOLDER}`,
      );
    }
    throw new ConfigurationError(
      `${names} have the same applicationName (${sharing[0]?.applicationName ?? ''})${spec.kind === 'file' ? ' and stream' : ''}, so they would overwrite each other's checkpoints: ` +
        'give each consumer its own applicationName in @Consumer, or run them with --consumer in separate processes',
    );
  }
}
