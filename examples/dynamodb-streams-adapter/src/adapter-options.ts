import { UsageError } from 'shardline';

/** What `--adapter-option key=value` may set for this adapter. */
export interface DynamoDbStreamsCliOptions {
  /** `table=NAME`: the table whose stream is read. Default: `--stream`, else the consumer's `streamName`. */
  readonly table?: string;
  /** `stream-arn=ARN`: read this stream instead of a table's latest one. */
  readonly streamArn?: string;
  /** `from=TRIM_HORIZON|LATEST`: where shards without a checkpoint start (`--from` works too). */
  readonly from?: 'TRIM_HORIZON' | 'LATEST';
  /** `idle-poll-ms=N`: wait after an empty page. */
  readonly idlePollIntervalMs?: number;
  /** `max-records=N`: GetRecords Limit, 1..1000. */
  readonly maxRecordsPerCall?: number;
}

const KNOWN = ['table', 'stream-arn', 'from', 'idle-poll-ms', 'max-records'] as const;

/**
 * Reads this adapter's `--adapter-option`s.
 * @throws UsageError (exit 2) naming the bad option and what it takes.
 */
export function parseAdapterOptions(raw: Readonly<Record<string, string>>): DynamoDbStreamsCliOptions {
  for (const key of Object.keys(raw)) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw new UsageError(`--adapter-option ${key} is not an option of the dynamodb-streams adapter (it takes ${KNOWN.join(', ')})`);
    }
  }
  const table = raw['table'];
  const streamArn = raw['stream-arn'];
  if (table !== undefined && streamArn !== undefined) throw new UsageError('--adapter-option table and stream-arn exclude each other: give one');
  if (table !== undefined && !/^[a-zA-Z0-9_.-]{3,255}$/.test(table)) {
    throw new UsageError(`--adapter-option table=${table}: a table name is 3-255 letters, digits, "_", "-" or "."`);
  }
  if (streamArn !== undefined && !/^arn:[^:]+:dynamodb:[^:]*:[^:]*:table\/[^/]+\/stream\/.+$/.test(streamArn)) {
    throw new UsageError(`--adapter-option stream-arn=${streamArn} is not a DynamoDB stream ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME/stream/LABEL)`);
  }
  const from = parseFrom(raw['from'], '--adapter-option from');
  const idlePollIntervalMs = parseInteger(raw['idle-poll-ms'], 'idle-poll-ms', 1, 60_000);
  const maxRecordsPerCall = parseInteger(raw['max-records'], 'max-records', 1, 1_000);
  return {
    ...(table === undefined ? {} : { table }),
    ...(streamArn === undefined ? {} : { streamArn }),
    ...(from === undefined ? {} : { from }),
    ...(idlePollIntervalMs === undefined ? {} : { idlePollIntervalMs }),
    ...(maxRecordsPerCall === undefined ? {} : { maxRecordsPerCall }),
  };
}

/**
 * `TRIM_HORIZON` or `LATEST` (DynamoDB Streams have no AT_TIMESTAMP).
 * @throws UsageError for anything else.
 */
export function parseFrom(value: string | undefined, what: string): 'TRIM_HORIZON' | 'LATEST' | undefined {
  if (value === undefined) return undefined;
  const upper = value.toUpperCase();
  if (upper === 'TRIM_HORIZON' || upper === 'LATEST') return upper;
  throw new UsageError(`${what} ${value}: DynamoDB Streams start at TRIM_HORIZON or LATEST (there is no AT_TIMESTAMP)`);
}

function parseInteger(value: string | undefined, key: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) throw new UsageError(`--adapter-option ${key}=${value}: expected an integer from ${min} to ${max}`);
  return parsed;
}
