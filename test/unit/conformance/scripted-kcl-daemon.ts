import { PassThrough } from 'node:stream';
import { KclLineSplitter } from '../../../src/adapters/kcl/kcl-line-splitter';
import { KclRecordSource } from '../../../src/adapters/kcl/kcl-record-source';
import { createLogger } from '../../../src/core/logger';
import { type RecordSource } from '../../../src/adapters/record-source';

interface StoredRecord {
  readonly sequenceNumber: string;
  readonly data: string;
}

const BATCH_RECORDS = 10;

/** A 56-digit sequence number (beyond 2^53), increasing with `n`. */
function sequenceNumber(n: number): string {
  return `4959033827149025660855969253836157109592157598913658${String(1000 + n).padStart(5, '0')}`;
}

/**
 * The daemon's side of the KCL MultiLangDaemon protocol for one shard, scripted over in-memory pipes, with the shard's
 * records and its stored checkpoint kept here (as Kinesis and the lease table keep them). Each source it makes is a
 * new child process as the daemon would start it: `initialize` from the stored checkpoint, then the records after it
 * in `processRecords` of up to 10, one action at a time (the next only after the child's status), checkpoints answered
 * and stored, `shardEnded` once the shard was closed and read to its end, and stdin closed after that.
 */
export class ScriptedKclDaemon {
  /** The shard's records, as the stream keeps them. */
  readonly records: StoredRecord[] = [];
  /** The stored checkpoint (a sequence number or SHARD_END), as the lease table keeps it. */
  stored: string | undefined;
  ended = false;
  private child: ChildConversation | undefined;

  constructor(readonly shardId: string) {}

  /** A KclRecordSource as a new child would run it; the previous child (if any) is abandoned. */
  createSource(): RecordSource {
    this.child?.abandon();
    const child = new ChildConversation(this);
    this.child = child;
    void child.run();
    return new KclRecordSource({
      input: child.toChild,
      output: child.fromChild,
      streamName: 'scripted-stream',
      logger: createLogger({ level: 'error', destination: 'none' }),
      checkpointRetry: { initialBackoffMs: 1, maxBackoffMs: 2 },
    });
  }

  put(payloads: readonly string[]): void {
    for (const payload of payloads) this.records.push({ sequenceNumber: sequenceNumber(this.records.length), data: Buffer.from(payload).toString('base64') });
    this.child?.wake();
  }

  endShard(): void {
    this.ended = true;
    this.child?.wake();
  }

  /** Closes the current child's stdin (the daemon is done with it). */
  complete(): void {
    this.child?.toChild.end();
  }

}

/** One child: the lines the daemon writes and reads, and the script it follows. */
class ChildConversation {
  readonly toChild = new PassThrough();
  readonly fromChild = new PassThrough();
  private readonly splitter = new KclLineSplitter();
  private statusWaiter: (() => void) | undefined;
  private wakeWaiter: (() => void) | undefined;
  private abandoned = false;
  private delivered = 0;
  private inShardEnd = false;

  constructor(private readonly daemon: ScriptedKclDaemon) {
    this.fromChild.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) if (line.trim() !== '') this.onLine(JSON.parse(line) as Record<string, unknown>);
    });
  }

  abandon(): void {
    this.abandoned = true;
    this.statusWaiter?.();
    this.wakeWaiter?.();
  }

  wake(): void {
    this.wakeWaiter?.();
  }

  async run(): Promise<void> {
    const state = this.daemon;
    const from = state.stored === undefined ? -1 : state.records.findIndex((r) => r.sequenceNumber === state.stored);
    this.delivered = from + 1;
    await this.call({ action: 'initialize', shardId: this.daemon.shardId, sequenceNumber: state.stored ?? 'TRIM_HORIZON', subSequenceNumber: 0 });
    while (!this.abandoned) {
      const now = this.daemon;
      if (this.delivered < now.records.length) {
        const batch = now.records.slice(this.delivered, this.delivered + BATCH_RECORDS);
        this.delivered += batch.length;
        await this.call({
          action: 'processRecords',
          millisBehindLatest: 0,
          records: batch.map((r) => ({ data: r.data, partitionKey: 'pk', sequenceNumber: r.sequenceNumber, subSequenceNumber: 0, approximateArrivalTimestamp: Date.now(), action: 'record' })),
        });
      } else if (now.ended) {
        this.inShardEnd = true;
        await this.call({ action: 'shardEnded' });
        if (!this.abandoned) this.toChild.end();
        return;
      } else {
        await new Promise<void>((resolve) => (this.wakeWaiter = resolve));
      }
    }
  }

  /** Sends an action and waits for its status (or for the child to be abandoned). */
  private call(message: object): Promise<void> {
    if (this.abandoned) return Promise.resolve();
    return new Promise<void>((resolve) => {
      this.statusWaiter = resolve;
      this.toChild.write(`${JSON.stringify(message)}\n`);
    });
  }

  private onLine(line: Record<string, unknown>): void {
    if (line.action === 'status') {
      const waiter = this.statusWaiter;
      this.statusWaiter = undefined;
      waiter?.();
      return;
    }
    if (line.action !== 'checkpoint') return;
    const state = this.daemon;
    const asked = typeof line.sequenceNumber === 'string' ? line.sequenceNumber : undefined;
    // null asks for the largest permitted position: SHARD_END during shardEnded, else the last record delivered.
    state.stored = asked ?? (this.inShardEnd ? 'SHARD_END' : state.records[this.delivered - 1]?.sequenceNumber);
    setImmediate(() =>
      this.toChild.write(`${JSON.stringify({ action: 'checkpoint', sequenceNumber: line.sequenceNumber ?? null, subSequenceNumber: line.subSequenceNumber ?? null, error: null })}\n`),
    );
  }
}
