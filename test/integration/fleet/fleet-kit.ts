/**
 * Helpers of the polling-fleet tests: several built-CLI consumer processes on one stream and one lease table, the
 * owners read back from the table, and a TCP proxy that cuts one worker off DynamoDB.
 */
import { type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { mkdirSync } from 'node:fs';
import { createServer, connect, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { DynamoDbLeaseTable } from '../../../src/leases/dynamodb-lease-table';
import { ConsumerRuns } from '../../chaos/harness/consumer-process';
import { readHandledLog, type HandledRecord } from '../../chaos/harness/handled-log';
import { type PollingScenario } from '../../chaos/harness/scenario';
import { kinesaliteEndpoint } from '../../harness/endpoints';

/** Takes a lease the way a lease coordinator takes an expired or stolen one: conditioned on the counter only. */
export async function takeAsCoordinator(client: DynamoDBClient, tableName: string, shardId: string, newOwner: string): Promise<void> {
  const table = new DynamoDbLeaseTable({ client, tableName });
  const got = await table.get(shardId);
  if (got.outcome !== 'ok' || got.lease === undefined) throw new Error(`no lease ${shardId}`);
  const taken = await table.take(got.lease, newOwner);
  if (taken.outcome !== 'ok') throw new Error(`take of ${shardId} failed: ${taken.outcome}`);
}

/** Lease owner → shard ids, from a consistent read of the table (unowned leases under `''`). */
export async function leaseOwners(client: DynamoDBClient, tableName: string): Promise<Map<string, string[]>> {
  const scanned = await new DynamoDbLeaseTable({ client, tableName, consistentScan: true }).scan();
  if (scanned.outcome !== 'ok') throw scanned.error;
  const owners = new Map<string, string[]>();
  for (const lease of scanned.scan.leases) {
    const owner = lease.leaseOwner ?? '';
    owners.set(owner, [...(owners.get(owner) ?? []), lease.leaseKey].sort());
  }
  return owners;
}

/** One member of the fleet: a named worker (`--worker-id`) whose processes run one after the other. */
export interface FleetWorker {
  readonly name: string;
  /** `shardline:<name>`, its `leaseOwner`. */
  readonly owner: string;
  readonly runs: ConsumerRuns;
}

/** Lease timing of the fleet tests: failover 3 s (renewal 975 ms, lease scan 1.5 s, steal read delay 2.7 s). */
export const FAILOVER_MS = 3_000;
export const TAKER_MS = 1_500;

/**
 * Starts a worker: the built CLI with `--checkpoints dynamodb:<table>` and short lease timing, its own stderr folder,
 * logging what it handles to the scenario's shared log. `dynamoEndpoint` lets a worker talk to DynamoDB through a proxy.
 */
export function fleetWorker(s: PollingScenario, table: string, name: string, dynamoEndpoint: string): FleetWorker {
  const dir = join(s.dir, name);
  mkdirSync(dir, { recursive: true });
  const runs = new ConsumerRuns({
    fixture: join(__dirname, '..', '..', 'chaos', 'fixtures', 'chaos.consumer.ts'),
    stream: s.stream,
    endpoint: kinesaliteEndpoint(),
    checkpoints: `dynamodb:${table}`,
    handledLog: s.log,
    dir,
    env: { AWS_ENDPOINT_URL_DYNAMODB: dynamoEndpoint, CHAOS_SLEEP_MS_AFTER_LOG: '50' },
    args: ['--worker-id', name, '--failover-time-ms', String(FAILOVER_MS), '--shutdown-timeout-ms', '10000'],
  });
  return { name, owner: `shardline:${name}`, runs };
}

/** The handled records, in log order (appends are atomic, so log order is the order in which they were handled). */
export function handled(log: string): readonly HandledRecord[] {
  return readHandledLog(log).records;
}

/**
 * Records handled at or after log index `from` by another process, of ids that `pid` handled before them (at any
 * index): the re-deliveries that `pid`'s leaving caused, per shard.
 */
export function redeliveredAfter(records: readonly HandledRecord[], from: number, pid: number): Map<string, number> {
  const byPid = new Set<number>();
  const perShard = new Map<string, number>();
  records.forEach((r, index) => {
    if (r.pid === pid) byPid.add(r.id);
    else if (index >= from && byPid.has(r.id)) perShard.set(r.shard, (perShard.get(r.shard) ?? 0) + 1);
  });
  return perShard;
}

/** The largest batch in the log (records with the same pid and batch number). */
export function largestBatch(records: readonly HandledRecord[]): number {
  const sizes = new Map<string, number>();
  for (const r of records) sizes.set(`${r.pid}/${r.b}`, (sizes.get(`${r.pid}/${r.b}`) ?? 0) + 1);
  return Math.max(0, ...sizes.values());
}

/** A loopback TCP proxy to DynamoDB that can be cut: open connections are destroyed and new ones closed at once. */
export interface PartitionProxy {
  readonly endpoint: string;
  cut(): void;
  close(): Promise<void>;
}

/** Starts a {@link PartitionProxy} on `port` in front of `target` (`http://127.0.0.1:<port>`). */
export async function startPartitionProxy(port: number, target: string): Promise<PartitionProxy> {
  const upstream = new URL(target);
  const sockets = new Set<Socket>();
  let isCut = false;
  const track = (socket: Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => socket.destroy());
  };
  const server: Server = createServer((client) => {
    track(client);
    if (isCut) {
      client.destroy();
      return;
    }
    const server = connect(Number(upstream.port), upstream.hostname);
    track(server);
    client.pipe(server).pipe(client);
    client.on('close', () => server.destroy());
    server.on('close', () => client.destroy());
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    endpoint: `http://127.0.0.1:${port}`,
    cut: () => {
      isCut = true;
      for (const socket of sockets) socket.destroy();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
