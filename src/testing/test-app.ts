import { type DependencyContainer } from 'tsyringe';
import { InMemoryRecordSource, type RecordInput } from '../adapters/memory/in-memory-record-source';
import { type CheckpointPosition } from '../core/checkpoint-position';
import { type ConsumerClass } from '../core/consumer-explorer';
import { type ShardlineError, SourceError } from '../core/errors';
import { createLogger } from '../core/logger';
import { type LogLevel } from '../core/log-options';
import { sleep } from '../core/sleep';
import { type Provider } from '../core/provider';
import { type EventOutcome } from '../core/shard-event';
import { type SecretProvider } from '../core/secret-provider';
import { ShardlineApp } from '../core/shardline-app';

/** Options of {@link createTestApp}. */
export interface TestAppOptions {
  /** Replace or add services in the consumer's container: `[{ provide: Redis, useValue: fakeRedis }]`. */
  readonly providers?: readonly Provider[];
  /** Resolves `kms:` secrets in tests, e.g. a provider over a mocked KMSClient. */
  readonly secretProvider?: SecretProvider;
  /** Lowest level captured in `logs`. Default `debug`. */
  readonly logLevel?: LogLevel;
  /** Also print log lines to stderr. Default false. */
  readonly printLogs?: boolean;
  /** Parent container. Default: tsyringe's global container. */
  readonly container?: DependencyContainer;
}

/** A consumer running on an in-memory source, for unit tests. Every method resolves when the consumer is done. */
export interface TestApp {
  readonly app: ShardlineApp;
  readonly source: InMemoryRecordSource;
  /** Every log line, formatted as in production (`INFO [2017-03-05 03:35:23 UTC] shardId-… message`). */
  readonly logs: readonly string[];
  /** Every error reported by handlers, checkpoints and the source. */
  readonly errors: readonly ShardlineError[];
  /** Leases a shard (runs `@OnInit`). `push` opens shards by itself; call this to start from a checkpoint. */
  openShard(shardId: string, lastCheckpoint?: CheckpointPosition): Promise<EventOutcome>;
  /** Pushes a batch into a shard and waits until the handler (with its retries) and the checkpoint are done. */
  push(shardId: string, records: readonly (RecordInput | string | object)[]): Promise<EventOutcome>;
  endShard(shardId: string): Promise<EventOutcome>;
  loseLease(shardId: string): Promise<EventOutcome>;
  requestShutdown(shardId: string): Promise<EventOutcome>;
  /** Positions stored for a shard, oldest first. */
  checkpoints(shardId: string): readonly CheckpointPosition[];
  /** Stops the app gracefully (runs `@OnShutdown('stopped')`, checkpoints what was processed). */
  stop(): Promise<void>;
  /**
   * Lets `ms` of time pass: with jest fake timers it advances them (running `@Every` methods, retry backoffs and
   * interval checkpoints that fall due, and awaiting their promises); with real timers it waits.
   */
  advanceTime(ms: number): Promise<void>;
}

interface FakeClock {
  tickAsync(ms: number): Promise<unknown>;
}

/**
 * Advances fake timers when they are installed (jest's modern fake timers expose their clock on `setTimeout`),
 * otherwise waits on a real timer.
 */
async function advanceTime(ms: number): Promise<void> {
  const clock = (setTimeout as unknown as { clock?: FakeClock }).clock;
  if (clock !== undefined && typeof clock.tickAsync === 'function') {
    await clock.tickAsync(ms);
    return;
  }
  await sleep(ms);
}

const RECORD_INPUT_KEYS = new Set(['data', 'partitionKey', 'sequenceNumber', 'subSequenceNumber', 'approximateArrivalTimestamp']);

/**
 * A string, a Buffer or a plain payload object becomes a record's data; an object is taken as a {@link RecordInput}
 * only when it has `data` and nothing but RecordInput's keys (so a payload such as `{ data: 1, id: 2 }` is sent whole).
 */
function toInput(item: RecordInput | string | object): RecordInput {
  if (typeof item === 'string' || Buffer.isBuffer(item)) return { data: item };
  if (typeof item === 'object' && item !== null && 'data' in item && Object.keys(item).every((key) => RECORD_INPUT_KEYS.has(key))) {
    return item;
  }
  return { data: item };
}

/**
 * Runs a consumer class on an in-memory source, with any provider replaced (a mocked AWS client, a fake Redis).
 * Works with jest fake timers: `@Every` methods run when the test advances time.
 *
 * @example
 * ```ts
 * const t = await createTestApp(FlightCounter, { providers: [{ provide: REDIS, useValue: fakeRedis }] });
 * await t.push('shardId-000000000000', [{ dest: 'LAX' }, { dest: 'SFO' }]);
 * expect(fakeRedis.incr).toHaveBeenCalledWith('flight:LAX');
 * await t.stop();
 * ```
 */
export async function createTestApp(consumer: ConsumerClass, options: TestAppOptions = {}): Promise<TestApp> {
  const logs: string[] = [];
  const errors: ShardlineError[] = [];
  const source = new InMemoryRecordSource();
  const logger = createLogger(
    { level: options.logLevel ?? 'debug', destination: options.printLogs === true ? 'stderr' : 'none' },
    { sink: (line) => logs.push(line) },
  );
  const app = await ShardlineApp.start({
    consumer,
    source,
    logger,
    ...(options.providers ? { providers: options.providers } : {}),
    ...(options.secretProvider ? { secretProvider: options.secretProvider } : {}),
    ...(options.container ? { container: options.container } : {}),
  });
  app.errors$.subscribe((error) => errors.push(error));
  // After stop() (or once the app stopped by itself: a shard stopped, see ShardlineApp.done) nothing reads the source
  // any more: events fail at once instead of waiting for a reader.
  let stopped = false;
  const ifRunning = (shardId: string, send: () => Promise<EventOutcome>): Promise<EventOutcome> =>
    stopped || app.stopped ? Promise.resolve({ status: 'failed', error: new SourceError(`cannot send to ${shardId}: the test app is stopped`, { shardId }) }) : send();
  return {
    app,
    source,
    logs,
    errors,
    openShard: (shardId, lastCheckpoint) => ifRunning(shardId, () => source.openShard(shardId, lastCheckpoint)),
    push: (shardId, records) => ifRunning(shardId, () => source.push(shardId, records.map(toInput))),
    endShard: (shardId) => ifRunning(shardId, () => source.endShard(shardId)),
    loseLease: (shardId) => ifRunning(shardId, () => source.loseLease(shardId)),
    requestShutdown: (shardId) => ifRunning(shardId, () => source.requestShutdown(shardId)),
    checkpoints: (shardId) => source.checkpoints(shardId),
    advanceTime,
    stop: async () => {
      stopped = true;
      await app.stop();
      await logger.close();
    },
  };
}
