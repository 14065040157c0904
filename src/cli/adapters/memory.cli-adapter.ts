import { createInterface } from 'node:readline';
import { InMemoryRecordSource, type RecordInput } from '../../adapters/memory/in-memory-record-source';
import { type CliAdapter } from '../cli-adapter';

const SHARD_ID = 'shardId-000000000000';
const BATCH_LINES = 500;
/** A partial batch is sent once stdin has been quiet this long. */
const FLUSH_IDLE_MS = 100;

/**
 * `--adapter memory`: each line of stdin is a record of one shard (JSON objects are sent as they are), in batches
 * of up to 500 lines (a partial batch is sent when stdin pauses for 100 ms); at the end of stdin the shard ends and the run finishes. Useful to try a consumer with no
 * stream at all: `printf '{"dest":"LAX"}\n' | shardline run app.ts --adapter memory`.
 */
export const memoryCliAdapter: CliAdapter = {
  name: 'memory',
  description: 'records are the lines of stdin, in one shard (no AWS, no emulator)',
  setup: (consumers, _options, { logger }) => {
    const sources = consumers.map((c) => new InMemoryRecordSource(c.options.streamName));
    if (process.stdin.isTTY === true) {
      // Waiting silently on a terminal looks like a hang: say what the adapter expects and how to end it.
      process.stderr.write('shardline: reading records from this terminal, one per line (Ctrl-D ends them); to read a Kinesis stream, pass --adapter polling or --adapter kcl\n');
    }
    const lines = createInterface({ input: process.stdin, crlfDelay: Infinity });
    let batch: RecordInput[] = [];
    let partition = 0;
    let sending: Promise<void> = Promise.resolve();
    let idle: NodeJS.Timeout | undefined;
    const flush = (): Promise<void> => {
      if (idle !== undefined) clearTimeout(idle);
      idle = undefined;
      if (batch.length === 0) return sending;
      const records = batch;
      batch = [];
      sending = sending.then(async () => {
        await Promise.all(sources.map((s) => s.push(SHARD_ID, records)));
      });
      return sending;
    };
    void (async () => {
      for await (const line of lines) {
        if (line.trim() === '') continue;
        batch.push({ data: line, partitionKey: `line-${partition++}` });
        if (batch.length >= BATCH_LINES) await flush();
        // A partial batch goes out when stdin pauses, so that a stream of lines (tail -f) is not held back.
        else idle ??= setTimeout(() => void flush(), FLUSH_IDLE_MS);
      }
      await flush();
      await Promise.all(sources.map((s) => s.endShard(SHARD_ID)));
      logger.debug('stdin ended');
      for (const source of sources) source.complete();
    })();
    return Promise.resolve({ sources, handleSignals: true, stdoutReserved: false });
  },
};
