/**
 * What an `@OnRecords` handler may return to say that some records of its batch failed and the others succeeded
 * (like Lambda's `ReportBatchItemFailures`). The checkpoint stops before the first failed record; the retry
 * re-delivers the batch from that record on (the records after it that succeeded are delivered again: at least
 * once). When the retries are used up, `errors.onFailure` applies to the records still reported failed only.
 *
 * @example
 * ```ts
 * @OnRecords({ decode: 'json' })
 * async handle(orders: Order[], batch: RecordBatch): Promise<BatchItemFailures> {
 *   const failed = await this.store.saveAll(orders); // indexes that failed
 *   return { failedSequenceNumbers: failed.map((i) => batch.records[i]!.sequenceNumber) };
 * }
 * ```
 */
export interface BatchItemFailures {
  /**
   * Sequence numbers of the records that failed (an empty list: every record succeeded). A sequence number shared by
   * the records of one KPL aggregate names all of them.
   */
  readonly failedSequenceNumbers: readonly string[];
}

/** True when a handler's result is a {@link BatchItemFailures}. */
export function isBatchItemFailures(value: unknown): value is BatchItemFailures {
  if (typeof value !== 'object' || value === null || !('failedSequenceNumbers' in value)) return false;
  const list = value.failedSequenceNumbers;
  return Array.isArray(list) && list.every((s) => typeof s === 'string');
}
