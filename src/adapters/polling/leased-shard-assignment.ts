import { type CheckpointPosition } from '../../core/checkpoint-position';
import { CheckpointError, LeaseLostError } from '../../core/errors';
import { type Logger } from '../../core/logger';
import { type CheckpointSentinel, type CheckpointStore, type LeaseRequest, type StoredShard } from '../../checkpoint-stores/checkpoint-store';
import { type DynamoDbCheckpointStore } from '../../checkpoint-stores/dynamodb-checkpoint-store';
import { DynamoDbLeaseTable } from '../../leases/dynamodb-lease-table';
import { SHARD_END, type Lease, type LeaseCheckpoint } from '../../leases/lease';
import { LeaseCoordinator } from '../../leases/lease-coordinator';
import { type LeaseLoss } from '../../leases/lease-coordinator-options';
import { type LeaseConflictError, LeaseTableError } from '../../leases/lease-errors';
import { createShardlineWorkerId, SHARDLINE_WORKER_PREFIX } from '../../leases/worker-id';
import { type PollingLeaseOptions } from './polling-options';
import { type DiscoveredShard } from './shard-lineage';

/** What a {@link LeasedShardAssignment} tells the polling run. */
export interface ShardAssignmentHooks {
  /** The lease of `shardId` is ours: read it (from the checkpoint {@link LeasedShardAssignment.acquire} returns). */
  acquired(shardId: string, lease: Lease): void;
  /** The lease is no longer ours: stop reading at once; the consumer gets `leaseLost`; never checkpoint it again. */
  lost(shardId: string, loss: LeaseLoss): void;
  /** Graceful stop: resolve once the shard's reader stopped and its final checkpoint was written; the lease is then released. */
  shutdown(shardId: string): Promise<void>;
  /** A foreign lease user (a running Java KCL) is on the table: the source fails with this one-line error. */
  conflict(error: LeaseConflictError): void;
}

/** A shard discovered by ListShards (or `ChildShards`) and the sentinel its new lease starts at. */
export interface ShardToLease {
  readonly shard: DiscoveredShard;
  readonly initialCheckpoint: CheckpointSentinel;
}

/** `--worker-id` as given, with the shardline prefix added when it lacks it (so other fleet members recognise it). */
export function fleetWorkerId(given: string | undefined): string {
  if (given === undefined || given === '') return createShardlineWorkerId();
  return given.startsWith(SHARDLINE_WORKER_PREFIX) ? given : `${SHARDLINE_WORKER_PREFIX}${given}`;
}

/**
 * The polling adapter as a member of a fleet sharing a KCL lease table: a {@link LeaseCoordinator} on the table of a
 * {@link DynamoDbCheckpointStore} decides which shards this process reads, and every write of the readers goes
 * through it, fenced on owner and counter. It is the {@link CheckpointStore} the readers use:
 *
 * - `acquire` only answers for a lease the coordinator holds (it reads the stored checkpoint; it never takes);
 * - `checkpoint` and `rememberLatestStart` are the coordinator's fenced checkpoint: a fenced-out write rejects with
 *   `LeaseLostError` (not retried), a table failure with a `CheckpointError` whose cause is the SDK error (retried);
 * - `SHARD_END` checkpoints and releases the lease (`finishShard`), so the children's leases become workable;
 * - `release` keeps the lease (the coordinator releases on graceful stop; a lost lease needs none);
 * - `close` stops the coordinator gracefully (each shard being read: `shutdown`, then release) and closes the store.
 */
export class LeasedShardAssignment implements CheckpointStore {
  readonly description: string;
  readonly coordinator: LeaseCoordinator;
  private readonly table: DynamoDbLeaseTable;
  /** Lease keys known to exist (listed at start or created), so discovery does not write them again. */
  private readonly existing = new Set<string>();
  private hooks: ShardAssignmentHooks | undefined;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly store: DynamoDbCheckpointStore,
    options: PollingLeaseOptions,
    private readonly logger: Logger,
  ) {
    this.table = new DynamoDbLeaseTable({ client: store.client, tableName: store.tableName });
    const workerId = fleetWorkerId(options.workerId);
    this.coordinator = new LeaseCoordinator({
      table: this.table,
      workerId,
      ...(options.failoverTimeMs === undefined ? {} : { failoverTimeMs: options.failoverTimeMs }),
      ...(options.leaseRenewalIntervalMs === undefined ? {} : { leaseRenewalIntervalMs: options.leaseRenewalIntervalMs }),
      ...(options.leaseTakerIntervalMs === undefined ? {} : { leaseTakerIntervalMs: options.leaseTakerIntervalMs }),
      onLeaseAcquired: (shardId, lease) => this.hooks?.acquired(shardId, lease),
      onLeaseLost: (shardId, loss) => this.hooks?.lost(shardId, loss),
      onLeaseShutdown: (shardId) => this.hooks?.shutdown(shardId) ?? Promise.resolve(),
      onConflict: (error) => this.hooks?.conflict(error),
    });
    this.description = `${store.description}, fleet worker ${workerId}`;
  }

  /** Starts renewing and taking leases (after the first discovery created the missing ones). */
  start(hooks: ShardAssignmentHooks): void {
    this.hooks = hooks;
    const t = this.coordinator.timing;
    this.logger.info(
      `Fleet worker ${this.coordinator.workerId}: failover ${t.failoverTimeMs} ms, renewal every ${t.leaseRenewalIntervalMs} ms, lease scan every ${t.leaseTakerIntervalMs} ms`,
    );
    this.coordinator.start();
  }

  /** True while this process may read the shard (it holds the lease, before its local deadline). */
  owns(shardId: string): boolean {
    return this.coordinator.isHeld(shardId);
  }

  /** Creates the leases of discovered shards that have none (no owner; the initial position as checkpoint). */
  async discovered(shards: readonly ShardToLease[]): Promise<void> {
    const missing = shards.filter((s) => !this.existing.has(s.shard.shardId));
    if (missing.length === 0) return;
    await this.coordinator.ensureLeases(
      missing.map(({ shard, initialCheckpoint }) => ({
        leaseKey: shard.shardId,
        checkpoint: initialCheckpoint,
        parentShardIds: shard.parentShardIds,
        ...(shard.hashKeyRange === undefined ? {} : { startingHashKey: shard.hashKeyRange.startingHashKey, endingHashKey: shard.hashKeyRange.endingHashKey }),
      })),
    );
    for (const s of missing) this.existing.add(s.shard.shardId);
  }

  async open(): Promise<void> {
    await this.store.open();
  }

  async list(): Promise<readonly StoredShard[]> {
    const listed = await this.store.list();
    for (const shard of listed) this.existing.add(shard.shardId);
    return listed;
  }

  /** What is stored for a shard whose lease this worker holds. @throws LeaseLostError when it does not hold it. */
  async acquire(request: LeaseRequest): Promise<StoredShard> {
    const { shardId } = request;
    if (!this.owns(shardId)) throw this.notHeld(shardId);
    const got = await this.table.get(shardId);
    if (got.outcome === 'error') throw new CheckpointError(got.error.message, { cause: got.error.cause ?? got.error, shardId });
    if (got.lease === undefined) throw new CheckpointError(`the lease of ${shardId} is missing from ${this.store.tableName}`, { shardId });
    return toStoredShard(got.lease);
  }

  async checkpoint(shardId: string, position: CheckpointPosition, childShardIds?: readonly string[]): Promise<void> {
    if (position.sequenceNumber === SHARD_END) return this.fenced(shardId, () => this.coordinator.finishShard(shardId, childShardIds ?? []));
    return this.write(shardId, { checkpoint: position.sequenceNumber, checkpointSubSequenceNumber: position.subSequenceNumber });
  }

  rememberLatestStart(shardId: string, at: Date): Promise<void> {
    return this.write(shardId, { checkpoint: 'LATEST', checkpointSubSequenceNumber: 0, latestStartedAtMs: at.getTime() });
  }

  /** Keeps the lease: the coordinator renews it, and releases it on graceful stop. */
  async release(): Promise<void> {
    // Nothing to do (a reader reopening after failed checkpoints finds its lease still held).
  }

  /**
   * A shard gone from the stream (past the retention period): its lease is marked `SHARD_END` and released, so that
   * its children become workable for every worker of the fleet.
   */
  vanished(shardId: string): Promise<void> {
    return this.fenced(shardId, () => this.coordinator.finishShard(shardId, []));
  }

  /** Graceful stop: each shard being read gets `shutdown` (its final checkpoint), then its lease is released. Idempotent. */
  close(): Promise<void> {
    this.closing ??= (async () => {
      await this.coordinator.stop();
      await this.store.close();
    })();
    return this.closing;
  }

  private write(shardId: string, checkpoint: LeaseCheckpoint): Promise<void> {
    return this.fenced(shardId, () => this.coordinator.checkpoint(shardId, checkpoint));
  }

  /** Runs a coordinator write; a table failure becomes a `CheckpointError` caused by the SDK error (so it is retried as before). */
  private async fenced(shardId: string, write: () => Promise<void>): Promise<void> {
    try {
      await write();
    } catch (error) {
      if (error instanceof LeaseLostError) throw error;
      const cause = error instanceof CheckpointError && error.cause instanceof LeaseTableError ? (error.cause.cause ?? error.cause) : error;
      throw new CheckpointError((error as Error).message, { cause, shardId });
    }
  }

  private notHeld(shardId: string): LeaseLostError {
    return new LeaseLostError(`the lease of ${shardId} is not held by ${this.coordinator.workerId}`, { shardId });
  }
}

function toStoredShard(lease: Lease): StoredShard {
  return {
    shardId: lease.leaseKey,
    checkpoint: lease.checkpoint === undefined ? undefined : { sequenceNumber: lease.checkpoint, subSequenceNumber: lease.checkpointSubSequenceNumber },
    parentShardIds: lease.parentShardIds,
    childShardIds: lease.childShardIds,
    ...(lease.leaseOwner === undefined ? {} : { leaseOwner: lease.leaseOwner }),
    leaseCounter: lease.leaseCounter,
    ...(lease.latestStartedAtMs === undefined ? {} : { latestStartedAt: new Date(lease.latestStartedAtMs) }),
  };
}
