import { PassThrough } from 'node:stream';
import { KclLineSplitter } from '../../../src/adapters/kcl/kcl-line-splitter';

/** A line the child wrote, parsed. */
export type ChildLine = Record<string, unknown>;

/**
 * Plays the daemon's side of a KCL conversation over in-memory pipes: writes actions, reads every line the child
 * writes (keeping the raw text, to check exact keys), and answers checkpoint requests like the daemon does.
 */
export class FakeDaemon {
  /** The child's stdin. */
  readonly toChild = new PassThrough();
  /** The child's stdout. */
  readonly fromChild = new PassThrough();
  /** Every raw line the child wrote, in order. */
  readonly rawLines: string[] = [];
  /** Checkpoint errors to answer, in order (null = success); when empty, checkpoints succeed. */
  readonly checkpointErrors: Array<string | null> = [];
  private readonly splitter = new KclLineSplitter();
  private readonly waiting: Array<{ resolve: (line: ChildLine) => void }> = [];
  private readonly unread: ChildLine[] = [];

  constructor() {
    this.fromChild.on('data', (chunk: Buffer) => {
      for (const line of this.splitter.push(chunk)) {
        this.rawLines.push(line);
        if (line.trim() === '') continue;
        const parsed = JSON.parse(line) as ChildLine;
        if (parsed.action === 'checkpoint') {
          const error = this.checkpointErrors.length > 0 ? this.checkpointErrors.shift()! : null;
          setImmediate(() => this.send({ action: 'checkpoint', sequenceNumber: parsed.sequenceNumber ?? null, subSequenceNumber: parsed.subSequenceNumber ?? null, error }));
        }
        const waiter = this.waiting.shift();
        if (waiter !== undefined) waiter.resolve(parsed);
        else this.unread.push(parsed);
      }
    });
  }

  /** Writes one message as a JSON line. */
  send(message: object): void {
    this.toChild.write(`${JSON.stringify(message)}\n`);
  }

  /** Writes raw text (for bad input and chunking tests). */
  sendRaw(text: string): void {
    this.toChild.write(text);
  }

  /** The next line the child writes. */
  next(timeoutMs = 5_000): Promise<ChildLine> {
    const ready = this.unread.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return new Promise<ChildLine>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no line from the child within ${timeoutMs} ms (lines so far: ${this.rawLines.join(' | ')})`)), timeoutMs);
      this.waiting.push({
        resolve: (line) => {
          clearTimeout(timer);
          resolve(line);
        },
      });
    });
  }

  /** Reads lines until a status arrives; returns the lines before it and the status. */
  async untilStatus(timeoutMs = 5_000): Promise<{ before: ChildLine[]; status: ChildLine }> {
    const before: ChildLine[] = [];
    for (;;) {
      const line = await this.next(timeoutMs);
      if (line.action === 'status') return { before, status: line };
      before.push(line);
    }
  }

  /** Sends an action and waits for its status (answering checkpoints on the way). */
  async call(message: object, timeoutMs = 5_000): Promise<{ before: ChildLine[]; status: ChildLine }> {
    this.send(message);
    return this.untilStatus(timeoutMs);
  }

  /** Lines written that were not read with `next` yet. */
  get pending(): readonly ChildLine[] {
    return this.unread;
  }

  /** Closes the child's stdin. */
  close(): void {
    this.toChild.end();
  }
}

/** A 56-digit sequence number (beyond 2^53), as Kinesis makes them. */
export function seq(n: number): string {
  return `4959033827149025660855969253836157109592157598913658${String(8000 + n).padStart(4, '0')}`;
}

/** A wire record as the daemon writes it (`action` last). */
export function wireRecord(n: number, data: string | null = Buffer.from(JSON.stringify({ id: n })).toString('base64'), sub = 0): object {
  return { data, partitionKey: `pk-${n}`, sequenceNumber: seq(n), approximateArrivalTimestamp: 1_717_171_717_123, subSequenceNumber: sub, action: 'record' };
}

export const INITIALIZE = { action: 'initialize', shardId: 'shardId-000000000001', sequenceNumber: 'TRIM_HORIZON', subSequenceNumber: 0 };
