import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Observable, type Subscriber } from 'rxjs';
import {
  CheckpointError,
  KinesisRecord,
  SourceError,
  type Checkpointer,
  type EventOutcome,
  type Logger,
  type RecordSource,
  type ShardEvent,
} from 'shardline';
import { LineCheckpoints } from './line-checkpoints';

/** Options of {@link FileLinesSource}. */
export interface FileLinesSourceOptions {
  /** The files to read: each one is a shard, `file-<name>`. */
  readonly files: readonly string[];
  /** Where checkpoints are kept (a JSON file). */
  readonly checkpointFile: string;
  /** Keep reading lines appended to the files (true), or end each shard at the end of its file (false). */
  readonly follow: boolean;
  /** How often a followed file is read again for new lines. */
  readonly pollIntervalMs: number;
  /** Lines per batch at most. */
  readonly maxBatchLines: number;
  /** Name of the stream shown to consumers. */
  readonly streamName: string;
  readonly logger?: Logger;
}

/** The shard id of a file. */
export function shardIdOf(file: string): string {
  return `file-${path.basename(file)}`;
}

/**
 * A {@link RecordSource} whose shards are text files and whose records are their lines (the line number is the
 * sequence number). It keeps the RecordSource contract:
 * - cold: reading starts on subscribe; unsubscribing stops every shard and clears its timers;
 * - per shard: `opened` (with the stored checkpoint), then batches of the lines after it, then `shardEnded` at the end
 *   of the file unless `follow` is set; each event only after the previous one was acknowledged;
 * - a failed acknowledgement stops the shard (its lines are read again by the next run, from its checkpoint);
 * - it completes once every shard ended.
 */
export class FileLinesSource implements RecordSource {
  readonly name = 'file-lines';
  private readonly checkpoints: LineCheckpoints;

  constructor(private readonly options: FileLinesSourceOptions) {
    this.checkpoints = new LineCheckpoints(options.checkpointFile);
  }

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      const run = new Run(this.options, this.checkpoints, subscriber);
      void run.start();
      return () => run.stop();
    });
  }
}

/** One subscription: a loop per file. */
class Run {
  private stopped = false;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly options: FileLinesSourceOptions,
    private readonly checkpoints: LineCheckpoints,
    private readonly subscriber: Subscriber<ShardEvent>,
  ) {}

  async start(): Promise<void> {
    const results = await Promise.allSettled(this.options.files.map((file) => this.readShard(file)));
    const failed = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (this.stopped) return;
    if (failed !== undefined) this.subscriber.error(failed.reason);
    else this.subscriber.complete();
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  /** Reads one file as one shard, until its end (without follow), a failed acknowledgement, or unsubscribe. */
  private async readShard(file: string): Promise<void> {
    const shardId = shardIdOf(file);
    const stored = await this.checkpoints.read(shardId);
    if (stored === 'SHARD_END') return; // read to its end by an earlier run
    let done = stored ?? 0;
    const checkpointer: Checkpointer = {
      checkpoint: async (position) => {
        const line = Number(position.sequenceNumber);
        if (!Number.isSafeInteger(line) || line < 1) throw new CheckpointError(`${position.sequenceNumber} is not a line of ${file}`, { shardId });
        await this.checkpoints.write(shardId, line);
      },
    };
    const lease = {
      streamName: this.options.streamName,
      shardId,
      checkpointer,
      ...(stored === undefined ? {} : { lastCheckpoint: { sequenceNumber: String(stored), subSequenceNumber: 0 } }),
    };
    if (!(await this.send((ack) => ({ type: 'opened', shardId, lease, ack })))) return;
    while (!this.stopped) {
      const lines = await completeLines(file);
      if (this.stopped) return;
      if (lines.length > done) {
        const batch = lines.slice(done, done + this.options.maxBatchLines).map(
          (line, i) => new KinesisRecord({ data: Buffer.from(line), partitionKey: shardId, sequenceNumber: String(done + i + 1), shardId, approximateArrivalTimestamp: Date.now() }),
        );
        if (!(await this.send((ack) => ({ type: 'records', shardId, records: batch, ack })))) return;
        done += batch.length;
      } else if (!this.options.follow) {
        // Stored only once the consumer finished the shard, as the Kinesis adapters store SHARD_END.
        if (await this.send((ack) => ({ type: 'shardEnded', shardId, ack }))) await this.checkpoints.write(shardId, 'SHARD_END');
        return;
      } else {
        await this.sleep(this.options.pollIntervalMs);
      }
    }
  }

  /** Emits one event and waits for its acknowledgement: true when the shard goes on. */
  private async send(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<boolean> {
    if (this.stopped) return false;
    const outcome = await new Promise<EventOutcome>((resolve) => this.subscriber.next(make(resolve)));
    if (outcome.status === 'failed') {
      this.options.logger?.warn(`stopped reading: ${outcome.error.message}`);
      return false;
    }
    return !this.stopped;
  }

  /** Waits, unless unsubscribed first (the timer is cleared then, so nothing keeps the process alive). */
  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}

/** The file's complete lines (a last line without its newline is still being written: it waits for the next read). */
async function completeLines(file: string): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (error) {
    throw new SourceError(`cannot read ${file}: ${(error as Error).message}`, { cause: error });
  }
  const lines = text.split('\n');
  lines.pop();
  return lines;
}
