/**
 * Scenario helpers shared by the chaos specs: a bounded wait on the handled log, the checkpoint file of a run, the
 * stream's lineage, and the one-line summary every scenario prints to stderr at its end.
 */
import { ListShardsCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { kinesaliteEndpoint } from '../../harness/endpoints';
import { createStream, localKinesis, tempDir, uniqueName } from '../../integration/polling/polling-test-kit';
import { ConsumerRuns } from './consumer-process';
import { type DeliveryReport } from './delivery-checker';
import { handledIds, readHandledLog } from './handled-log';
import { type SeededRandom } from './seeded-random';

/** Sleeps `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Waits until the log holds every id in [0, count), or fails after `timeoutMs` with `describe()`; with `runs`, fails
 * at once when the consumer process exited by itself.
 */
export async function waitForIds(log: string, count: number, timeoutMs: number, describe: () => string, runs?: ConsumerRuns): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (runs !== undefined && runs.current === undefined) throw new Error(`the consumer exited by itself before handling ${count} ids\n${describe()}`);
    const seen = handledIds(log);
    let all = true;
    for (let id = 0; id < count && all; id++) all = seen.has(id);
    if (all) return;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${seen.size} of ${count} ids handled\n${describe()}`);
    await sleep(250);
  }
}

/** Waits until `check()` is true, or fails after `timeoutMs` with `describe()`. */
export async function waitUntil(check: () => boolean, timeoutMs: number, describe: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${describe()}`);
    await sleep(100);
  }
}

/** The parent shard ids of every shard of the stream (ListShards lists closed shards too). */
export async function shardParents(client: KinesisClient, stream: string): Promise<Map<string, string[]>> {
  const out = await client.send(new ListShardsCommand({ StreamName: stream }));
  return new Map(
    (out.Shards ?? []).map((s) => [s.ShardId ?? '', [s.ParentShardId, s.AdjacentParentShardId].filter((p): p is string => p !== undefined)]),
  );
}

/** The checkpoints the file store holds (shard id → sequence number or sentinel such as `SHARD_END`); empty when none. */
export function fileCheckpoints(directory: string): Map<string, string> {
  const result = new Map<string, string>();
  if (!existsSync(directory)) return result;
  for (const name of readdirSync(directory).filter((n) => n.endsWith('.json'))) {
    const content = JSON.parse(readFileSync(join(directory, name), 'utf8')) as { shards?: Record<string, { checkpoint?: string }> };
    for (const [shardId, entry] of Object.entries(content.shards ?? {})) {
      if (entry.checkpoint !== undefined) result.set(shardId, entry.checkpoint);
    }
  }
  return result;
}

/** Prints the scenario's one-line summary to stderr. */
export function printSummary(scenario: string, seed: number, report: DeliveryReport, crashes: number, startedAt: number): void {
  const distinct = report.put - report.lost.length;
  process.stderr.write(
    `[chaos] ${scenario} (seed ${seed}): put ${report.put}, handled ${report.handled} (${distinct} distinct), duplicates ${report.duplicates}, ` +
      `crashes ${crashes}, ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`,
  );
}

/** What every polling scenario starts with: a fresh stream on kinesalite and a folder for its files. */
export interface PollingScenario {
  readonly client: KinesisClient;
  readonly stream: string;
  readonly dir: string;
  /** The handled-records log. */
  readonly log: string;
  /** The file checkpoint store's folder. */
  readonly checkpointsDir: string;
  readonly startedAt: number;
}

/** Creates a stream of `shards` shards on kinesalite and a temporary folder. */
export async function pollingScenario(prefix: string, shards: number): Promise<PollingScenario> {
  const client = localKinesis(kinesaliteEndpoint());
  const stream = uniqueName(prefix);
  await createStream(client, stream, shards);
  const dir = tempDir(`shardline-chaos-${prefix}-`);
  return { client, stream, dir, log: join(dir, 'handled.jsonl'), checkpointsDir: join(dir, 'checkpoints'), startedAt: Date.now() };
}

/**
 * The consumer runs of a polling scenario: the built CLI reading its stream on kinesalite, logging to its handled log,
 * with file checkpoints in its folder unless `checkpoints` says otherwise.
 */
export function scenarioRuns(
  s: PollingScenario,
  options: { readonly fixture?: string; readonly env?: Readonly<Record<string, string>>; readonly checkpoints?: string } = {},
): ConsumerRuns {
  return new ConsumerRuns({
    fixture: join(__dirname, '..', 'fixtures', options.fixture ?? 'chaos.consumer.ts'),
    stream: s.stream,
    endpoint: kinesaliteEndpoint(),
    checkpoints: options.checkpoints ?? `file:${s.checkpointsDir}`,
    handledLog: s.log,
    dir: s.dir,
    ...(options.env !== undefined ? { env: options.env } : {}),
  });
}

/** Waits until process `pid` has logged at least one handled record (so that a kill lands while it works). */
export async function waitForWorkBy(log: string, pid: number, timeoutMs: number, describe: () => string): Promise<void> {
  await waitUntil(() => readHandledLog(log).records.some((r) => r.pid === pid), timeoutMs, () => `pid ${pid} handled nothing\n${describe()}`);
}

/**
 * One crash: waits until the running consumer has handled something, lets it work a seeded while (0 to
 * `maxDelayMs`), kills it with kill -9, and starts the next one after a seeded pause.
 */
export async function crashAndRestart(runs: ConsumerRuns, log: string, random: SeededRandom, context: string, maxDelayMs = 1_500): Promise<void> {
  const current = runs.current;
  if (current === undefined) throw new Error('no consumer is running');
  await waitForWorkBy(log, current.pid, 30_000, () => `${context}\n${runs.stderrTail()}`);
  await sleep(random.int(0, maxDelayMs));
  await runs.kill9();
  await sleep(random.int(0, 500));
  runs.start();
}
