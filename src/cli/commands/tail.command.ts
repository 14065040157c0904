import { Command, InvalidArgumentError } from 'commander';
import { PollingRecordSource } from '../../adapters/polling/polling-record-source';
import { parseInitialPosition } from '../../adapters/polling/parse-initial-position';
import { MemoryCheckpointStore } from '../../checkpoint-stores/memory-checkpoint-store';
import { type InitialPosition } from '../../core/consumer-options';
import { ConfigurationError } from '../../core/errors';
import { type KinesisRecord } from '../../core/kinesis-record';
import { createLogger } from '../../core/logger';
import { LOG_LEVELS, type LogLevel } from '../../core/log-options';
import { createKinesisClient } from '../../kinesis/create-kinesis-client';
import { parsePositiveInteger } from '../parse-options';

interface TailOptions {
  readonly stream: string;
  readonly from: InitialPosition;
  readonly endpoint?: string;
  readonly region?: string;
  readonly max?: number;
  readonly raw?: boolean;
  readonly logLevel: LogLevel;
}

/**
 * `shardline tail --stream S`: prints the records of every shard as they arrive (JSON payloads pretty-printed), with
 * no checkpoints: it only watches. Stops on Ctrl-C, or after `--max` records.
 */
export function tailCommand(): Command {
  return new Command('tail')
    .description('print the records of a stream as they arrive (every shard, no checkpoints)')
    .requiredOption('--stream <name>', 'stream name or ARN')
    .option('--from <position>', 'trim-horizon, latest or an ISO time', parseFrom, 'LATEST' as InitialPosition)
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. http://127.0.0.1:4568 for kinesis-local')
    .option('--region <region>', 'AWS region')
    .option('--max <n>', 'stop after this many records', parsePositiveInteger)
    .option('--raw', 'print each payload on one line as it is (no JSON pretty-printing)')
    .option('--log-level <level>', `lowest level logged to stderr (${LOG_LEVELS.join(', ')})`, parseLogLevel, 'warn' as LogLevel)
    .addHelpText('after', '\nExamples:\n  shardline tail --stream orders --endpoint http://127.0.0.1:4568 --from trim-horizon\n  shardline tail --stream orders --from 2026-01-31T12:00:00Z --max 10')
    .action(async (options: TailOptions) => {
      await tail(options);
    });
}

function parseFrom(value: string): InitialPosition {
  try {
    return parseInitialPosition(value);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message.replace(/^--from "[^"]*" is not understood: /, ''));
  }
}

function parseLogLevel(value: string): LogLevel {
  if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${LOG_LEVELS.join(', ')}`);
  return value as LogLevel;
}

/** Formats a record for the terminal: a header line, then the payload (pretty JSON when it is JSON). */
export function formatTailRecord(record: KinesisRecord, raw = false): string {
  const header = `--- ${record.shardId} ${record.sequenceNumber}${record.subSequenceNumber > 0 ? `/${record.subSequenceNumber}` : ''} key=${record.partitionKey} at ${record.approximateArrivalTimestamp.toISOString()}`;
  const data = record.data;
  const text = data.toString('utf8');
  const printable = !text.includes('\uFFFD');
  if (!printable) return `${header}\n<${data.length} bytes, base64> ${data.toString('base64')}\n`;
  if (!raw) {
    try {
      return `${header}\n${JSON.stringify(JSON.parse(text), null, 2)}\n`;
    } catch {
      // not JSON: printed as text
    }
  }
  return `${header}\n${text}\n`;
}

async function tail(options: TailOptions): Promise<void> {
  const logger = createLogger({ level: options.logLevel });
  const client = createKinesisClient({ ...(options.region ? { region: options.region } : {}), ...(options.endpoint ? { endpoint: options.endpoint } : {}) });
  const source = new PollingRecordSource({
    streamName: options.stream,
    client,
    checkpointStore: new MemoryCheckpointStore(),
    initialPosition: options.from,
    logger,
    idlePollIntervalMs: 500,
  });
  let printed = 0;
  try {
    await new Promise<void>((resolve, reject) => {
      const subscription = source.events().subscribe({
        next: (event) => {
          if (event.type === 'records') {
            for (const record of event.records) {
              if (options.max !== undefined && printed >= options.max) break;
              process.stdout.write(formatTailRecord(record, options.raw === true));
              printed++;
            }
            if (options.max !== undefined && printed >= options.max) {
              stop();
              return;
            }
          }
          event.ack({ status: 'ok' });
        },
        error: (error: unknown) => {
          cleanup();
          reject(error instanceof Error ? error : new ConfigurationError(String(error)));
        },
        complete: () => stop(),
      });
      const stop = (): void => {
        cleanup();
        subscription.unsubscribe();
        resolve();
      };
      const cleanup = (): void => {
        process.removeListener('SIGINT', stop);
        process.removeListener('SIGTERM', stop);
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
  } finally {
    await source.close();
    client.destroy();
    await logger.close();
  }
}
