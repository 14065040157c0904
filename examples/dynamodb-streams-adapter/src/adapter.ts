import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import { UsageError, assertSeparateCheckpoints, createCheckpointStore, parseCheckpointStoreSpec, type CliAdapter } from 'shardline';
import { parseAdapterOptions, parseFrom } from './adapter-options';
import { DynamoDbStreamsRecordSource, tableOfStreamArn } from './dynamodb-streams-record-source';

/**
 * `shardline run app.ts --adapter shardline-dynamodb-streams [--adapter-option table=Flights]`: each consumer reads a
 * DynamoDB table's stream. The table is `--adapter-option table`, else `--stream`, else the consumer's `streamName`
 * (a stream ARN there is read as such). `--endpoint` and `--region` apply to both DynamoDB clients; checkpoints go where
 * `--checkpoints` says (a file per application and table by default). Bad options end the run with one line (exit 2);
 * a missing table or stream, before any consumer starts, with one line (exit 1).
 */
export const adapter: CliAdapter = {
  name: 'dynamodb-streams',
  description: "reads a DynamoDB table's stream (item changes) with GetRecords",
  setup: async (consumers, options, { logger }) => {
    const cli = parseAdapterOptions(options.adapterOptions ?? {});
    const fromFlag = parseFrom(options.from, '--from');
    const spec = parseCheckpointStoreSpec(options.checkpoints);
    const targets = consumers.map((consumer) => {
      const named = cli.streamArn ?? cli.table ?? options.stream ?? consumer.options.streamName;
      const streamArn = named.startsWith('arn:') ? named : undefined;
      const tableName = streamArn === undefined ? named : (tableOfStreamArn(streamArn) ?? named);
      const initial = consumer.options.initialPosition;
      if (cli.from === undefined && fromFlag === undefined && typeof initial !== 'string') {
        throw new UsageError(`${consumer.name} starts AT_TIMESTAMP, which DynamoDB Streams do not have: pass --from TRIM_HORIZON or --from LATEST`);
      }
      const from = cli.from ?? fromFlag ?? (initial as 'TRIM_HORIZON' | 'LATEST');
      return { consumer, streamArn, tableName, from };
    });
    assertSeparateCheckpoints(
      spec,
      targets.map((t) => ({ consumerName: t.consumer.name, applicationName: t.consumer.options.applicationName, streamName: t.tableName })),
    );
    const clientConfig = {
      ...(options.region === undefined ? {} : { region: options.region }),
      ...(options.endpoint === undefined ? {} : { endpoint: options.endpoint }),
    };
    const dynamoDbClient = new DynamoDBClient(clientConfig);
    const client = new DynamoDBStreamsClient(clientConfig);
    const sources = targets.map(
      (t) =>
        new DynamoDbStreamsRecordSource({
          client,
          dynamoDbClient,
          ...(t.streamArn === undefined ? { tableName: t.tableName } : { streamArn: t.streamArn }),
          checkpointStore: createCheckpointStore(spec, {
            applicationName: t.consumer.options.applicationName,
            streamName: t.tableName,
            region: options.region ?? t.consumer.options.region,
            dynamoDbEndpoint: options.endpoint,
          }),
          initialPosition: t.from,
          logger,
          ...(cli.idlePollIntervalMs === undefined ? {} : { idlePollIntervalMs: cli.idlePollIntervalMs }),
          ...(cli.maxRecordsPerCall === undefined ? {} : { maxRecordsPerCall: cli.maxRecordsPerCall }),
          ...(options.startupTimeoutMs === undefined ? {} : { startupTimeoutMs: options.startupTimeoutMs }),
          ...(options.endpoint === undefined ? {} : { endpointDescription: `--endpoint ${options.endpoint}` }),
        }),
    );
    const dispose = async (): Promise<void> => {
      await Promise.allSettled(sources.map((source) => source.close()));
      dynamoDbClient.destroy();
      client.destroy();
    };
    // Every stream is checked before any consumer starts; the clients are destroyed only once no check is in flight.
    const checks = await Promise.allSettled(sources.map((source) => source.checkStream()));
    const failed = checks.find((check): check is PromiseRejectedResult => check.status === 'rejected');
    if (failed !== undefined) {
      await dispose();
      throw failed.reason;
    }
    return { sources, handleSignals: true, stdoutReserved: false, dispose };
  },
};

