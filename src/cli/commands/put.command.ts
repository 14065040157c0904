import { DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Command, Option } from 'commander';
import { createReadStream, existsSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { createInterface } from 'node:readline';
import { ConfigurationError, ProducerError } from '../../core/errors';
import { KinesisProducer, type ProducerRecord, type PutManyResult } from '../../producer/kinesis-producer';
import { parsePositiveInteger } from '../parse-options';
import { addConnectionOptions, kinesisClientFor, type ConnectionCliOptions } from './streams.command';

interface PutCliOptions extends ConnectionCliOptions {
  readonly stream: string;
  readonly file?: string;
  readonly format: 'ndjson' | 'lines';
  readonly partitionKeyField?: string;
  readonly partitionKey?: string;
  readonly aggregate?: boolean;
  readonly lingerMs?: number;
  readonly maxInFlight?: number;
  readonly progress?: boolean;
}

/** Records per putMany call: one promise per chunk rather than one per record. */
const CHUNK_RECORDS = 500;

/** Prints a progress line on stderr once the input takes more than a second: records/s, bytes, failures. */
class Progress {
  private readonly startedAt = Date.now();
  private timer: NodeJS.Timeout | undefined;
  private shown = false;
  private readonly tty = process.stderr.isTTY === true;

  constructor(
    private readonly read: () => { records: number; delivered: number; bytes: number; failed: number },
    enabled: boolean,
  ) {
    if (enabled) this.timer = setInterval(() => this.print(), this.tty ? 1000 : 5000).unref();
  }

  private print(): void {
    const s = this.read();
    const seconds = (Date.now() - this.startedAt) / 1000;
    const line = `put ${s.delivered}/${s.records} records, ${formatBytes(s.bytes)}, ${Math.round(s.delivered / seconds)} records/s, ${s.failed} failed`;
    this.shown = true;
    process.stderr.write(this.tty ? `\r${line}\x1b[K` : `${line}\n`);
  }

  stop(): void {
    if (this.timer !== undefined) clearInterval(this.timer);
    if (this.shown && this.tty) process.stderr.write('\n');
  }
}

function formatBytes(bytes: number): string {
  if (bytes < 1024) return `${bytes} B`;
  if (bytes < 1024 * 1024) return `${(bytes / 1024).toFixed(1)} KiB`;
  return `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
}

/** The partition key of one input line. */
function partitionKeyOf(options: PutCliOptions, parsed: unknown, lineNumber: number, source: string): string {
  if (options.partitionKeyField !== undefined) {
    const value = typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>)[options.partitionKeyField] : undefined;
    if (value === undefined || value === null || value === '') {
      throw new ConfigurationError(`${source} line ${lineNumber} has no "${options.partitionKeyField}" field for the partition key: fix the line or pick another --partition-key-field`);
    }
    return typeof value === 'string' ? value : JSON.stringify(value);
  }
  return options.partitionKey ?? randomUUID();
}

/**
 * Fails fast, before reading any input, when the stream cannot be reached: the producer would otherwise retry every
 * batch with backoff for a long time before giving up.
 */
async function checkStreamReachable(client: KinesisClient, options: PutCliOptions): Promise<void> {
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: options.stream }));
  } catch (error) {
    const name = (error as Error).name;
    const where = options.endpoint ?? 'the AWS region';
    if (name === 'ResourceNotFoundException') {
      throw new ConfigurationError(`stream ${options.stream} does not exist at ${where}: create it first (shardline streams create ${options.stream})`, { cause: error });
    }
    throw new ConfigurationError(`cannot reach stream ${options.stream} at ${where} (${(error as Error).message}): check --endpoint, --region and your AWS credentials`, { cause: error });
  }
}

async function runPut(options: PutCliOptions): Promise<void> {
  if (options.file !== undefined && !existsSync(options.file)) throw new ConfigurationError(`input file ${options.file} does not exist: check the path`);
  if (options.partitionKeyField !== undefined && options.format !== 'ndjson') {
    throw new ConfigurationError('--partition-key-field needs --format ndjson (a plain line has no fields): use --partition-key for lines');
  }
  const source = options.file ?? 'stdin';
  const client = kinesisClientFor(options);
  await checkStreamReachable(client, options);
  const producer = new KinesisProducer(client, {
    streamName: options.stream,
    aggregate: options.aggregate === true,
    ...(options.lingerMs !== undefined ? { lingerMs: options.lingerMs } : {}),
    ...(options.maxInFlight !== undefined ? { maxInFlightCalls: options.maxInFlight } : {}),
  });
  let records = 0;
  let bytes = 0;
  let firstError: Error | undefined;
  // Invalid records (e.g. over 1 MiB) and records whose last attempt failed: both come back in the putMany results.
  let failed = 0;
  const calls = new Set<Promise<void>>();
  const onResult = (result: PutManyResult): void => {
    if (result.failedCount === 0) return;
    firstError ??= result.errors.find((error) => error !== undefined);
    failed += result.failedCount;
  };
  let chunk: ProducerRecord[] = [];
  const send = async (): Promise<void> => {
    if (producer.isFull) await producer.ready(); // bounded memory: at most one chunk waits beyond the queue
    const call: Promise<void> = producer.putMany(chunk).then(onResult).finally(() => calls.delete(call));
    calls.add(call);
    chunk = [];
  };
  const progress = new Progress(() => {
    const stats = producer.stats();
    return { records, delivered: stats.deliveredRecords, bytes: stats.deliveredBytes, failed: stats.failedRecords };
  }, options.progress !== false);
  const startedAt = Date.now();
  const input = options.file !== undefined ? createReadStream(options.file) : process.stdin;
  const lines = createInterface({ input, crlfDelay: Infinity });
  let lineNumber = 0;
  try {
    for await (const line of lines) {
      lineNumber++;
      if (line.trim() === '') continue;
      let parsed: unknown;
      if (options.format === 'ndjson') {
        try {
          parsed = JSON.parse(line);
        } catch {
          throw new ConfigurationError(`${source} line ${lineNumber} is not JSON: fix it, or use --format lines to send each line as text`);
        }
      }
      const key = partitionKeyOf(options, parsed, lineNumber, source);
      records++;
      bytes += Buffer.byteLength(line, 'utf8');
      chunk.push({ data: line, partitionKey: key });
      if (chunk.length === CHUNK_RECORDS) await send();
    }
    if (chunk.length > 0) await send();
    await Promise.all(calls);
    await producer.flush();
  } finally {
    lines.close();
    await producer.close();
    progress.stop();
  }
  const stats = producer.stats();
  const seconds = (Date.now() - startedAt) / 1000;
  const summary = { stream: options.stream, records, delivered: stats.deliveredRecords, failed, bytes, seconds, recordsPerSecond: Math.round(stats.deliveredRecords / Math.max(seconds, 0.001)) };
  if (options.json === true) process.stdout.write(`${JSON.stringify(summary)}\n`);
  else process.stdout.write(`put ${summary.delivered} of ${records} records (${formatBytes(bytes)}) to ${options.stream} in ${seconds.toFixed(1)} s, ${summary.recordsPerSecond} records/s, ${summary.failed} failed\n`);
  if (failed > 0) {
    throw new ProducerError(`${failed} of ${records} records were not delivered; first error: ${firstError?.message ?? 'unknown'}`);
  }
}

/** `shardline put`. */
export function putCommand(): Command {
  return addConnectionOptions(
    new Command('put')
      .description('produce records from NDJSON or lines, read from stdin or a file, with a progress line on stderr')
      .requiredOption('--stream <name>', 'stream to write to')
      .option('--file <path>', 'read this file instead of stdin')
      .addOption(new Option('--format <format>', 'ndjson: one JSON value per line; lines: each line as text').choices(['ndjson', 'lines']).default('ndjson'))
      .option('--partition-key-field <field>', 'NDJSON field holding the partition key (e.g. dest)')
      .option('--partition-key <key>', 'one partition key for every record (default: a random key per record)')
      .option('--aggregate', 'pack records into KPL aggregates per shard (the KCL and the polling adapter de-aggregate them)')
      .option('--linger-ms <ms>', 'how long a record may wait for a fuller batch (default 100)', parsePositiveInteger)
      .option('--max-in-flight <calls>', 'PutRecords calls in flight at once (default 4)', parsePositiveInteger)
      .option('--no-progress', 'no progress line on stderr'),
  )
    .addHelpText('after', '\nExamples:\n  shardline put --stream flights --file flights.ndjson --partition-key-field dest\n  seq 1 100000 | shardline put --stream numbers --format lines --endpoint http://127.0.0.1:4568\n')
    .action(async (options: PutCliOptions) => runPut(options));
}
