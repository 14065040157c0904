import {
  ConditionalCheckFailedException,
  GetItemCommand,
  ListTablesCommand,
  PutItemCommand,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
  type UpdateItemCommandInput,
} from '@aws-sdk/client-dynamodb';
import { LeaseTableError, type LeaseTableFailure } from './lease-errors';
import { type Lease, type LeaseCheckpoint, type LeaseScan, type NewLease, type NonLeaseItem } from './lease';
import {
  type LeaseCreateResult,
  type LeaseGetResult,
  type LeaseScanResult,
  type LeaseTable,
  type LeaseWriteResult,
} from './lease-table';

/** KCL lease-table attribute names (kcl-leases.md §1). */
const A = {
  key: 'leaseKey',
  owner: 'leaseOwner',
  counter: 'leaseCounter',
  checkpoint: 'checkpoint',
  checkpointSub: 'checkpointSubSequenceNumber',
  pending: 'pendingCheckpoint',
  pendingSub: 'pendingCheckpointSubSequenceNumber',
  pendingState: 'pendingCheckpointState',
  ownerSwitches: 'ownerSwitchesSinceCheckpoint',
  parents: 'parentShardId',
  children: 'childShardIds',
  startingHashKey: 'startingHashKey',
  endingHashKey: 'endingHashKey',
  checkpointOwner: 'checkpointOwner',
  throughput: 'throughputKBps',
  entityType: 'entityType',
  /** shardline's own: epoch ms where a LATEST shard started (also written by `DynamoDbCheckpointStore`). */
  latestStartedAt: 'shardlineLatestStartedAt',
} as const;

/** Options of {@link DynamoDbLeaseTable}. */
export interface DynamoDbLeaseTableOptions {
  readonly client: DynamoDBClient;
  readonly tableName: string;
  /** Strongly consistent scans (twice the read cost). Default false, like the KCL: expiry tolerates stale reads. */
  readonly consistentScan?: boolean;
}

/**
 * {@link LeaseTable} on a DynamoDB table in the KCL schema, with the KCL's conditions written as
 * ConditionExpressions (kcl-leases.md §5). It never writes `entityType`, `checkpointOwner` or `throughputKBps`. Items
 * that are not leases (KCL 3.5 keeps its leader lock and worker metrics in the table) are returned apart. Table
 * creation stays with `DynamoDbCheckpointStore.open()`, which creates the same layout.
 */
export class DynamoDbLeaseTable implements LeaseTable {
  private readonly client: DynamoDBClient;
  readonly tableName: string;

  constructor(private readonly options: DynamoDbLeaseTableOptions) {
    this.client = options.client;
    this.tableName = options.tableName;
  }

  async scan(): Promise<LeaseScanResult> {
    try {
      const leases: Lease[] = [];
      const nonLeaseItems: NonLeaseItem[] = [];
      let startKey: Record<string, AttributeValue> | undefined;
      do {
        const page = await this.client.send(
          new ScanCommand({ TableName: this.tableName, ConsistentRead: this.options.consistentScan ?? false, ExclusiveStartKey: startKey }),
        );
        for (const item of page.Items ?? []) {
          const lease = toLease(item);
          if (lease !== undefined) leases.push(lease);
          else nonLeaseItems.push(toNonLease(item));
        }
        startKey = page.LastEvaluatedKey;
      } while (startKey !== undefined);
      const scan: LeaseScan = { leases, nonLeaseItems };
      return { outcome: 'ok', scan };
    } catch (error) {
      return { outcome: 'error', error: this.failure('scan', error, false) };
    }
  }

  async get(leaseKey: string): Promise<LeaseGetResult> {
    try {
      const out = await this.client.send(new GetItemCommand({ TableName: this.tableName, Key: key(leaseKey), ConsistentRead: true }));
      return { outcome: 'ok', lease: out.Item === undefined ? undefined : toLease(out.Item) };
    } catch (error) {
      return { outcome: 'error', error: this.failure(`get ${leaseKey}`, error, false) };
    }
  }

  async create(lease: NewLease): Promise<LeaseCreateResult> {
    const item: Record<string, AttributeValue> = {
      [A.key]: { S: lease.leaseKey },
      [A.counter]: { N: '0' },
      [A.checkpoint]: { S: lease.checkpoint },
      [A.checkpointSub]: { N: '0' },
      [A.ownerSwitches]: { N: '0' },
    };
    if (lease.parentShardIds !== undefined && lease.parentShardIds.length > 0) item[A.parents] = { SS: [...lease.parentShardIds] };
    if (lease.startingHashKey !== undefined) item[A.startingHashKey] = { S: lease.startingHashKey };
    if (lease.endingHashKey !== undefined) item[A.endingHashKey] = { S: lease.endingHashKey };
    try {
      await this.client.send(
        new PutItemCommand({ TableName: this.tableName, Item: item, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': A.key } }),
      );
      return { outcome: 'ok' };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { outcome: 'exists' };
      return { outcome: 'error', error: this.failure(`create ${lease.leaseKey}`, error, true) };
    }
  }

  renew(leaseKey: string, _owner: string, heldCounter: number): Promise<LeaseWriteResult> {
    return this.update(leaseKey, heldCounter, 'renew', {
      UpdateExpression: 'SET #c = :next',
      ConditionExpression: '#c = :held',
      ExpressionAttributeNames: { '#c': A.counter },
      ExpressionAttributeValues: counterValues(heldCounter),
    });
  }

  take(observed: Lease, newOwner: string): Promise<LeaseWriteResult> {
    const switched = observed.leaseOwner !== undefined && observed.leaseOwner !== newOwner;
    return this.update(observed.leaseKey, observed.leaseCounter, 'take', {
      UpdateExpression: `SET #c = :next, #o = :me${switched ? ', #s = if_not_exists(#s, :zero) + :one' : ''}`,
      ConditionExpression: '#c = :held',
      ExpressionAttributeNames: { '#c': A.counter, '#o': A.owner, ...(switched ? { '#s': A.ownerSwitches } : {}) },
      ExpressionAttributeValues: {
        ...counterValues(observed.leaseCounter),
        ':me': { S: newOwner },
        ...(switched ? { ':zero': { N: '0' }, ':one': { N: '1' } } : {}),
      },
    });
  }

  checkpoint(leaseKey: string, owner: string, heldCounter: number, checkpoint: LeaseCheckpoint): Promise<LeaseWriteResult> {
    const children = checkpoint.childShardIds !== undefined && checkpoint.childShardIds.length > 0 ? [...checkpoint.childShardIds] : undefined;
    const latest = checkpoint.latestStartedAtMs;
    return this.update(leaseKey, heldCounter, 'checkpoint', {
      UpdateExpression: `SET #c = :next, #cp = :cp, #cs = :cs, #s = :zero${children === undefined ? '' : ', #ch = :children'}${latest === undefined ? '' : ', #l = :latest'} REMOVE #p, #ps, #pst`,
      ConditionExpression: '#c = :held AND #o = :me',
      ExpressionAttributeNames: {
        '#c': A.counter,
        '#o': A.owner,
        '#cp': A.checkpoint,
        '#cs': A.checkpointSub,
        '#s': A.ownerSwitches,
        '#p': A.pending,
        '#ps': A.pendingSub,
        '#pst': A.pendingState,
        ...(children === undefined ? {} : { '#ch': A.children }),
        ...(latest === undefined ? {} : { '#l': A.latestStartedAt }),
      },
      ExpressionAttributeValues: {
        ...counterValues(heldCounter),
        ':me': { S: owner },
        ':cp': { S: checkpoint.checkpoint },
        ':cs': { N: String(checkpoint.checkpointSubSequenceNumber) },
        ':zero': { N: '0' },
        ...(children === undefined ? {} : { ':children': { SS: children } }),
        ...(latest === undefined ? {} : { ':latest': { N: String(latest) } }),
      },
    });
  }

  release(leaseKey: string, owner: string, heldCounter: number): Promise<LeaseWriteResult> {
    return this.update(leaseKey, heldCounter, 'release', {
      UpdateExpression: 'SET #c = :next REMOVE #o',
      ConditionExpression: '#c = :held AND #o = :me',
      ExpressionAttributeNames: { '#c': A.counter, '#o': A.owner },
      ExpressionAttributeValues: { ...counterValues(heldCounter), ':me': { S: owner } },
    });
  }

  /** Tables whose names start with `prefix` (to look for KCL 3.0–3.4's `<app>-CoordinatorState` / `-WorkerMetricStats`). */
  async listTables(prefix: string): Promise<string[]> {
    const names: string[] = [];
    let start: string | undefined;
    for (let page = 0; page < 100; page++) {
      const out = await this.client.send(new ListTablesCommand({ ExclusiveStartTableName: start }));
      names.push(...(out.TableNames ?? []).filter((n) => n.startsWith(prefix)));
      start = out.LastEvaluatedTableName;
      if (start === undefined) break;
    }
    return names;
  }

  private async update(
    leaseKey: string,
    heldCounter: number,
    what: string,
    input: Pick<UpdateItemCommandInput, 'UpdateExpression' | 'ConditionExpression' | 'ExpressionAttributeNames' | 'ExpressionAttributeValues'>,
  ): Promise<LeaseWriteResult> {
    try {
      await this.client.send(new UpdateItemCommand({ TableName: this.tableName, Key: key(leaseKey), ...input }));
      return { outcome: 'ok', leaseCounter: heldCounter + 1 };
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return { outcome: 'lost' };
      return { outcome: 'error', error: this.failure(`${what} ${leaseKey}`, error, true) };
    }
  }

  private failure(what: string, error: unknown, isWrite: boolean): LeaseTableError {
    const name = (error as Error).name ?? '';
    const failure: LeaseTableFailure = /Throttl|ProvisionedThroughputExceeded|RequestLimitExceeded/.test(name)
      ? 'throttled'
      : /ECONN|ETIMEDOUT|EPIPE|socket|Timeout|Network|Abort/i.test(`${name} ${(error as Error).message}`)
        ? 'network'
        : 'other';
    return new LeaseTableError(`${what} on the lease table ${this.tableName} failed: ${name}: ${(error as Error).message}`, {
      cause: error,
      failure,
      mayHaveApplied: isWrite && failure !== 'throttled',
    });
  }
}

function key(leaseKey: string): Record<string, AttributeValue> {
  return { [A.key]: { S: leaseKey } };
}

function counterValues(held: number): Record<string, AttributeValue> {
  return { ':held': { N: String(held) }, ':next': { N: String(held + 1) } };
}

/** A lease item, or undefined for a non-lease item (an `entityType` other than `LEASE`, or no `leaseCounter`). */
function toLease(item: Record<string, AttributeValue>): Lease | undefined {
  const entityType = item[A.entityType]?.S;
  const counter = item[A.counter]?.N;
  if ((entityType !== undefined && entityType !== 'LEASE') || counter === undefined) return undefined;
  const num = (name: string): number | undefined => (item[name]?.N === undefined ? undefined : Number(item[name]?.N));
  const checkpointOwner = item[A.checkpointOwner]?.S;
  const throughput = num(A.throughput);
  const latestStartedAtMs = num(A.latestStartedAt);
  return {
    leaseKey: item[A.key]?.S ?? '',
    leaseOwner: item[A.owner]?.S,
    leaseCounter: Number(counter),
    checkpoint: item[A.checkpoint]?.S,
    checkpointSubSequenceNumber: num(A.checkpointSub) ?? 0,
    ownerSwitchesSinceCheckpoint: num(A.ownerSwitches) ?? 0,
    parentShardIds: item[A.parents]?.SS ?? [],
    childShardIds: item[A.children]?.SS ?? [],
    ...(checkpointOwner === undefined ? {} : { checkpointOwner }),
    ...(throughput === undefined ? {} : { throughputKBps: throughput }),
    ...(entityType === undefined ? {} : { entityType }),
    ...(latestStartedAtMs === undefined ? {} : { latestStartedAtMs }),
  };
}

function toNonLease(item: Record<string, AttributeValue>): NonLeaseItem {
  const lut = item['lut']?.N;
  const fingerprint = JSON.stringify(Object.keys(item).sort().map((k) => [k, item[k]]));
  return {
    leaseKey: item[A.key]?.S ?? '',
    entityType: item[A.entityType]?.S,
    fingerprint,
    ...(lut === undefined ? {} : { lastUpdateEpochSeconds: Number(lut) }),
  };
}
