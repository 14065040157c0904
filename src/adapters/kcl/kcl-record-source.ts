import { type Readable, type Writable } from 'node:stream';
import { Observable, type Subscriber } from 'rxjs';
import { formatPosition, type CheckpointPosition } from '../../core/checkpoint-position';
import { type Checkpointer } from '../../core/checkpointer';
import { CheckpointError, ProtocolError, ShardlineError, SourceError } from '../../core/errors';
import { KinesisRecord } from '../../core/kinesis-record';
import { createLogger, type Logger } from '../../core/logger';
import { type EventOutcome, type ShardEvent, type ShardLease } from '../../core/shard-event';
import { backoffWithJitter, sleep } from '../../core/sleep';
import { type RecordSource } from '../record-source';
import { KclLineSplitter } from './kcl-line-splitter';
import {
  KCL_RETRYABLE_CHECKPOINT_ERRORS,
  KCL_SHUTDOWN_EXCEPTION,
  type KclActionMessage,
  type KclActionName,
  type KclCheckpointReply,
  type KclProcessRecordsMessage,
} from './kcl-messages';
import { base64Problem, encodeCheckpoint, encodeStatus, parseKclLine } from './kcl-protocol';

/** How checkpoints refused with `ThrottlingException` or `KinesisClientLibDependencyException` are retried. */
export interface KclCheckpointRetryOptions {
  /** Attempts in all, the first included. Default 6. */
  readonly maxAttempts?: number;
  /** Ceiling of the first backoff (full jitter, doubling). Default 200. */
  readonly initialBackoffMs?: number;
  /** Upper bound of one backoff. Default 5,000. */
  readonly maxBackoffMs?: number;
}

/** Options of {@link KclRecordSource}. */
export interface KclRecordSourceOptions {
  /** Where the daemon's messages arrive (the child's stdin). */
  readonly input: Readable;
  /** Where replies go (the child's stdout). Nothing else may write there. */
  readonly output: Writable;
  /** The stream the daemon reads (the daemon does not say; it is shown to the consumer as `ShardContext.streamName`). */
  readonly streamName: string;
  /** Default: a logger to stderr. */
  readonly logger?: Logger;
  readonly checkpointRetry?: KclCheckpointRetryOptions;
  /**
   * Check that every record's `data` is base64 when the batch arrives (decoded into a reused scratch buffer: no allocation).
   * A bad record stops the child before its batch reaches the handler. Default true.
   */
  readonly validateBase64?: boolean;
}

const DIGITS = /^\d+$/;

/**
 * A {@link RecordSource} that is a child of the KCL MultiLangDaemon: it reads the daemon's JSON lines from `input` and
 * answers on `output` (any Readable/Writable pair: the process's stdin/stdout under the daemon, pipes in tests).
 *
 * - One child serves one shard lease: `initialize` opens it, `processRecords` are batches, `leaseLost` / `shardEnded` /
 *   `shutdownRequested` (and v1 `shutdown` ZOMBIE / TERMINATE) close it. Each action gets exactly one status, sent
 *   after the runtime acknowledged the event; at most one checkpoint is in flight, and checkpoints are only sent while
 *   the daemon waits for a status (requested between actions, they wait for the next batch).
 * - `shardEnded` always checkpoints `SHARD_END` before its status; `leaseLost` never checkpoints.
 * - A failed ack on `initialize` or `processRecords` (the consumer's error policy stopped the shard) and bad input end
 *   the Observable with an error and send no status: the process exits non-zero, the daemon sees the child end and
 *   stops, and the shard is read again from its last checkpoint by the next worker. Nothing is checkpointed past an
 *   unprocessed record and the daemon is never left waiting for a status that will not come.
 * - The Observable completes when `input` ends (the daemon closed the child's stdin).
 */
export class KclRecordSource implements RecordSource {
  readonly name = 'kcl';
  private active = false;

  constructor(private readonly options: KclRecordSourceOptions) {}

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      if (this.active) {
        subscriber.error(new ShardlineError('a KclRecordSource serves one subscriber: the daemon talks to one child at a time'));
        return undefined;
      }
      this.active = true;
      const conversation = new KclConversation(this.options, subscriber);
      conversation.start();
      return () => {
        conversation.stop();
        this.active = false;
      };
    });
  }
}

interface PendingReply {
  resolve(reply: KclCheckpointReply): void;
  reject(error: Error): void;
}

/** One conversation with the daemon: reads lines, runs actions one at a time, answers them. */
class KclConversation {
  private readonly splitter = new KclLineSplitter();
  private readonly logger: Logger;
  private readonly queue: KclActionMessage[] = [];
  private readonly retry: Required<KclCheckpointRetryOptions>;
  private processing = false;
  private ended = false;
  private closed = false;
  private shardId: string | undefined;
  private opened = false;
  private leaseGone = false;
  /** True while the daemon waits for a status of an action whose checkpointer exists. */
  private windowOpen = false;
  private windowWaiters: Array<() => void> = [];
  private pendingReply: PendingReply | undefined;
  private sending: Promise<unknown> | undefined;
  private lock: Promise<unknown> = Promise.resolve();
  private readonly onData = (chunk: Buffer | string): void => this.receive(this.splitter.push(chunk));
  private readonly onEnd = (): void => this.inputEnded();
  private readonly onInputError = (error: Error): void => this.fatal(new SourceError(`reading from the KCL daemon failed: ${error.message}`, { cause: error }));
  private readonly onOutputError = (error: Error): void =>
    this.fatal(new SourceError(`writing to the KCL daemon failed (${error.message}): the daemon is gone`, { cause: error }));

  constructor(
    private readonly options: KclRecordSourceOptions,
    private readonly subscriber: Subscriber<ShardEvent>,
  ) {
    this.logger = options.logger ?? createLogger({}, { stdoutReserved: true });
    this.retry = {
      maxAttempts: options.checkpointRetry?.maxAttempts ?? 6,
      initialBackoffMs: options.checkpointRetry?.initialBackoffMs ?? 200,
      maxBackoffMs: options.checkpointRetry?.maxBackoffMs ?? 5_000,
    };
  }

  start(): void {
    const { input, output } = this.options;
    input.on('data', this.onData);
    input.on('end', this.onEnd);
    input.on('error', this.onInputError);
    output.on('error', this.onOutputError);
    input.resume();
  }

  stop(): void {
    this.closed = true;
    const { input, output } = this.options;
    input.off('data', this.onData);
    input.off('end', this.onEnd);
    input.off('error', this.onInputError);
    output.off('error', this.onOutputError);
    input.pause();
    this.failCheckpoints(new CheckpointError(`the KCL conversation of ${this.shardLabel} ended: checkpoint not stored`, this.errorOptions()));
  }

  private get shardLabel(): string {
    return this.shardId ?? 'the shard (not initialized yet)';
  }

  private errorOptions(): { shardId?: string } {
    return this.shardId === undefined ? {} : { shardId: this.shardId };
  }

  private receive(lines: string[]): void {
    for (const line of lines) {
      if (this.closed) return;
      if (line.trim() === '') continue;
      let message;
      try {
        message = parseKclLine(line);
      } catch (error) {
        this.fatal(error as ShardlineError);
        return;
      }
      if (message.action === 'checkpoint') {
        const pending = this.pendingReply;
        if (pending === undefined) {
          this.logger.warn(`The KCL daemon sent a checkpoint reply nobody asked for (${formatReply(message)}); ignored`, this.errorOptions());
          continue;
        }
        this.pendingReply = undefined;
        pending.resolve(message);
        continue;
      }
      this.queue.push(message);
    }
    void this.drain();
  }

  private inputEnded(): void {
    const last = this.splitter.end();
    if (last !== undefined) this.receive([last]);
    if (this.closed) return;
    this.ended = true;
    this.logger.debug(`The KCL daemon closed stdin${this.processing ? ' while an action was in progress' : ''}`, this.errorOptions());
    this.failCheckpoints(new CheckpointError(`the KCL daemon closed the conversation of ${this.shardLabel}: checkpoint not stored`, this.errorOptions()));
    // The daemon closes stdin after the status of leaseLost/shardEnded, or when it is gone: either way nobody will read
    // another status or answer a checkpoint, so the source ends now (what was not checkpointed is read again later).
    this.complete();
  }

  private complete(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscriber.complete();
  }

  private fatal(error: ShardlineError): void {
    if (this.closed) return;
    this.closed = true;
    this.failCheckpoints(new CheckpointError(`the KCL conversation of ${this.shardLabel} failed: checkpoint not stored`, this.errorOptions()));
    this.subscriber.error(error);
  }

  private failCheckpoints(error: CheckpointError): void {
    const pending = this.pendingReply;
    this.pendingReply = undefined;
    pending?.reject(error);
    this.windowOpen = false;
    for (const wake of this.windowWaiters.splice(0)) wake();
  }

  private async drain(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (!this.closed) {
        const message = this.queue.shift();
        if (message === undefined) break;
        await this.handle(message);
      }
    } catch (error) {
      this.fatal(error instanceof ShardlineError ? error : new SourceError(`the KCL adapter failed: ${(error as Error).message}`, { cause: error }));
    } finally {
      this.processing = false;
    }
  }

  private async handle(message: KclActionMessage): Promise<void> {
    switch (message.action) {
      case 'initialize':
        return this.initialize(message.shardId, message.sequenceNumber, message.subSequenceNumber);
      case 'processRecords':
        return this.processRecords(message);
      case 'shutdownRequested':
        return this.shutdownRequested();
      case 'leaseLost':
        return this.leaseLost('leaseLost');
      case 'shardEnded':
        return this.shardEnded('shardEnded');
      case 'shutdown':
        return message.reason === 'ZOMBIE' ? this.leaseLost('shutdown') : this.shardEnded('shutdown');
    }
  }

  private async initialize(shardId: string, sequenceNumber: string | null, subSequenceNumber: number | null): Promise<void> {
    if (this.shardId !== undefined) {
      throw new ProtocolError(`the KCL daemon sent a second initialize (for ${shardId}) to the child of ${this.shardId}: one child serves one shard`, { shardId });
    }
    this.shardId = shardId;
    const checkpointer: Checkpointer = { checkpoint: (position) => this.checkpoint(position) };
    const lastCheckpoint =
      sequenceNumber !== null && DIGITS.test(sequenceNumber) ? { sequenceNumber, subSequenceNumber: subSequenceNumber ?? 0 } : undefined;
    const lease: ShardLease = { streamName: this.options.streamName, shardId, checkpointer, ...(lastCheckpoint ? { lastCheckpoint } : {}) };
    this.logger.debug(`KCL initialize ${shardId} at ${sequenceNumber ?? 'no checkpoint'}`, { shardId });
    const outcome = await this.emit((ack) => ({ type: 'opened', shardId, lease, ack }));
    if (outcome.status === 'failed') {
      throw new SourceError(
        `the consumer failed to start on ${shardId} (${outcome.error.message}); the child exits without a status so that the daemon stops and the shard is read again from its last checkpoint`,
        { cause: outcome.error, shardId },
      );
    }
    this.opened = true;
    this.writeStatus('initialize');
  }

  private async processRecords(message: KclProcessRecordsMessage): Promise<void> {
    const shardId = this.shardId;
    if (shardId === undefined) throw new ProtocolError('the KCL daemon sent processRecords before initialize');
    const validate = this.options.validateBase64 ?? true;
    const wire = message.records;
    const records = new Array<KinesisRecord>(wire.length);
    for (let i = 0; i < wire.length; i++) {
      const r = wire[i]!;
      const data = r.data ?? '';
      if (validate) {
        const problem = base64Problem(data);
        if (problem !== undefined) {
          throw new ProtocolError(
            `the KCL daemon sent record ${r.sequenceNumber} of ${shardId} whose data is not base64 (${problem}); the batch is not handled or checkpointed and the child stops`,
            { shardId },
          );
        }
      }
      records[i] = new KinesisRecord({
        data,
        partitionKey: r.partitionKey,
        sequenceNumber: r.sequenceNumber,
        subSequenceNumber: r.subSequenceNumber ?? 0,
        approximateArrivalTimestamp: r.approximateArrivalTimestamp ?? undefined,
        shardId,
      });
    }
    this.openWindow();
    const millis = message.millisBehindLatest;
    const outcome = await this.emit((ack) => ({ type: 'records', shardId, records, ack, ...(millis === null ? {} : { millisBehindLatest: millis }) }));
    await this.closeWindow();
    if (outcome.status === 'failed') {
      throw new SourceError(
        `the consumer stopped on ${shardId} (${outcome.error.message}); the child exits without a status and without checkpointing, so that the daemon stops and the batch is read again from the last checkpoint`,
        { cause: outcome.error, shardId },
      );
    }
    this.writeStatus('processRecords');
  }

  private async shutdownRequested(): Promise<void> {
    this.openWindow();
    await this.emitClosing('shutdownRequested');
    await this.closeWindow();
    this.writeStatus('shutdownRequested');
  }

  private async leaseLost(responseFor: 'leaseLost' | 'shutdown'): Promise<void> {
    this.leaseGone = true;
    this.windowOpen = false;
    for (const wake of this.windowWaiters.splice(0)) wake();
    await this.emitClosing('leaseLost');
    this.writeStatus(responseFor);
  }

  private async shardEnded(responseFor: 'shardEnded' | 'shutdown'): Promise<void> {
    this.openWindow();
    const shardId = this.shardId;
    const outcome = await this.emitClosing('shardEnded');
    if (outcome?.status === 'failed') {
      // The consumer did not finish the shard (its end hooks failed, or it had stopped): SHARD_END would skip what it
      // did not flush. No checkpoint, no status: the child exits 1 and the shard is read again from its checkpoint.
      await this.closeWindow();
      throw new SourceError(
        `the end of ${shardId ?? 'the shard'} was not handled (${outcome.error.message}); the child exits without checkpointing SHARD_END, so that the shard is read again from its last checkpoint`,
        { cause: outcome.error, ...(shardId !== undefined ? { shardId } : {}) },
      );
    }
    try {
      // Whatever the checkpoint policy: without SHARD_END the daemon never starts the child shards.
      await this.requestCheckpoint(null);
    } catch (error) {
      this.logger.error(`Checkpointing SHARD_END failed: ${(error as Error).message}`, this.errorOptions());
    }
    await this.closeWindow();
    this.writeStatus(responseFor);
  }

  /** Emits the closing event of an open shard and returns how the app took it (undefined when no shard was open). */
  private async emitClosing(type: 'leaseLost' | 'shardEnded' | 'shutdownRequested'): Promise<EventOutcome | undefined> {
    const shardId = this.shardId;
    if (shardId === undefined || !this.opened) return undefined;
    this.opened = false;
    const outcome = await this.emit((ack) => ({ type, shardId, ack }));
    if (outcome.status === 'failed' && type !== 'shardEnded') this.logger.error(`Closing the shard (${type}) failed: ${outcome.error.message}`, { shardId });
    return outcome;
  }

  private emit(make: (ack: (outcome: EventOutcome) => void) => ShardEvent): Promise<EventOutcome> {
    return new Promise<EventOutcome>((resolve) => {
      let acked = false;
      this.subscriber.next(
        make((outcome) => {
          if (acked) return;
          acked = true;
          resolve(outcome);
        }),
      );
    });
  }

  private write(line: string): void {
    if (this.closed) return;
    this.options.output.write(line);
  }

  private writeStatus(responseFor: KclActionName): void {
    this.write(encodeStatus(responseFor));
  }

  private openWindow(): void {
    if (this.leaseGone) return;
    this.windowOpen = true;
    for (const wake of this.windowWaiters.splice(0)) wake();
  }

  /** Closes the checkpoint window: waits for the checkpoint on the wire, so that no line follows the status. */
  private async closeWindow(): Promise<void> {
    this.windowOpen = false;
    while (this.sending !== undefined) await this.sending.catch(() => undefined);
  }

  /** The lease's {@link Checkpointer}: one request at a time, retried on transient errors. */
  private checkpoint(position: CheckpointPosition): Promise<void> {
    return this.requestCheckpoint(position);
  }

  private requestCheckpoint(position: CheckpointPosition | null): Promise<void> {
    const run = (): Promise<void> => this.checkpointWithRetries(position);
    const next = this.lock.then(run, run);
    this.lock = next.catch(() => undefined);
    return next;
  }

  private async checkpointWithRetries(position: CheckpointPosition | null): Promise<void> {
    const label = position === null ? 'SHARD_END' : formatPosition(position);
    for (let attempt = 1; ; attempt++) {
      // Re-check after each wake-up: the window may have closed again (a status was sent) before this resumed.
      do {
        await this.waitForWindow();
      } while (!this.windowOpen && !this.leaseGone && !this.closed && !this.ended);
      if (this.leaseGone) {
        this.logger.debug(`Not checkpointing ${label}: the lease is gone`, this.errorOptions());
        return;
      }
      if (this.closed || this.ended) {
        throw new CheckpointError(`checkpoint ${label} of ${this.shardLabel} not stored: the KCL daemon closed the conversation`, this.errorOptions());
      }
      const reply = await this.send(position);
      const error = reply.error;
      if (error === null) return;
      const shardId = this.shardLabel;
      if (KCL_RETRYABLE_CHECKPOINT_ERRORS.has(error) && attempt < this.retry.maxAttempts) {
        const delayMs = backoffWithJitter(attempt - 1, this.retry.initialBackoffMs, this.retry.maxBackoffMs);
        this.logger.warn(`Checkpoint ${label} of ${shardId} refused with ${error} (attempt ${attempt} of ${this.retry.maxAttempts}); retrying in ${delayMs} ms`, this.errorOptions());
        await sleep(delayMs);
        continue;
      }
      if (error === KCL_SHUTDOWN_EXCEPTION) {
        this.leaseGone = true;
        this.logger.warn(
          `Checkpoint ${label} of ${shardId} refused with ShutdownException: this worker no longer holds the lease; no more checkpoints for it (the batch finishes, its records may be handled again by the new owner)`,
          this.errorOptions(),
        );
        return;
      }
      const hint = KCL_RETRYABLE_CHECKPOINT_ERRORS.has(error)
        ? `still refused after ${attempt} attempts: check the lease table's capacity and the daemon's DynamoDB access`
        : error === 'IllegalArgumentException'
          ? 'the position is outside what the daemon allows (before the last checkpoint or after the last record delivered)'
          : error === 'InvalidStateException'
            ? 'the daemon cannot checkpoint now (no checkpointer for this action, or the lease table is missing)'
            : 'the daemon refused it';
      const message = `checkpoint ${label} of ${shardId} failed with ${error}: ${hint}`;
      this.logger.error(message, this.errorOptions());
      throw new CheckpointError(message, this.errorOptions());
    }
  }

  private waitForWindow(): Promise<void> {
    if (this.windowOpen || this.leaseGone || this.closed || this.ended) return Promise.resolve();
    return new Promise<void>((resolve) => this.windowWaiters.push(resolve)).then(() => this.waitForWindow());
  }

  private send(position: CheckpointPosition | null): Promise<KclCheckpointReply> {
    const reply = new Promise<KclCheckpointReply>((resolve, reject) => {
      this.pendingReply = { resolve, reject };
    });
    const sending = reply.finally(() => {
      if (this.sending === sending) this.sending = undefined;
    });
    sending.catch(() => undefined);
    this.sending = sending;
    this.write(encodeCheckpoint(position));
    return reply;
  }
}

function formatReply(reply: KclCheckpointReply): string {
  return `${reply.sequenceNumber ?? 'null'}${reply.error === null ? '' : `, ${reply.error}`}`;
}
