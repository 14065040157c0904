import { isBatchItemFailures } from './batch-item-failures';
import { formatPosition } from './checkpoint-position';
import { type ErrorPolicy } from './consumer-options';
import { HandlerError, NonRetryableError, RecordDecodeError, type ShardlineError } from './errors';
import { type KinesisRecord } from './kinesis-record';
import { type Logger } from './logger';
import { type FailedBatch, type RecordBatch } from './record-batch';
import { type RecordDecoder } from './record-decoder';
import { sleep } from './sleep';

/** What a {@link BatchRunner} needs from its shard worker. */
export interface BatchRunnerDeps {
  readonly consumerName: string;
  readonly methodKey: string;
  readonly shardId: string;
  readonly policy: ErrorPolicy;
  readonly decoder: RecordDecoder<unknown> | undefined;
  readonly logger: Logger;
  /** Calls the `@OnRecords` method with the items and their batch; resolves with what it returned. */
  readonly invoke: (items: readonly unknown[], batch: RecordBatch) => Promise<unknown>;
  /** Runs `@OnDeadLetter`; rejects when it fails. */
  readonly deadLetter: (failed: FailedBatch) => Promise<void>;
  readonly reportError: (error: ShardlineError) => void;
  /** Told of each retry and of the records the policy took (for metrics). */
  readonly observe?: { retried(): void; skipped(count: number): void; deadLettered(count: number): void };
}

/**
 * How a batch went: every record handled (or skipped / dead-lettered by the policy), or the shard has to stop. Then
 * `handledBefore` records at the start of the batch were handled (the checkpoint may go up to the last of them,
 * never further) and `error` says why.
 */
export type BatchOutcome =
  | { readonly handled: true }
  | { readonly handled: false; readonly handledBefore: number; readonly error: HandlerError };

/** One record (by index in the batch) the policy has to take, with why it failed. */
interface BadRecord {
  readonly index: number;
  readonly error: Error;
  readonly attempts: number;
}

/** The result of the retries on a set of records. */
type RetryResult =
  | { readonly ok: true }
  | { readonly ok: false; readonly remaining: readonly number[]; readonly known: readonly BadRecord[] | undefined; readonly error: Error; readonly attempts: number };

/**
 * Runs one batch through the `@OnRecords` method under the error policy, record by record where it can:
 *
 * 1. With `decode`, each record is decoded on its own; one that cannot be decoded is not retried (it never will
 *    decode). Under `skip` / `dead-letter` the policy takes it and the others are handled; under `stop` the records
 *    before it are handled and the shard stops at it.
 * 2. The handler is retried with backoff (`maxRetries`), except after a {@link NonRetryableError}. When it returns
 *    {@link BatchItemFailures}, the records before the first failed one are done and the retry re-delivers the
 *    batch from that record on (as Lambda does).
 * 3. When the retries are used up, `stop` stops the shard before the first record not done. `skip` / `dead-letter`
 *    take only the bad records: those the handler reported, or, when it threw, those found by bisecting the rest of
 *    the batch (halves are handled once each, recursively, like Lambda's BisectBatchOnFunctionError), so the good
 *    records are handled (at least once) and one bad record costs about 2·log2(batch size) extra calls.
 */
export class BatchRunner {
  private readonly done: boolean[];

  constructor(
    private readonly deps: BatchRunnerDeps,
    private readonly batch: RecordBatch,
  ) {
    this.done = batch.records.map(() => false);
  }

  async run(): Promise<BatchOutcome> {
    const { records } = this.batch;
    const { onFailure } = this.deps.policy;
    const items: unknown[] = new Array<unknown>(records.length);
    const undecodable: BadRecord[] = [];
    records.forEach((record, index) => {
      const decoder = this.deps.decoder;
      if (decoder === undefined) {
        items[index] = record;
        return;
      }
      try {
        items[index] = decoder(record);
      } catch (error) {
        const decodeError =
          error instanceof RecordDecodeError
            ? error
            : new RecordDecodeError(`record ${record.sequenceNumber} of ${this.deps.shardId} could not be decoded: ${(error as Error).message}`, { cause: error });
        undecodable.push({ index, error: decodeError, attempts: 0 });
      }
    });
    const firstUndecodable = undecodable[0]?.index ?? records.length;
    // Under 'stop' nothing after the first undecodable record may be handled before the shard stops there.
    const candidates = records
      .map((_, index) => index)
      .filter((index) => (onFailure === 'stop' ? index < firstUndecodable : !undecodable.some((b) => b.index === index)));
    const bad: BadRecord[] = onFailure === 'stop' ? undecodable.slice(0, 1) : [...undecodable];
    for (const b of undecodable) this.deps.logger.warn(`Record ${records[b.index]!.sequenceNumber} cannot be decoded (not retried): ${b.error.message}`);
    if (candidates.length > 0) {
      const result = await this.withRetries(candidates, items);
      if (!result.ok) {
        if (result.known !== undefined) bad.push(...result.known);
        else if (onFailure === 'stop' || result.remaining.length === 1) {
          bad.push(...result.remaining.map((index) => ({ index, error: result.error, attempts: result.attempts })));
        } else {
          this.deps.logger.warn(`Bisecting ${result.remaining.length} records to find the failing ones`);
          bad.push(...(await this.bisect(result.remaining, items, result.attempts)));
        }
      }
    }
    bad.sort((a, b) => a.index - b.index);
    if (bad.length === 0) return { handled: true };
    if (onFailure === 'stop') return this.stopAt(bad[0]!);
    return this.applyPolicy(bad);
  }

  /** Handles `indices` with retries; records before the first item failure are marked done as they succeed. */
  private async withRetries(indices: readonly number[], items: readonly unknown[]): Promise<RetryResult> {
    const { policy, logger, consumerName, methodKey } = this.deps;
    let remaining = indices;
    let known: BadRecord[] | undefined;
    let lastError: Error = new Error('unreachable');
    let attempt = 1;
    for (; attempt <= policy.maxRetries + 1; attempt++) {
      const outcome = await this.call(remaining, items, attempt);
      if (outcome.ok) return { ok: true };
      lastError = outcome.error;
      known = outcome.failed?.map((index) => ({ index, error: outcome.error, attempts: attempt }));
      if (outcome.failed !== undefined) {
        // Like Lambda: the records before the first failed one are done; the retry starts at it.
        remaining = remaining.slice(remaining.indexOf(outcome.failed[0]!));
      }
      logger.warn(
        `${consumerName}.${methodKey} failed on ${outcome.failed?.length ?? remaining.length} records (${this.range(remaining)}), attempt ${attempt} of ${policy.maxRetries + 1}: ${lastError.message}`,
      );
      if (lastError instanceof NonRetryableError) {
        logger.warn(`Not retried: the handler threw a NonRetryableError`);
        break;
      }
      if (attempt <= policy.maxRetries) this.deps.observe?.retried();
      if (attempt <= policy.maxRetries) await sleep(Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (attempt - 1)));
    }
    return { ok: false, remaining, known, error: lastError, attempts: Math.min(attempt, policy.maxRetries + 1) };
  }

  /**
   * Calls the handler once on `indices`. Marks done what succeeded: everything, or (with item failures) the records
   * not reported failed. Returns the failed indices when the handler reported them, none when it threw.
   */
  private async call(
    indices: readonly number[],
    items: readonly unknown[],
    attempt: number,
  ): Promise<{ ok: true } | { ok: false; error: Error; failed: readonly number[] | undefined }> {
    const records = indices.map((i) => this.batch.records[i]!);
    let result: unknown;
    try {
      result = await this.deps.invoke(
        indices.map((i) => items[i]),
        { ...this.batch, records },
      );
    } catch (error) {
      return { ok: false, error: error instanceof Error ? error : new Error(String(error)), failed: undefined };
    }
    const invalid = invalidItemFailures(result, records);
    if (invalid !== undefined) {
      // As Lambda does with an invalid item identifier: the whole call failed (retried, then the policy).
      this.deps.logger.warn(`${this.deps.consumerName}.${this.deps.methodKey} ${invalid}: the whole batch counts as failed`);
      return { ok: false, error: new Error(`the handler ${invalid}`), failed: undefined };
    }
    const reported = isBatchItemFailures(result) ? new Set(result.failedSequenceNumbers) : undefined;
    const failed = reported === undefined ? [] : indices.filter((i) => reported.has(this.batch.records[i]!.sequenceNumber));
    for (const i of indices) if (!failed.includes(i)) this.done[i] = true;
    if (failed.length === 0) return { ok: true };
    const first = this.batch.records[failed[0]!]!;
    return {
      ok: false,
      error: new Error(`the handler reported ${failed.length} of ${indices.length} records as failed (the first: ${formatPosition(first)}; attempt ${attempt})`),
      failed,
    };
  }

  /** Handles each half of `indices` once, recursively, and returns the records that fail on their own. */
  private async bisect(indices: readonly number[], items: readonly unknown[], attempts: number): Promise<BadRecord[]> {
    const middle = Math.ceil(indices.length / 2);
    const bad: BadRecord[] = [];
    for (const half of [indices.slice(0, middle), indices.slice(middle)]) {
      if (half.length === 0) continue;
      const outcome = await this.call(half, items, attempts + 1);
      if (outcome.ok) continue;
      if (outcome.failed !== undefined) bad.push(...outcome.failed.map((index) => ({ index, error: outcome.error, attempts: attempts + 1 })));
      else if (half.length === 1) {
        // Alone, the record gets the policy's retries (with backoff) before it counts as bad: a good record that
        // failed once for a passing reason during bisection is not skipped or dead-lettered for it.
        const alone = await this.retryAlone(half[0]!, items, attempts + 1, outcome.error);
        if (alone !== undefined) bad.push(alone);
      }
      else bad.push(...(await this.bisect(half, items, attempts + 1)));
    }
    return bad;
  }

  /** Retries one record that failed alone; returns it as bad when every retry failed too (none after a NonRetryableError). */
  private async retryAlone(index: number, items: readonly unknown[], attempts: number, error: Error): Promise<BadRecord | undefined> {
    const policy = this.deps.policy;
    let last = error;
    let tried = attempts;
    for (let retry = 1; retry <= policy.maxRetries && !(last instanceof NonRetryableError); retry++) {
      this.deps.observe?.retried();
      await sleep(Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** (retry - 1)));
      const outcome = await this.call([index], items, ++tried);
      if (outcome.ok) return undefined;
      last = outcome.error;
    }
    return { index, error: last, attempts: tried };
  }

  /** `skip` / `dead-letter` the bad records, grouped by error, in order; a failing dead-letter handler stops the shard there. */
  private async applyPolicy(bad: readonly BadRecord[]): Promise<BatchOutcome> {
    const { onFailure } = this.deps.policy;
    const groups: BadRecord[][] = [];
    for (const b of bad) {
      const last = groups[groups.length - 1];
      if (last !== undefined && last[0]!.error === b.error) last.push(b);
      else groups.push([b]);
    }
    for (const group of groups) {
      const { error } = group[0]!;
      const attempts = Math.max(...group.map((b) => b.attempts));
      const records = group.map((b) => this.batch.records[b.index]!);
      const sequenceNumbers = records.map((r) => r.sequenceNumber);
      const handlerError = this.handlerError(records, attempts, error);
      if (onFailure === 'dead-letter') {
        try {
          await this.deps.deadLetter({ ...this.batch, records, error, attempts });
        } catch (deadLetterError) {
          this.deps.logger.error(`The dead-letter handler failed too: ${(deadLetterError as Error).message}`);
          this.deps.reportError(handlerError);
          return { handled: false, handledBefore: group[0]!.index, error: handlerError };
        }
        this.deps.logger.warn(`Handed ${records.length} failed records to the dead-letter handler (${sequenceNumbers.join(', ')})`);
        this.deps.observe?.deadLettered(records.length);
      } else {
        this.deps.observe?.skipped(records.length);
        const why = attempts === 0 ? 'that cannot be decoded (not retried)' : `after ${attempts} failed attempts`;
        this.deps.logger.error(`Skipping ${records.length} records ${why}: ${error.message} (the checkpoint moves past them)`, { sequenceNumbers });
      }
      this.logStack(error);
      for (const b of group) this.done[b.index] = true;
      this.deps.reportError(handlerError);
    }
    return { handled: true };
  }

  private stopAt(first: BadRecord): BatchOutcome {
    const notDone = this.done.findIndex((d) => !d);
    const handledBefore = Math.min(first.index, notDone === -1 ? this.done.length : notDone);
    const handlerError = this.handlerError(this.batch.records.slice(handledBefore), first.attempts, first.error);
    this.logStack(first.error);
    this.deps.reportError(handlerError);
    return { handled: false, handledBefore, error: handlerError };
  }

  private handlerError(records: readonly KinesisRecord[], attempts: number, error: Error): HandlerError {
    const { consumerName, methodKey, shardId } = this.deps;
    const how = attempts === 0 ? '(it cannot be decoded; not retried)' : `after ${attempts} attempts`;
    return new HandlerError(
      `${consumerName}.${methodKey} failed on ${records.length} records of ${shardId} ${how}: ${error.message}`,
      { consumer: consumerName, method: methodKey, shardId, sequenceNumbers: records.map((r) => r.sequenceNumber), attempts },
      { cause: error },
    );
  }

  /** The stack of a failure, at debug level (one error line stays one line at info). */
  private logStack(error: Error): void {
    if (error.stack !== undefined && this.deps.logger.isLevelEnabled('debug')) this.deps.logger.debug(`Stack of the failure: ${error.stack}`);
  }

  private range(indices: readonly number[]): string {
    const records: readonly KinesisRecord[] = this.batch.records;
    return `${formatPosition(records[indices[0]!])}..${formatPosition(records[indices[indices.length - 1]!])}`;
  }
}

/**
 * Why a handler's item-failure report cannot be trusted (a `failedSequenceNumbers` that is not a list of strings, or
 * that names records not in the call), or undefined when it is fine or absent.
 */
function invalidItemFailures(result: unknown, records: readonly KinesisRecord[]): string | undefined {
  if (typeof result !== 'object' || result === null || !('failedSequenceNumbers' in result)) return undefined;
  if (!isBatchItemFailures(result)) return 'returned a failedSequenceNumbers that is not a list of sequence-number strings';
  const known = new Set(records.map((r) => r.sequenceNumber));
  const unknown = result.failedSequenceNumbers.filter((s) => !known.has(s));
  if (unknown.length === 0) return undefined;
  return `reported as failed ${unknown.length} sequence numbers that are not in its batch (${unknown.slice(0, 3).join(', ')}${unknown.length > 3 ? ', …' : ''})`;
}
