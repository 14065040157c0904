/**
 * shardline's polling consumer reading every shard from TRIM_HORIZON with checkpoints in a file after every batch,
 * counting records in an @OnRecords handler (with mode `read-payloads`, the handler also reads every payload's bytes). Prints one JSON line: { records, wallMs, cpuMs }.
 * Usage (child of run.ts): node -r ./dist/cli/register.js bench/polling/shardline-consumer.ts <endpoint> <stream> <expected> <dir> [count|read-payloads]
 */
import { Consumer, OnRecords, ShardlineApp, PollingRecordSource, FileCheckpointStore, createKinesisClient, createLogger, type KinesisRecord } from '../../src';

let total = 0;
let reached: () => void = () => undefined;
let expected = 0;
let readPayloads = false;
let bytes = 0;

@Consumer({ streamName: 'bench', applicationName: 'bench-polling', checkpoint: 'batch' })
export class CountingConsumer {
  @OnRecords()
  count(records: readonly KinesisRecord[]): void {
    total += records.length;
    if (readPayloads) for (const record of records) bytes += record.data.length;
    if (total >= expected) reached();
  }
}

async function main(): Promise<void> {
  const [endpoint = '', stream = '', expectedText = '0', dir = '.shardline/bench', mode = 'count'] = process.argv.slice(2);
  readPayloads = mode === 'read-payloads';
  expected = Number(expectedText);
  const done = new Promise<void>((resolve) => {
    reached = resolve;
  });
  const client = createKinesisClient({ endpoint, region: 'us-east-1' });
  const logger = createLogger({ level: 'warn' });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const source = new PollingRecordSource({
    streamName: stream,
    client,
    checkpointStore: new FileCheckpointStore({ directory: dir, applicationName: 'bench-polling', streamName: stream }),
    logger,
  });
  const app = await ShardlineApp.start({ consumer: CountingConsumer, source, logger });
  await done;
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  await app.stop();
  await source.close();
  client.destroy();
  process.stdout.write(`${JSON.stringify({ records: total, wallMs, cpuMs: (cpu.user + cpu.system) / 1000, bytes })}\n`);
}

void main();
