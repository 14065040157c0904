import {
  ConditionalCheckFailedException,
  CreateTableCommand,
  DescribeTableCommand,
  DynamoDBClient,
  GetItemCommand,
  PutItemCommand,
  ResourceNotFoundException,
  ScanCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClientConfig,
} from '@aws-sdk/client-dynamodb';
import { type CheckpointPosition } from '../core/checkpoint-position';
import { CheckpointError, ConfigurationError, LeaseLostError } from '../core/errors';
import { createHttpHandler } from '../core/http-handler';
import { sleep } from '../core/sleep';
import { createShardlineWorkerId } from '../leases/worker-id';
import { type CheckpointStore, type LeaseRequest, type StoredShard } from './checkpoint-store';

/** Options of {@link DynamoDbCheckpointStore}. */
export interface DynamoDbCheckpointStoreOptions {
  /** The lease table. The KCL's default is the application name. */
  readonly tableName: string;
  /** A ready client; otherwise one is made from `region` / `endpoint` (or `AWS_ENDPOINT_URL_DYNAMODB`). */
  readonly client?: DynamoDBClient;
  readonly region?: string;
  readonly endpoint?: string;
  /** Names this process in `leaseOwner`. Default: {@link createShardlineWorkerId} (`shardline:<hostname>:<pid>:<random>`). */
  readonly workerId?: string;
  /** Create the table (on-demand, hash key `leaseKey`) when it does not exist. Default true. */
  readonly createTable?: boolean;
  /**
   * {@link DynamoDbCheckpointStore.acquire} takes a lease held by another worker only once it saw its counter unchanged
   * for this long (the holder died: kill -9, OOM, a lost host). Default 10,000 (the KCL's failover time).
   */
  readonly failoverTimeMs?: number;
  /** Monotonic clock in ms, for tests. Default `performance.now`. */
  readonly nowMs?: () => number;
}

/** KCL lease table attribute names (`DynamoDBLeaseSerializer` in amazon-kinesis-client 3.x). */
const A = {
  leaseKey: 'leaseKey',
  leaseOwner: 'leaseOwner',
  leaseCounter: 'leaseCounter',
  ownerSwitches: 'ownerSwitchesSinceCheckpoint',
  checkpoint: 'checkpoint',
  checkpointSub: 'checkpointSubSequenceNumber',
  pendingCheckpoint: 'pendingCheckpoint',
  pendingCheckpointSub: 'pendingCheckpointSubSequenceNumber',
  pendingCheckpointState: 'pendingCheckpointState',
  parentShardId: 'parentShardId',
  childShardIds: 'childShardIds',
  startingHashKey: 'startingHashKey',
  endingHashKey: 'endingHashKey',
  checkpointOwner: 'checkpointOwner',
  /** shardline's own (the KCL ignores attributes it does not know): epoch ms where a LATEST shard started. */
  latestStartedAt: 'shardlineLatestStartedAt',
} as const;

/** The global secondary index KCL 3 keeps on its lease table. */
export const LEASE_OWNER_INDEX = 'LeaseOwnerToLeaseKeyIndex';

/**
 * Checkpoints in a KCL lease table, item for item as the KCL 3 daemon reads and writes them: `leaseKey` (S, the
 * shard id, hash key), `leaseOwner` (S), `leaseCounter` (N), `ownerSwitchesSinceCheckpoint` (N), `checkpoint` (S: a
 * sequence number or `TRIM_HORIZON`/`LATEST`/`AT_TIMESTAMP`/`SHARD_END`), `checkpointSubSequenceNumber` (N),
 * `parentShardId` (SS), `childShardIds` (SS), `startingHashKey`/`endingHashKey` (S). An application can therefore move
 * between the polling adapter and the KCL adapter and keep its place.
 *
 * Every write is conditional on the lease counter this process last saw (and on being the owner), and bumps it, as the
 * KCL does: if another worker (a KCL daemon, a second poller) takes the lease, the next checkpoint fails instead of
 * overwriting its progress. It never takes a lease another worker holds: the polling adapter shares a table between
 * processes through a {@link LeaseCoordinator} on the same table (renewal, expiry, fair share), see docs/leases.md.
 */
export class DynamoDbCheckpointStore implements CheckpointStore {
  readonly description: string;
  readonly workerId: string;
  /** The DynamoDB client the store uses (the polling adapter's lease coordinator shares it). */
  readonly client: DynamoDBClient;
  /** The lease table. */
  readonly tableName: string;
  private readonly ownsClient: boolean;
  private readonly counters = new Map<string, number>();
  /** Leases seen held by another worker: owner, counter and since when (monotonic ms) they have not changed. */
  private readonly foreign = new Map<string, { owner: string; counter: number | undefined; sinceMs: number }>();
  private closed = false;

  constructor(private readonly options: DynamoDbCheckpointStoreOptions) {
    this.description = `dynamodb:${options.tableName}`;
    this.tableName = options.tableName;
    this.workerId = options.workerId ?? createShardlineWorkerId();
    this.ownsClient = options.client === undefined;
    this.client = options.client ?? createDynamoDbClient(options);
  }

  async open(): Promise<void> {
    try {
      await this.client.send(new DescribeTableCommand({ TableName: this.options.tableName }));
      return;
    } catch (error) {
      if (!(error instanceof ResourceNotFoundException)) throw this.configError('cannot read the lease table', error);
    }
    if (this.options.createTable === false) {
      throw new ConfigurationError(`the lease table ${this.options.tableName} does not exist; create it or allow the store to create it`);
    }
    try {
      await this.client.send(
        new CreateTableCommand({
          TableName: this.options.tableName,
          AttributeDefinitions: [
            { AttributeName: A.leaseKey, AttributeType: 'S' },
            { AttributeName: A.leaseOwner, AttributeType: 'S' },
          ],
          KeySchema: [{ AttributeName: A.leaseKey, KeyType: 'HASH' }],
          BillingMode: 'PAY_PER_REQUEST',
          // The index KCL 3 adds to its lease table; creating it here lets the KCL adapter take over this table as is.
          GlobalSecondaryIndexes: [
            {
              IndexName: LEASE_OWNER_INDEX,
              KeySchema: [
                { AttributeName: A.leaseOwner, KeyType: 'HASH' },
                { AttributeName: A.leaseKey, KeyType: 'RANGE' },
              ],
              Projection: { ProjectionType: 'KEYS_ONLY' },
            },
          ],
        }),
      );
    } catch (error) {
      if ((error as Error).name !== 'ResourceInUseException') throw this.configError('cannot create the lease table', error);
    }
    for (let i = 0; i < 120; i++) {
      const described = await this.client.send(new DescribeTableCommand({ TableName: this.options.tableName }));
      if (described.Table?.TableStatus === 'ACTIVE') return;
      await sleep(250);
    }
    throw new ConfigurationError(`the lease table ${this.options.tableName} did not become ACTIVE within 30 s`);
  }

  async list(): Promise<readonly StoredShard[]> {
    const shards: StoredShard[] = [];
    let startKey: Record<string, AttributeValue> | undefined;
    do {
      const page = await this.client.send(new ScanCommand({ TableName: this.options.tableName, ConsistentRead: true, ExclusiveStartKey: startKey }));
      for (const item of page.Items ?? []) shards.push(fromItem(item));
      startKey = page.LastEvaluatedKey;
    } while (startKey !== undefined);
    return shards;
  }

  /**
   * Takes the shard's lease when nobody holds it (or this worker does), creating it when missing. A lease another
   * worker holds is never taken here, live or not: in a fleet, the polling adapter's {@link LeaseCoordinator} decides
   * who reads what (and takes expired leases); this method is for one process on its own table.
   * @throws LeaseLostError when another worker holds the lease.
   */
  private get failoverTimeMs(): number {
    return this.options.failoverTimeMs ?? 10_000;
  }

  /**
   * A lease held by another worker: returns its owner when its counter has not moved for `failoverTimeMs` since this
   * store first saw it (the holder is dead), else remembers it and throws {@link LeaseLostError} (the caller retries).
   */
  private staleForeignOwner(shardId: string, owner: string, counter: number | undefined): string {
    const now = (this.options.nowMs ?? (() => performance.now()))();
    const seen = this.foreign.get(shardId);
    if (seen !== undefined && seen.owner === owner && seen.counter === counter) {
      if (now - seen.sinceMs >= this.failoverTimeMs) return owner;
    } else {
      this.foreign.set(shardId, { owner, counter, sinceMs: now });
    }
    throw new LeaseLostError(
      `the lease of ${shardId} in ${this.options.tableName} is held by ${owner}: taking it only once it has not been renewed for ${this.failoverTimeMs} ms ` +
        "(several processes share a table through the polling adapter's lease coordinator)",
      { shardId },
    );
  }

  async acquire(request: LeaseRequest): Promise<StoredShard> {
    for (let attempt = 0; attempt < 5; attempt++) {
      const got = await this.client.send(
        new GetItemCommand({ TableName: this.options.tableName, Key: { [A.leaseKey]: { S: request.shardId } }, ConsistentRead: true }),
      );
      try {
        if (got.Item === undefined) {
          const item: Record<string, AttributeValue> = {
            [A.leaseKey]: { S: request.shardId },
            [A.leaseCounter]: { N: '1' },
            [A.leaseOwner]: { S: this.workerId },
            [A.ownerSwitches]: { N: '0' },
            [A.checkpoint]: { S: request.initialCheckpoint },
            [A.checkpointSub]: { N: '0' },
          };
          if (request.parentShardIds.length > 0) item[A.parentShardId] = { SS: [...request.parentShardIds] };
          if (request.hashKeyRange !== undefined) {
            item[A.startingHashKey] = { S: request.hashKeyRange.startingHashKey };
            item[A.endingHashKey] = { S: request.hashKeyRange.endingHashKey };
          }
          await this.client.send(
            new PutItemCommand({ TableName: this.options.tableName, Item: item, ConditionExpression: 'attribute_not_exists(#k)', ExpressionAttributeNames: { '#k': A.leaseKey } }),
          );
          this.counters.set(request.shardId, 1);
          return fromItem(item);
        }
        const current = fromItem(got.Item);
        const stale = current.leaseOwner !== undefined && current.leaseOwner !== this.workerId ? this.staleForeignOwner(request.shardId, current.leaseOwner, current.leaseCounter) : undefined;
        const next = (current.leaseCounter ?? 0) + 1;
        const updated = await this.client.send(
          new UpdateItemCommand({
            TableName: this.options.tableName,
            Key: { [A.leaseKey]: { S: request.shardId } },
            UpdateExpression: 'SET #o = :me, #c = :next REMOVE #co',
            ConditionExpression: `${stale === undefined ? '(attribute_not_exists(#o) OR #o = :me)' : '#o = :dead'} AND ${current.leaseCounter === undefined ? 'attribute_not_exists(#c)' : '#c = :seen'}`,
            ExpressionAttributeNames: { '#o': A.leaseOwner, '#c': A.leaseCounter, '#co': A.checkpointOwner },
            ExpressionAttributeValues: {
              ':me': { S: this.workerId },
              ':next': { N: String(next) },
              ...(stale === undefined ? {} : { ':dead': { S: stale } }),
              ...(current.leaseCounter === undefined ? {} : { ':seen': { N: String(current.leaseCounter) } }),
            },
            ReturnValues: 'ALL_NEW',
          }),
        );
        this.counters.set(request.shardId, next);
        this.foreign.delete(request.shardId);
        return fromItem(updated.Attributes ?? got.Item);
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) continue; // someone wrote in between: read again
        if (error instanceof LeaseLostError) throw error;
        throw new CheckpointError(`cannot take the lease of ${request.shardId} in ${this.options.tableName}: ${(error as Error).message}`, {
          cause: error,
          shardId: request.shardId,
        });
      }
    }
    throw new CheckpointError(
      `the lease of ${request.shardId} in ${this.options.tableName} keeps changing under us: another worker (a KCL daemon?) is using this application; stop it first`,
      { shardId: request.shardId },
    );
  }

  async checkpoint(shardId: string, position: CheckpointPosition, childShardIds?: readonly string[]): Promise<void> {
    const expected = this.counters.get(shardId);
    if (expected === undefined) throw new CheckpointError(`cannot checkpoint ${shardId}: this process does not hold its lease`, { shardId });
    const withChildren = childShardIds !== undefined && childShardIds.length > 0;
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { [A.leaseKey]: { S: shardId } },
          UpdateExpression: `SET #cp = :cp, #cs = :cs, #s = :zero, #c = :next${withChildren ? ', #ch = :children' : ''} REMOVE #p, #ps, #pst`,
          ConditionExpression: '#c = :expected AND #o = :me',
          ExpressionAttributeNames: {
            '#cp': A.checkpoint,
            '#cs': A.checkpointSub,
            '#s': A.ownerSwitches,
            '#c': A.leaseCounter,
            '#o': A.leaseOwner,
            '#p': A.pendingCheckpoint,
            '#ps': A.pendingCheckpointSub,
            '#pst': A.pendingCheckpointState,
            ...(withChildren ? { '#ch': A.childShardIds } : {}),
          },
          ExpressionAttributeValues: {
            ':cp': { S: position.sequenceNumber },
            ':cs': { N: String(position.subSequenceNumber) },
            ':zero': { N: '0' },
            ':next': { N: String(expected + 1) },
            ':expected': { N: String(expected) },
            ':me': { S: this.workerId },
            ...(withChildren ? { ':children': { SS: [...childShardIds] } } : {}),
          },
        }),
      );
      this.counters.set(shardId, expected + 1);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (await this.appliedBefore(shardId, expected, (item) => item[A.checkpoint]?.S === position.sequenceNumber && item[A.checkpointSub]?.N === String(position.subSequenceNumber))) {
          this.counters.set(shardId, expected + 1);
          return;
        }
        this.counters.delete(shardId);
        throw new LeaseLostError(
          `the lease of ${shardId} in ${this.options.tableName} was taken by another worker: not checkpointing (its records will be processed by the new owner)`,
          { cause: error, shardId },
        );
      }
      throw new CheckpointError(`checkpoint of ${shardId} in ${this.options.tableName} failed: ${(error as Error).message}`, { cause: error, shardId });
    }
  }

  async rememberLatestStart(shardId: string, at: Date): Promise<void> {
    const expected = this.counters.get(shardId);
    if (expected === undefined) throw new CheckpointError(`cannot store the start of ${shardId}: this process does not hold its lease`, { shardId });
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { [A.leaseKey]: { S: shardId } },
          UpdateExpression: 'SET #l = :at, #c = :next',
          ConditionExpression: '#c = :expected AND #o = :me',
          ExpressionAttributeNames: { '#l': A.latestStartedAt, '#c': A.leaseCounter, '#o': A.leaseOwner },
          ExpressionAttributeValues: {
            ':at': { N: String(at.getTime()) },
            ':next': { N: String(expected + 1) },
            ':expected': { N: String(expected) },
            ':me': { S: this.workerId },
          },
        }),
      );
      this.counters.set(shardId, expected + 1);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) {
        if (await this.appliedBefore(shardId, expected, (item) => item[A.latestStartedAt]?.N === String(at.getTime()))) {
          this.counters.set(shardId, expected + 1);
          return;
        }
        this.counters.delete(shardId);
        throw new LeaseLostError(`the lease of ${shardId} in ${this.options.tableName} was taken by another worker`, { cause: error, shardId });
      }
      throw new CheckpointError(`storing the start of ${shardId} in ${this.options.tableName} failed: ${(error as Error).message}`, { cause: error, shardId });
    }
  }

  /**
   * After a failed condition: whether our own earlier attempt of this very write was applied (the SDK retried a
   * request whose answer was lost, so the retry found the counter already moved). True when a consistent read shows
   * us as owner, the counter one past `expected` and `matches` the written values: then the write succeeded.
   */
  private async appliedBefore(shardId: string, expected: number, matches: (item: Record<string, AttributeValue>) => boolean): Promise<boolean> {
    try {
      const out = await this.client.send(new GetItemCommand({ TableName: this.options.tableName, Key: { [A.leaseKey]: { S: shardId } }, ConsistentRead: true }));
      const item = out.Item;
      return item !== undefined && item[A.leaseOwner]?.S === this.workerId && item[A.leaseCounter]?.N === String(expected + 1) && matches(item);
    } catch {
      return false; // cannot tell: treat as lost (the safe side: nothing is checkpointed by a worker that may not own the lease)
    }
  }

  async release(shardId: string): Promise<void> {
    const expected = this.counters.get(shardId);
    if (expected === undefined) return;
    this.counters.delete(shardId);
    try {
      await this.client.send(
        new UpdateItemCommand({
          TableName: this.options.tableName,
          Key: { [A.leaseKey]: { S: shardId } },
          UpdateExpression: 'SET #c = :next REMOVE #o, #co',
          ConditionExpression: '#c = :expected AND #o = :me',
          ExpressionAttributeNames: { '#c': A.leaseCounter, '#o': A.leaseOwner, '#co': A.checkpointOwner },
          ExpressionAttributeValues: { ':next': { N: String(expected + 1) }, ':expected': { N: String(expected) }, ':me': { S: this.workerId } },
        }),
      );
    } catch {
      // Best effort: a lease we no longer hold needs no release.
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.all([...this.counters.keys()].map((shardId) => this.release(shardId)));
    if (this.ownsClient) this.client.destroy();
  }

  private configError(what: string, error: unknown): ConfigurationError {
    return new ConfigurationError(
      `${what} ${this.options.tableName}: ${(error as Error).message}; check the region, the credentials and AWS_ENDPOINT_URL_DYNAMODB`,
      { cause: error },
    );
  }
}

function createDynamoDbClient(options: DynamoDbCheckpointStoreOptions): DynamoDBClient {
  const config: DynamoDBClientConfig = {
    region: options.region ?? process.env['AWS_REGION'] ?? process.env['AWS_DEFAULT_REGION'] ?? 'us-east-1',
    // A silent endpoint would hold a call (a start, a renewal, a checkpoint) for ever, and the lease's writes queue
    // behind it. DynamoDB answers in milliseconds (local emulators under load in hundreds): no answer in 5 s fails.
    requestHandler: createHttpHandler({ connectionTimeoutMs: 3_000, requestTimeoutMs: 5_000 }),
    // Renewals come again every interval and checkpoints are retried by the reader: two attempts bound a silent call
    // to about 10 s.
    maxAttempts: 2,
  };
  const endpoint = options.endpoint;
  if (endpoint !== undefined) config.endpoint = endpoint;
  const local = (endpoint ?? process.env['AWS_ENDPOINT_URL_DYNAMODB'] ?? '').startsWith('http://');
  if (local && process.env['AWS_ACCESS_KEY_ID'] === undefined) config.credentials = { accessKeyId: 'shardline-local', secretAccessKey: 'shardline-local' };
  return new DynamoDBClient(config);
}

function fromItem(item: Record<string, AttributeValue>): StoredShard {
  const s = (name: string): string | undefined => item[name]?.S;
  const n = (name: string): number | undefined => {
    const value = item[name]?.N;
    return value === undefined ? undefined : Number(value);
  };
  const checkpoint = s(A.checkpoint);
  const owner = s(A.leaseOwner);
  const counter = n(A.leaseCounter);
  const latestStartedAt = n(A.latestStartedAt);
  return {
    shardId: s(A.leaseKey) ?? '',
    checkpoint: checkpoint === undefined ? undefined : { sequenceNumber: checkpoint, subSequenceNumber: n(A.checkpointSub) ?? 0 },
    parentShardIds: item[A.parentShardId]?.SS ?? [],
    childShardIds: item[A.childShardIds]?.SS ?? [],
    ...(owner === undefined ? {} : { leaseOwner: owner }),
    ...(counter === undefined ? {} : { leaseCounter: counter }),
    ...(latestStartedAt === undefined ? {} : { latestStartedAt: new Date(latestStartedAt) }),
  };
}
