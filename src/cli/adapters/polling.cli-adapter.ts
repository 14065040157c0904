import { PollingRecordSource } from '../../adapters/polling/polling-record-source';
import { parseInitialPosition } from '../../adapters/polling/parse-initial-position';
import { createCheckpointStore, parseCheckpointStoreSpec } from '../../checkpoint-stores/create-checkpoint-store';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';
import { type CliAdapter } from '../cli-adapter';

/**
 * `--adapter polling`: reads every shard of the stream directly with GetRecords (no Java), one reader per shard,
 * checkpoints in a file (`.shardline/checkpoints` by default) or in a KCL lease table (`--checkpoints dynamodb:TABLE`).
 */
export const pollingCliAdapter: CliAdapter = {
  name: 'polling',
  description: 'reads every shard directly with GetRecords (no Java)',
  setup: (consumers, options, { logger }) => {
    const spec = parseCheckpointStoreSpec(options.checkpoints);
    const from = options.from === undefined ? undefined : parseInitialPosition(options.from);
    const clients = new Map<string, ReturnType<typeof createKinesisClient>>();
    const sources = consumers.map((consumer) => {
      const region = options.region ?? consumer.options.region;
      const key = `${region ?? ''}|${options.endpoint ?? ''}`;
      let client = clients.get(key);
      if (client === undefined) {
        client = createKinesisClient({ ...(region ? { region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
        clients.set(key, client);
      }
      const streamName = options.stream ?? consumer.options.streamName;
      return new PollingRecordSource({
        streamName,
        client,
        checkpointStore: createCheckpointStore(spec, { applicationName: consumer.options.applicationName, streamName, region }),
        initialPosition: from ?? consumer.options.initialPosition,
        logger,
      });
    });
    return Promise.resolve({
      sources,
      handleSignals: true,
      stdoutReserved: false,
      dispose: async () => {
        await Promise.allSettled(sources.map((source) => source.close()));
        for (const client of clients.values()) client.destroy();
      },
    });
  },
};
