/**
 * Two KCL MultiLangDaemon workers of one application (kinesis-local stream, moto lease table), each running shardline
 * children, records put all along; once both hold leases, the worker that is NOT the leader is killed with kill -9
 * (its children too), and the survivor must take its shards with nothing lost. Shared by
 * kcl-two-daemons.chaos.spec.ts (fast takeover profile, in CI) and bench/kcl-takeover (both profiles, measured).
 *
 * Order of events, and why: both workers start together on a lease table whose leases a stand-in worker holds (the
 * test renews them) until both workers have written their metrics entry; then the leases expire and the leader's
 * assignment shares them between the two. Without the stand-in, a leader whose first assignment sees only itself takes
 * every lease, and only measured load moves some later: KCL 3's leader balances by each worker's share of the
 * leases' throughput (no CPU metric off EC2/ECS/EKS), which stays 0 until the children handle records (a long time
 * on a loaded machine) and for records of a few bytes; so the records are also 1 KiB. The leader is read from the
 * `<app>-CoordinatorState` table (item `Leader`, attribute `ownerName`).
 */
import { CreateTableCommand, DynamoDBClient, GetItemCommand, PutItemCommand, ScanCommand, UpdateItemCommand, waitUntilTableExists } from '@aws-sdk/client-dynamodb';
import { join } from 'node:path';
import { kclTakeoverProperties, type KclTakeoverProfile } from '../../src/kcl-daemon/kcl-takeover-profile';
import { motoEndpoint, kinesisEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../harness/endpoints';
import { startTestDaemon, type TestDaemon } from '../harness/test-daemon';
import { createStream, listShards, localKinesis, tempDir, uniqueName } from '../integration/polling/polling-test-kit';
import { ChaosProducer } from './harness/chaos-producer';
import { checkDelivery, type DeliveryReport, type RunEnding } from './harness/delivery-checker';
import { handledIds, HANDLED_LOG_ENV, readHandledLog } from './harness/handled-log';
import { childPids, writeChaosDaemonProperties } from './harness/kcl-chaos';
import { sleep, waitUntil } from './harness/scenario';

/** What a run needs. */
export interface TwoDaemonKillOptions {
  readonly profile: KclTakeoverProfile;
  /** Bound on both workers' start → both hold leases and handle records. */
  readonly balanceTimeoutMs: number;
  /** Bound on kill → every shard of the killed worker handled by the survivor. */
  readonly takeoverTimeoutMs: number;
  /** Which worker to kill: the one that is not the leader (default), or the leader (its lock outlives it by ~2 min). */
  readonly kill?: 'non-leader' | 'leader';
  /** Progress lines (stderr in the benchmark). */
  readonly progress?: (line: string) => void;
}

/** What a run measured. */
export interface TwoDaemonKillResult {
  readonly leader: string;
  readonly killed: string;
  /** The shards the killed worker held (lease table) when it was killed. */
  readonly movedShards: readonly string[];
  /** Both workers' start → both hold leases and handle records. */
  readonly balanceMs: number;
  /** kill -9 → the lease table names the survivor as the owner of every shard the killed worker held. */
  readonly leasesMovedMs: number;
  /** kill -9 → the survivor handles a record of one of the killed worker's shards. */
  readonly firstMovedMs: number;
  /** kill -9 → the survivor has handled a record of every shard the killed worker held. */
  readonly allMovedMs: number;
  readonly report: DeliveryReport;
  /** Where the logs are (daemon logs, handled logs, properties). */
  readonly dir: string;
}

const SHARDS = 4;

/** Lease owner per shard, read from the lease table (named after the application). */
async function leaseOwners(dynamo: DynamoDBClient, app: string): Promise<Map<string, string>> {
  const owners = new Map<string, string>();
  try {
    const out = await dynamo.send(new ScanCommand({ TableName: app, ConsistentRead: true }));
    for (const item of out.Items ?? []) {
      const key = item.leaseKey?.S;
      const owner = item.leaseOwner?.S;
      if (key?.startsWith('shardId-') === true && owner !== undefined) owners.set(key, owner);
    }
  } catch {
    // the table does not exist yet
  }
  return owners;
}

/** The stand-in owner of every lease until both workers are up (it has no metrics entry, so it never gets a lease back). */
const STAND_IN = 'stand-in-worker';

/**
 * Creates the lease table with one lease per shard owned by {@link STAND_IN}, as if a third worker held them: it skips
 * the daemon's random 1-30 s wait on an empty lease table (docs/kcl-local-findings.md), and the leader cannot give
 * the leases away while the test keeps renewing them (see {@link renewStandIn}).
 */
async function prefillLeaseTable(dynamo: DynamoDBClient, app: string, shardIds: readonly string[]): Promise<void> {
  await dynamo.send(
    new CreateTableCommand({
      TableName: app,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'leaseKey', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'leaseKey', KeyType: 'HASH' }],
    }),
  );
  await waitUntilTableExists({ client: dynamo, maxWaitTime: 30 }, { TableName: app });
  for (const shardId of shardIds) {
    await dynamo.send(
      new PutItemCommand({
        TableName: app,
        Item: {
          leaseKey: { S: shardId },
          leaseOwner: { S: STAND_IN },
          checkpoint: { S: 'TRIM_HORIZON' },
          checkpointSubSequenceNumber: { N: '0' },
          leaseCounter: { N: '0' },
          ownerSwitchesSinceCheckpoint: { N: '0' },
        },
      }),
    );
  }
}

/** Raises the counter of every lease the stand-in still owns (a renewal, as far as the leader can tell). */
async function renewStandIn(dynamo: DynamoDBClient, app: string, shardIds: readonly string[]): Promise<void> {
  for (const shardId of shardIds) {
    try {
      await dynamo.send(
        new UpdateItemCommand({
          TableName: app,
          Key: { leaseKey: { S: shardId } },
          UpdateExpression: 'ADD leaseCounter :one',
          ConditionExpression: 'leaseOwner = :me',
          ExpressionAttributeValues: { ':one': { N: '1' }, ':me': { S: STAND_IN } },
        }),
      );
    } catch {
      // no longer the stand-in's
    }
  }
}

/** The worker ids with an entry in KCL 3.1's worker-metrics table. */
async function workersWithMetrics(dynamo: DynamoDBClient, app: string): Promise<Set<string>> {
  try {
    const out = await dynamo.send(new ScanCommand({ TableName: `${app}-WorkerMetricStats`, ConsistentRead: true }));
    return new Set((out.Items ?? []).flatMap((item) => (item.wid?.S !== undefined ? [item.wid.S] : [])));
  } catch {
    return new Set();
  }
}

/** The worker holding KCL 3's leader lock, if any. */
async function leaderOf(dynamo: DynamoDBClient, app: string): Promise<string | undefined> {
  try {
    const out = await dynamo.send(new GetItemCommand({ TableName: `${app}-CoordinatorState`, Key: { key: { S: 'Leader' } }, ConsistentRead: true }));
    return out.Item?.ownerName?.S;
  } catch {
    return undefined;
  }
}

/** Runs the scenario once; throws with the files' folder when a bound is exceeded. */
export async function runTwoDaemonKill(options: TwoDaemonKillOptions): Promise<TwoDaemonKillResult> {
  const say = options.progress ?? (() => undefined);
  const client = localKinesis(kinesisEndpoint());
  const dynamo = new DynamoDBClient({ endpoint: motoEndpoint(), region: TEST_REGION, credentials: TEST_CREDENTIALS });
  const stream = uniqueName('kcl-two');
  const app = uniqueName('kcl-two-app');
  await createStream(client, stream, SHARDS);
  const shardIds = (await listShards(client, stream)).map((s) => s.ShardId ?? '');
  await prefillLeaseTable(dynamo, app, shardIds);
  const dir = tempDir('shardline-kcl-two-');
  const context = `two KCL daemons, ${options.profile} takeover (files in ${dir})`;
  const workers = ['worker-a', 'worker-b'].map((id) => ({
    id: `${id}-${process.pid}`,
    log: join(dir, `handled-${id}.jsonl`),
    properties: writeChaosDaemonProperties(dir, {
      stream,
      application: app,
      workerId: `${id}-${process.pid}`,
      comment: `two daemons: ${id}, ${options.profile} takeover`,
      fileName: `${id}.properties`,
      // The profile last, so that it overrides the test harness's short timers.
      extra: kclTakeoverProperties(options.profile),
    }),
  }));
  const producer = new ChaosProducer(client, stream);
  let producing = false;
  let production: Promise<number> = Promise.resolve(0);
  const daemons: TestDaemon[] = [];
  const killedChildren: number[] = [];
  const allIds = (): Set<number> => new Set([...handledIds(workers[0]!.log), ...handledIds(workers[1]!.log)]);
  try {
    // ~40 records of 1 KiB/s over 4 shards until told to stop (the cap only bounds a run that went wrong). Records of
    // a few bytes measure as 0.0 KB/s per lease, and the leader then never moves a lease to a worker that got none.
    producing = true;
    production = producer.put({ from: 0, count: 40_000, chunk: 8, pauseMs: 200, paddingBytes: 1_000, until: () => !producing });
    const start = (w: (typeof workers)[number]): TestDaemon => {
      const daemon = startTestDaemon(w.properties, join(dir, `${w.id}.daemon.log`), { [HANDLED_LOG_ENV]: w.log, CHAOS_STREAM: stream });
      daemons.push(daemon);
      return daemon;
    };
    const [a, b] = workers as [(typeof workers)[number], (typeof workers)[number]];
    const startedAt = Date.now();
    const daemonA = start(a);
    const daemonB = start(b);
    // The stand-in keeps the leases until both workers report metrics, so that the leader's first assignment sees both.
    for (const deadline = Date.now() + options.balanceTimeoutMs; ; await sleep(1_000)) {
      const reporting = await workersWithMetrics(dynamo, app);
      if (reporting.has(a.id) && reporting.has(b.id)) break;
      if (Date.now() > deadline) throw new Error(`timed out after ${options.balanceTimeoutMs} ms: ${context}: the workers never both wrote metrics (${[...reporting].join(', ') || 'none'})`);
      await renewStandIn(dynamo, app, shardIds);
    }
    say(`both workers report metrics after ${Date.now() - startedAt} ms; the stand-in stops renewing`);
    let owners = new Map<string, string>();
    let firstHoldersAt: number | undefined;
    for (const deadline = Date.now() + options.balanceTimeoutMs; ; await sleep(500)) {
      owners = await leaseOwners(dynamo, app);
      const holders = new Set(owners.values());
      holders.delete(STAND_IN);
      if (holders.size > 0 && firstHoldersAt === undefined) {
        firstHoldersAt = Date.now();
        say(`first leases held after ${firstHoldersAt - startedAt} ms: ${JSON.stringify([...owners])}`);
      }
      if (holders.has(a.id) && holders.has(b.id) && readHandledLog(a.log).records.length > 0 && readHandledLog(b.log).records.length > 0) break;
      if (Date.now() > deadline) throw new Error(`timed out after ${options.balanceTimeoutMs} ms: ${context}: the two workers never both held leases (owners: ${JSON.stringify([...owners])})`);
    }
    const balanceMs = Date.now() - startedAt;
    say(`both hold leases and handle records ${balanceMs} ms after start: ${JSON.stringify([...owners])}`);
    // Let both run a little, so that the kill lands in steady state.
    await sleep(2_000);
    const leader = await leaderOf(dynamo, app);
    if (leader === undefined) throw new Error(`${context}: no leader lock item in ${app}-CoordinatorState`);
    const killLeader = options.kill === 'leader';
    const victim = (leader === a.id) !== killLeader ? { worker: b, daemon: daemonB } : { worker: a, daemon: daemonA };
    const survivor = victim.worker === a ? b : a;
    owners = await leaseOwners(dynamo, app);
    const movedShards = [...owners].filter(([, owner]) => owner === victim.worker.id).map(([shard]) => shard).sort();
    const survivorRecordsBefore = readHandledLog(survivor.log).records.length;
    // kill -9 of the JVM and its children at once, as a lost host would.
    const children = childPids(victim.daemon.child.pid ?? 0);
    for (const pid of children) {
      try {
        process.kill(pid, 'SIGKILL');
        killedChildren.push(pid);
      } catch {
        // already gone
      }
    }
    victim.daemon.kill();
    const killedAt = Date.now();
    say(`killed ${victim.worker.id} (${killLeader ? 'the leader' : `not the leader; leader ${leader}`}) holding ${movedShards.join(', ')}, and its ${children.length} children`);
    if (movedShards.length === 0) throw new Error(`${context}: the worker killed held no lease when it was killed`);
    let firstMovedMs: number | undefined;
    let leasesMovedMs: number | undefined;
    const taken = new Set<string>();
    for (;;) {
      if (leasesMovedMs === undefined) {
        const now = await leaseOwners(dynamo, app);
        if (movedShards.every((shard) => now.get(shard) === survivor.id)) leasesMovedMs = Date.now() - killedAt;
      }
      for (const r of readHandledLog(survivor.log).records.slice(survivorRecordsBefore)) {
        if (movedShards.includes(r.shard)) taken.add(r.shard);
      }
      if (taken.size > 0) firstMovedMs ??= Date.now() - killedAt;
      if (taken.size === movedShards.length) break;
      if (Date.now() - killedAt > options.takeoverTimeoutMs) {
        throw new Error(`timed out after ${options.takeoverTimeoutMs} ms: ${context}: the survivor took ${[...taken].join(', ') || 'none'} of ${movedShards.join(', ')}`);
      }
      await sleep(100);
    }
    const allMovedMs = Date.now() - killedAt;
    say(`survivor handles every moved shard ${allMovedMs} ms after the kill (leases moved after ${leasesMovedMs ?? allMovedMs} ms, first record after ${firstMovedMs ?? allMovedMs} ms)`);
    await sleep(2_000);
    producing = false;
    const put = await production;
    await waitUntil(
      () => {
        const seen = allIds();
        for (let id = 0; id < put; id++) if (!seen.has(id)) return false;
        return true;
      },
      60_000,
      () => `${context}: ${allIds().size} of ${put} ids handled`,
    );
    await daemons.find((d) => d !== victim.daemon)?.stop();
    const handled = [...readHandledLog(a.log).records, ...readHandledLog(b.log).records];
    const endings = new Map<number, RunEnding>(killedChildren.map((pid) => [pid, 'killed']));
    const report = checkDelivery({ puts: producer.positions, handled, endings });
    return { leader, killed: victim.worker.id, movedShards, balanceMs, leasesMovedMs: leasesMovedMs ?? allMovedMs, firstMovedMs: firstMovedMs ?? allMovedMs, allMovedMs, report, dir };
  } finally {
    producing = false;
    for (const d of daemons) d.kill();
    for (const pid of killedChildren) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    await producer.close();
    await production.catch(() => undefined);
    client.destroy();
    dynamo.destroy();
  }
}
