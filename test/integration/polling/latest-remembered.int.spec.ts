import { PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { FileCheckpointStore } from '../../../src/checkpoint-stores/file-checkpoint-store';
import { Consumer, OnRecords, type KinesisRecord } from '../../../src';
import { ShardlineApp } from '../../../src/core/shardline-app';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { collectedIds, collected, CollectorConsumer } from './collector.consumer';
import { createStream, localKinesis, makeRecords, memoryLogger, putRecords, tempDir, uniqueName, waitFor } from './polling-test-kit';

jest.setTimeout(120_000);

let failedBatches = 0;

/** Fails every batch, with no retry, under 'stop': nothing is checkpointed. */
@Consumer({ streamName: 'latest-it', applicationName: 'latest-it-app', checkpoint: 'batch', errors: { maxRetries: 0, onFailure: 'stop' } })
class FailingConsumer {
  @OnRecords()
  handle(_records: readonly KinesisRecord[]): void {
    failedBatches++;
    throw new Error('the first batch fails');
  }
}

describe('LATEST is remembered (kinesalite, AT_TIMESTAMP)', () => {
  it('a shard that started at LATEST and failed its first batch reopens where LATEST was taken, not at the new LATEST', async () => {
    const kinesis = localKinesis(kinesaliteEndpoint());
    const stream = uniqueName('poll-latest');
    await createStream(kinesis, stream, 1);
    await putRecords(kinesis, stream, makeRecords('old', 5, 2)); // before the start: never delivered
    await new Promise((r) => setTimeout(r, 1_500)); // past the 1 s margin kept for clock skew
    const directory = tempDir();
    const open = async (consumer: typeof CollectorConsumer | typeof FailingConsumer) => {
      const { logger, lines } = memoryLogger();
      const source = new PollingRecordSource({
        streamName: stream,
        client: kinesis,
        checkpointStore: new FileCheckpointStore({ directory, applicationName: 'latest-it-app', streamName: stream }),
        initialPosition: 'LATEST',
        logger,
        minPollIntervalMs: 20,
        idlePollIntervalMs: 100,
      });
      const app = await ShardlineApp.start({ consumer, source, logger, shutdownTimeoutMs: 5_000 });
      return { lines, stop: async () => { await app.stop(); await source.close(); } };
    };

    const first = await open(FailingConsumer);
    await waitFor(() => first.lines.some((l) => l.includes('Reading from LATEST')), 20_000, () => first.lines.join('\n'));
    const meanwhile = makeRecords('meanwhile', 10, 2);
    await putRecords(kinesis, stream, meanwhile);
    await waitFor(() => failedBatches > 0, 20_000, () => first.lines.join('\n'));
    await first.stop();

    collected.length = 0;
    const second = await open(CollectorConsumer);
    try {
      await waitFor(() => meanwhile.every((r) => collectedIds().includes(r.id)), 20_000, () => `got ${collectedIds().join(',')}\n${second.lines.join('\n')}`);
      expect(second.lines.join('\n')).toMatch(/AT_TIMESTAMP/);
      expect(collectedIds().filter((id) => id.startsWith('old-'))).toEqual([]);
    } finally {
      await second.stop();
      kinesis.destroy();
    }
  });
});
