import { secretMask } from './secret-mask';

/**
 * Every error shardline throws or reports extends {@link ShardlineError}, so one `instanceof` check catches them all.
 * Messages say what is wrong and what to do next; they never contain a secret's value: the message passes the
 * process's secret mask (a handler's error message quoted in it is masked too). The `cause` is kept as it was.
 */
export class ShardlineError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(secretMask.maskText(message), options);
    this.name = new.target.name;
  }
}

/** A decorator got a bad argument. Thrown when the class is defined, naming the class and member. */
export class InvalidDecoratorError extends ShardlineError {}

/** Bad options or wiring found at start-up (a missing provider, an unknown adapter, a bad CLI value). */
export class ConfigurationError extends ShardlineError {}

/** A record source (adapter) failed; `retryable` says whether trying again may help. */
export class SourceError extends ShardlineError {
  readonly retryable: boolean;
  readonly shardId: string | undefined;
  constructor(message: string, options: ErrorOptions & { retryable?: boolean; shardId?: string } = {}) {
    super(message, options);
    this.retryable = options.retryable ?? false;
    this.shardId = options.shardId;
  }
}

/** A protocol line from the KCL MultiLangDaemon could not be understood. */
export class ProtocolError extends SourceError {}

/** A consumer's handler failed on a batch after every retry. */
export class HandlerError extends ShardlineError {
  readonly consumer: string;
  readonly method: string;
  readonly shardId: string;
  readonly sequenceNumbers: readonly string[];
  readonly attempts: number;
  constructor(
    message: string,
    details: { consumer: string; method: string; shardId: string; sequenceNumbers: readonly string[]; attempts: number },
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.consumer = details.consumer;
    this.method = details.method;
    this.shardId = details.shardId;
    this.sequenceNumbers = details.sequenceNumbers;
    this.attempts = details.attempts;
  }
}

/** A checkpoint could not be stored (or was refused by the daemon or the store). */
export class CheckpointError extends ShardlineError {
  readonly shardId: string | undefined;
  /**
   * The adapter recovers from this failure by itself (it closes the shard and reopens it from its stored checkpoint,
   * or the lease went to another worker): the runtime keeps the shard's records un-checkpointed and does not stop it.
   */
  readonly adapterRecovers: boolean;
  constructor(message: string, options: ErrorOptions & { shardId?: string; adapterRecovers?: boolean } = {}) {
    super(message, options);
    this.shardId = options.shardId;
    this.adapterRecovers = options.adapterRecovers ?? false;
  }
}

/** A `@Secret` reference could not be resolved. The message names the property, never the value. */
export class SecretResolutionError extends ShardlineError {}

/** A record's payload could not be decoded (bad base64, bad JSON, a failing custom decoder). */
export class RecordDecodeError extends ShardlineError {}

/** A record given to the producer could not be delivered (rejected as invalid, failed after every retry, or the producer closed). */
export class ProducerError extends ShardlineError {
  /** The Kinesis error code of the last attempt, when Kinesis refused the record. */
  readonly errorCode: string | undefined;
  constructor(message: string, options: ErrorOptions & { errorCode?: string } = {}) {
    super(message, options);
    this.errorCode = options.errorCode;
  }
}

/** A stream administration request was invalid (shards not adjacent, stream not ACTIVE, unknown stream) or failed. */
export class StreamAdminError extends ShardlineError {}

/** A shard that stopped: where its checkpoint stays, and why it stopped. */
export interface StoppedShard {
  readonly shardId: string;
  /** The sequence number of the shard's checkpoint (it resumes after it on restart), `undefined` when it has none. */
  readonly checkpointSequenceNumber: string | undefined;
  /** What stopped it (a {@link HandlerError} after the retries, a failing `@OnInit`, a failed checkpoint). */
  readonly cause: Error;
}

/**
 * One or more shards stopped (under `errors.onFailure: 'stop'`, after their retries; or their consumer failed to
 * start): the app stopped the other shards gracefully and `app.done` rejects with this. The message is one line naming
 * each stopped shard, where its checkpoint stays, why it stopped, and what to do.
 */
export class ShardStoppedError extends ShardlineError {
  readonly shards: readonly StoppedShard[];
  constructor(shards: readonly StoppedShard[]) {
    const oneLine = (text: string): string => text.replace(/\s*\n\s*/g, ' ').trim();
    const described = shards.map(
      (s) =>
        `shard ${s.shardId} stopped (${s.checkpointSequenceNumber === undefined ? 'no checkpoint yet' : `checkpoint stays at ${s.checkpointSequenceNumber}`}): ${oneLine(s.cause.message)}`,
    );
    const resume = shards.length === 1 ? 'the shard resumes from its checkpoint on restart' : 'the shards resume from their checkpoints on restart';
    super(`${described.join('; ')}. Fix the handler, or set errors.onFailure to 'skip' or 'dead-letter'; ${resume}`, { cause: shards[0]?.cause });
    this.shards = shards;
  }
}

/**
 * Throw it from an `@OnRecords` handler for a failure that no retry can fix (a record that fails validation): the
 * batch is not retried and `errors.onFailure` applies at once (with `skip` / `dead-letter`, the batch is bisected so
 * that only the failing records are skipped or dead-lettered).
 */
export class NonRetryableError extends ShardlineError {}

/**
 * A checkpoint store refused a write because another worker holds the shard's lease now (a failed conditional
 * write). Retrying cannot help: the shard is lost to this process, and nothing is checkpointed for it any more.
 */
export class LeaseLostError extends CheckpointError {
  override readonly adapterRecovers = true;
}

/**
 * The polling adapter could not start: the stream does not exist, or Kinesis could not be reached within the
 * start-up timeout. The message names the stream and the endpoint (or region) and says what to check.
 */
export class StartupError extends ConfigurationError {}
