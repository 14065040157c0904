import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { assertSeparateCheckpoints, createCheckpointStore, parseCheckpointStoreSpec } from '../../../src/checkpoint-stores/create-checkpoint-store';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { dynamodbEndpoint, kinesaliteEndpoint } from '../../harness/endpoints';
import { collected, collectedIds, CollectorConsumer } from './collector.consumer';
import { createStream, localKinesis, makeRecords, memoryLogger, putRecords, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

/** Runs one application on the stream until `expected` records arrived, then stops it; returns the ids it handled. */
async function consume(stream: string, applicationName: string, checkpoints: string, expected: number): Promise<string[]> {
  collected.length = 0;
  const kinesis = localKinesis(kinesaliteEndpoint());
  const { logger, lines } = memoryLogger();
  const source = new PollingRecordSource({
    streamName: stream,
    client: kinesis,
    checkpointStore: createCheckpointStore(parseCheckpointStoreSpec(checkpoints), { applicationName, streamName: stream, dynamoDbEndpoint: dynamodbEndpoint() }),
    logger,
    minPollIntervalMs: 20,
    idlePollIntervalMs: 100,
  });
  const app = await ShardlineApp.start({ consumer: CollectorConsumer, source, logger, shutdownTimeoutMs: 5_000 });
  try {
    await waitFor(() => collectedIds().length >= expected, 30_000, () => `${applicationName}: ${collectedIds().length} of ${expected}\n${lines.join('\n')}`);
    await new Promise((r) => setTimeout(r, 300)); // nothing more may come
    return collectedIds();
  } finally {
    await app.stop();
    await source.close();
    kinesis.destroy();
  }
}

describe('two consumers of one module keep separate checkpoints (dynalite)', () => {
  it('each resumes from its own position with dynamodb:PREFIX-{app}', async () => {
    const kinesis = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('poll-two-apps');
    await createStream(kinesis, stream, 2);
    const checkpoints = `dynamodb:${uniqueName('leases')}-{app}`;
    assertSeparateCheckpoints(parseCheckpointStoreSpec(checkpoints), [
      { consumerName: 'A', applicationName: 'app-a', streamName: stream },
      { consumerName: 'B', applicationName: 'app-b', streamName: stream },
    ]);
    const first = makeRecords('first', 30, 6);
    await putRecords(kinesis, stream, first);
    expect(new Set(await consume(stream, 'app-a', checkpoints, 30))).toEqual(new Set(first.map((r) => r.id)));

    const second = makeRecords('second', 20, 6);
    await putRecords(kinesis, stream, second);
    // B never ran: it starts at TRIM_HORIZON from its own leases, not at A's checkpoints.
    expect(new Set(await consume(stream, 'app-b', checkpoints, 50))).toEqual(new Set([...first, ...second].map((r) => r.id)));
    // A resumes after its own checkpoints (not B's, which are further on the same shards).
    const third = makeRecords('third', 10, 6);
    await putRecords(kinesis, stream, third);
    expect(new Set(await consume(stream, 'app-a', checkpoints, 30))).toEqual(new Set([...second, ...third].map((r) => r.id)));
    kinesis.destroy();
  });
});
