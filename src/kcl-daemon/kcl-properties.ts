import { type ConsumerDefinition } from '../decorators/metadata-types';
import { ConfigurationError } from '../core/errors';
import { kclTakeoverProperties, type KclTakeoverProfile } from './kcl-takeover-profile';

/**
 * Property keys the MultiLangDaemon 3.x reads (bean names, case-sensitive). The daemon ignores an unknown key
 * silently, so shardline refuses to write one.
 */
export const KCL_PROPERTY_KEYS: ReadonlySet<string> = new Set([
  'executableName', 'processingLanguage', 'maxActiveThreads', 'applicationName', 'streamName', 'streamArn', 'tableName',
  'workerId', 'workerIdentifier', 'AwsCredentialsProvider', 'AwsCredentialsProviderDynamoDB', 'AwsCredentialsProviderCloudWatch',
  'regionName', 'kinesisEndpoint', 'dynamoDBEndpoint', 'cloudWatchClient.endpointOverride',
  'failoverTimeMillis', 'leaseAssignmentIntervalMillis', 'enablePriorityLeaseAssignment', 'leaseTableDeletionProtectionEnabled',
  'leaseTablePitrEnabled', 'shardSyncIntervalMillis', 'cleanupLeasesUponShardCompletion', 'ignoreUnexpectedChildShards',
  'maxLeasesForWorker', 'maxLeasesToStealAtOneTime', 'initialLeaseTableReadCapacity', 'initialLeaseTableWriteCapacity',
  'leaseTableScanTotalSegments', 'maxLeaseRenewalThreads', 'listShardsBackoffTimeInMillis', 'maxListShardsRetryAttempts',
  'initialPositionInStream', 'initialPositionInStreamExtended', 'callProcessRecordsEvenForEmptyRecordList',
  'parentShardPollIntervalMillis', 'skipShardSyncAtWorkerInitializationIfLeasesExist', 'schedulerInitializationBackoffTimeMillis',
  'clientVersionConfig', 'migrateAllEntitiesToLeaseTable', 'tableMigrationCompleteBakeTimeSeconds', 'taskBackoffTimeMillis',
  'logWarningForTaskAfterMillis', 'metricsBufferTimeMillis', 'metricsMaxQueueSize', 'metricsLevel', 'metricsEnabledDimensions',
  'retrievalMode', 'maxRecords', 'idleTimeBetweenReadsInMillis', 'millisBehindLatestThresholdForReducedTps',
  'retryGetRecordsInSeconds', 'maxGetRecordsThreadPool', 'fanoutConfig.consumerArn', 'fanoutConfig.consumerName',
  'gracefulLeaseHandoffTimeoutMillis', 'isGracefulLeaseHandoffEnabled', 'inMemoryWorkerMetricsCaptureFrequencyMillis',
  'workerMetricsReporterFreqInMillis', 'noOfPersistedMetricsPerWorkerMetrics', 'disableWorkerMetrics', 'maxThroughputPerHostKBps',
  'dampeningPercentage', 'reBalanceThresholdPercentage', 'allowThroughputOvershoot', 'varianceBalancingFrequency',
  'workerMetricsEMAAlpha', 'staleWorkerMetricsEntryCleanupDuration', 'workerMetricsTableName', 'workerMetricsBillingMode',
  'coordinatorStateTableName', 'coordinatorStateBillingMode', 'shutdownGraceMillis', 'timeoutInSeconds',
]);

/** How the daemon reads records: `POLLING` (GetRecords) or `FANOUT` (enhanced fan-out, SubscribeToShard). */
export type KclRetrievalMode = 'POLLING' | 'FANOUT';

/** What {@link buildKclProperties} needs beyond the consumer's own options. */
export interface KclPropertiesInput {
  /** The consumer whose `@Consumer` options give applicationName, streamName, region and initial position. */
  readonly definition: ConsumerDefinition;
  /** The command the daemon runs for each shard (split on spaces, no shell). */
  readonly executable: string;
  /** Overrides the consumer's stream. */
  readonly streamName?: string;
  /** Overrides the consumer's region (default: the consumer's, else AWS_REGION, else us-east-1). */
  readonly region?: string;
  readonly retrievalMode: KclRetrievalMode;
  /** How long the daemon's shutdown hook waits for children to checkpoint (the daemon's default, 0, skips them). */
  readonly shutdownGraceMs: number;
  readonly kinesisEndpoint?: string;
  readonly dynamoDbEndpoint?: string;
  readonly cloudWatchEndpoint?: string;
  /** `NONE` turns CloudWatch metrics off (no endpoint needed locally). */
  readonly metricsLevel?: 'NONE' | 'SUMMARY' | 'DETAILED';
  readonly workerId?: string;
  /** Default `AwsCredentialsProvider` value: `DefaultCredentialsProvider`. */
  readonly credentialsProvider?: string;
  /** Writes the timers that decide how fast a dead worker's shards move (see {@link KclTakeoverProfile}); `extra` overrides them. */
  readonly takeover?: KclTakeoverProfile;
  /** Any other daemon key; each must be a known key. */
  readonly extra?: ReadonlyArray<readonly [string, string]>;
}

/** One `key = value` line of a properties file, in order. */
export type KclProperty = readonly [key: string, value: string];

/** Builds the daemon's properties for a consumer, in a stable order, validating every key and value. */
export function buildKclProperties(input: KclPropertiesInput): KclProperty[] {
  const { options } = input.definition;
  const stream = input.streamName ?? options.streamName;
  const props: KclProperty[] = [
    ['executableName', input.executable],
    ['applicationName', options.applicationName],
    stream.startsWith('arn:') ? ['streamArn', stream] : ['streamName', stream],
  ];
  if (input.workerId !== undefined) props.push(['workerId', input.workerId]);
  props.push(['AwsCredentialsProvider', input.credentialsProvider ?? 'DefaultCredentialsProvider']);
  props.push(['regionName', input.region ?? options.region ?? process.env.AWS_REGION ?? 'us-east-1']);
  const position = options.initialPosition;
  if (typeof position === 'string') props.push(['initialPositionInStream', position]);
  else props.push(['initialPositionInStreamExtended', String(Math.floor(position.atTimestamp.getTime() / 1000))]);
  props.push(['retrievalMode', input.retrievalMode]);
  props.push(['shutdownGraceMillis', String(input.shutdownGraceMs)]);
  if (input.kinesisEndpoint !== undefined) props.push(['kinesisEndpoint', checkUrl('kinesis endpoint', input.kinesisEndpoint)]);
  if (input.dynamoDbEndpoint !== undefined) props.push(['dynamoDBEndpoint', checkUrl('DynamoDB endpoint', input.dynamoDbEndpoint)]);
  if (input.cloudWatchEndpoint !== undefined) props.push(['cloudWatchClient.endpointOverride', checkUrl('CloudWatch endpoint', input.cloudWatchEndpoint)]);
  if (input.metricsLevel !== undefined) props.push(['metricsLevel', input.metricsLevel]);
  if (input.takeover !== undefined) props.push(...kclTakeoverProperties(input.takeover));
  for (const [key, value] of input.extra ?? []) {
    if (!KCL_PROPERTY_KEYS.has(key)) {
      throw new ConfigurationError(`unknown KCL property "${key}": the daemon would ignore it silently (keys are case-sensitive bean names such as idleTimeBetweenReadsInMillis; see docs/kcl.md)`);
    }
    const at = props.findIndex(([k]) => k === key);
    if (at >= 0) props[at] = [key, value];
    else props.push([key, value]);
  }
  for (const [key, value] of props) {
    if (value.trim() !== value || value === '' || /[\r\n]/.test(value)) {
      throw new ConfigurationError(`KCL property ${key} has an empty value or surrounding spaces or newlines (${JSON.stringify(value)}): give a plain value`);
    }
  }
  return props;
}

function checkUrl(what: string, value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigurationError(`the ${what} ${JSON.stringify(value)} is not a URL: give a full URL such as http://127.0.0.1:4568`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ConfigurationError(`the ${what} ${value} must start with http:// or https://`);
  return value.replace(/\/$/, '');
}

/**
 * Formats properties as the daemon reads them: `key = value` lines with no trailing spaces and no inline comments
 * (in a properties file `#` starts a comment only at the beginning of a line). `header` lines become `#` comments;
 * `notes` (key → lines) become `#` comments just above their key.
 */
export function formatKclProperties(props: readonly KclProperty[], header: readonly string[] = [], notes: ReadonlyMap<string, readonly string[]> = new Map()): string {
  const comment = (line: string): string => (line === '' ? '#' : `# ${line}`).trimEnd();
  const lines = header.map(comment);
  for (const [key, value] of props) {
    for (const line of notes.get(key) ?? []) lines.push(comment(line.replace(/[\r\n]+/g, ' ')));
    // In a properties file a backslash escapes the next character: double it so that values arrive as written.
    lines.push(`${key} = ${value.replace(/\\/g, '\\\\')}`);
  }
  return `${lines.join('\n')}\n`;
}
