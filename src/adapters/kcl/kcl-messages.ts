/**
 * The messages of the KCL MultiLangDaemon protocol (v2.1+ and v3.x, plus v1's `shutdown`), as they travel on the
 * wire: one JSON object per line. Field names and types follow the daemon's Jackson classes exactly; sequence numbers
 * are always strings (they exceed 2^53).
 */

/** One record of a `processRecords` message (`JsonFriendlyRecord`). `data` is base64, kept unparsed. */
export interface KclWireRecord {
  readonly data: string | null;
  readonly partitionKey: string;
  readonly sequenceNumber: string;
  readonly subSequenceNumber: number | null;
  /** Epoch milliseconds, or null. */
  readonly approximateArrivalTimestamp: number | null;
}

/** `{"action":"initialize","shardId":…,"sequenceNumber":…,"subSequenceNumber":…}`: the lease's shard and checkpoint. */
export interface KclInitializeMessage {
  readonly action: 'initialize';
  readonly shardId: string;
  /** The lease's checkpoint: a sequence number or a sentinel (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END`). */
  readonly sequenceNumber: string | null;
  readonly subSequenceNumber: number | null;
}

/** `{"action":"processRecords","records":[…],"millisBehindLatest":…}`. */
export interface KclProcessRecordsMessage {
  readonly action: 'processRecords';
  readonly records: readonly KclWireRecord[];
  readonly millisBehindLatest: number | null;
}

/** `{"action":"leaseLost"}`: another worker owns the shard; checkpointing is no longer possible. */
export interface KclLeaseLostMessage {
  readonly action: 'leaseLost';
}

/** `{"action":"shardEnded"}`: the shard was read to its end; the child must checkpoint `SHARD_END`. */
export interface KclShardEndedMessage {
  readonly action: 'shardEnded';
}

/** `{"action":"shutdownRequested"}`: graceful worker shutdown or lease hand-off; checkpoint what was processed. */
export interface KclShutdownRequestedMessage {
  readonly action: 'shutdownRequested';
}

/** KCL v1 only: `{"action":"shutdown","reason":"TERMINATE"|"ZOMBIE"}` (TERMINATE = shard ended, ZOMBIE = lease lost). */
export interface KclShutdownMessage {
  readonly action: 'shutdown';
  readonly reason: 'TERMINATE' | 'ZOMBIE';
}

/** The daemon's answer to a checkpoint request: `error` is the Java exception's simple name, or null on success. */
export interface KclCheckpointReply {
  readonly action: 'checkpoint';
  readonly sequenceNumber: string | null;
  readonly subSequenceNumber: number | null;
  readonly error: string | null;
}

/** The actions the daemon sends, each answered by exactly one status. */
export type KclActionMessage =
  | KclInitializeMessage
  | KclProcessRecordsMessage
  | KclLeaseLostMessage
  | KclShardEndedMessage
  | KclShutdownRequestedMessage
  | KclShutdownMessage;

/** Every message the daemon sends to its child. */
export type KclInboundMessage = KclActionMessage | KclCheckpointReply;

/** The names a status may answer (`responseFor`). */
export type KclActionName = KclActionMessage['action'];

/** Checkpoint error names the adapter retries with backoff (transient DynamoDB trouble). */
export const KCL_RETRYABLE_CHECKPOINT_ERRORS: ReadonlySet<string> = new Set(['ThrottlingException', 'KinesisClientLibDependencyException']);

/** The checkpoint error telling the child that this worker no longer holds the lease. */
export const KCL_SHUTDOWN_EXCEPTION = 'ShutdownException';
