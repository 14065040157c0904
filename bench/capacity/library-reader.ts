/**
 * shardline's polling adapter as a library: `PollingRecordSource` + `ShardlineApp` with the in-memory checkpoint
 * store (checkpoint per batch, nothing written to disk), counting records: the adapter's own capacity, without the
 * file store's fsyncs. Reports to run.ts over IPC (probe.ts).
 *
 * Usage (child of run.ts): node -r ./dist/cli/register.js bench/capacity/library-reader.ts <endpoint> <stream> [maxBufferedBytes]
 */
import { createKinesisClient, createLogger, PollingRecordSource, ShardlineApp } from '../../dist';
import { MemoryCheckpointStore } from '../../dist/checkpoint-stores/memory-checkpoint-store';
import { CountingConsumer } from './counting-consumer';

async function main(): Promise<void> {
  const [endpoint = '', stream = '', maxBuffered] = process.argv.slice(2);
  const logger = createLogger({ level: 'warn' });
  const source = new PollingRecordSource({
    streamName: stream,
    client: createKinesisClient({ endpoint, region: 'us-east-1' }),
    checkpointStore: new MemoryCheckpointStore(),
    initialPosition: 'LATEST',
    logger,
    ...(maxBuffered === undefined ? {} : { maxBufferedBytes: Number(maxBuffered) }),
  });
  const app = await ShardlineApp.start({ consumer: CountingConsumer, source, logger });
  const stop = (): void => void app.stop().then(() => source.close());
  process.once('SIGTERM', stop);
}

void main();
