/** The checkpoint sentinel a lease carries once its shard has been read to the end (KCL `SentinelCheckpoint.SHARD_END`). */
export const SHARD_END = 'SHARD_END';

/**
 * One item of a KCL lease table, as shardline reads it. Attribute names and meaning follow the KCL's
 * `DynamoDBLeaseSerializer`: see docs/leases.md. Sequence numbers stay strings (they exceed 2^53).
 */
export interface Lease {
  /** The shard id (single-stream applications): the table's hash key. */
  readonly leaseKey: string;
  /** Worker id of the owner; `undefined` when nobody owns the lease. */
  readonly leaseOwner: string | undefined;
  /** The optimistic-lock version: raised by every renew, take, checkpoint and release. */
  readonly leaseCounter: number;
  /** A sequence number or a sentinel (`TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP`, `SHARD_END`). */
  readonly checkpoint: string | undefined;
  readonly checkpointSubSequenceNumber: number;
  /** Raised when ownership moves to another worker, set back to 0 by a checkpoint. */
  readonly ownerSwitchesSinceCheckpoint: number;
  /** Parent shard ids (the KCL attribute `parentShardId` is a string set). */
  readonly parentShardIds: readonly string[];
  readonly childShardIds: readonly string[];
  /** KCL 3 only (graceful hand-off in progress). Read for detection, never written. */
  readonly checkpointOwner?: string;
  /** KCL 3 only (written by its renewer). Read for detection, never written. */
  readonly throughputKBps?: number;
  /** KCL ≥ 3.5 writes `LEASE`; shardline writes none. */
  readonly entityType?: string;
  /** shardline's own (`shardlineLatestStartedAt`, ignored by the KCL): epoch ms where a shard without checkpoint started at LATEST. */
  readonly latestStartedAtMs?: number;
}

/** An item of the lease table that is not a lease (KCL 3.5 keeps its leader lock, migration state and worker metrics there). */
export interface NonLeaseItem {
  readonly leaseKey: string;
  readonly entityType: string | undefined;
  /** The item's attributes in a stable text form: two scans that differ show a live writer. */
  readonly fingerprint: string;
  /** KCL 3 worker metrics: `lut`, the wall-clock epoch seconds of the last report. */
  readonly lastUpdateEpochSeconds?: number;
}

/** Everything one scan of the lease table returned. */
export interface LeaseScan {
  readonly leases: readonly Lease[];
  /** Items skipped because they are not leases (an `entityType` other than `LEASE`, or no `leaseCounter`). */
  readonly nonLeaseItems: readonly NonLeaseItem[];
}

/** A lease to create when a shard is discovered (no owner, counter 0). */
export interface NewLease {
  readonly leaseKey: string;
  /** Where reading starts: `TRIM_HORIZON`, `LATEST`, `AT_TIMESTAMP` or a sequence number. */
  readonly checkpoint: string;
  readonly parentShardIds?: readonly string[];
  readonly startingHashKey?: string;
  readonly endingHashKey?: string;
}

/** What a checkpoint write stores. */
export interface LeaseCheckpoint {
  readonly checkpoint: string;
  readonly checkpointSubSequenceNumber: number;
  /** Written with the `SHARD_END` checkpoint of a shard that has children. */
  readonly childShardIds?: readonly string[];
  /** Written with the `LATEST` sentinel: when the shard started at LATEST (see {@link Lease.latestStartedAtMs}). */
  readonly latestStartedAtMs?: number;
}

/** True when the lease's shard has been read to its end. */
export function isFinished(lease: Lease): boolean {
  return lease.checkpoint === SHARD_END;
}
