import { strict as assert } from 'node:assert';
import { type RecordSource } from '../adapters/record-source';
import { type KinesisRecord } from '../core/kinesis-record';
import { type EventOutcome } from '../core/shard-event';
import { ContractReader, type ContractEventHandler } from './contract-reader';
import { testGlobals } from './test-globals';

/**
 * One test's world for {@link describeRecordSourceContract}: a stream (or whatever the adapter reads) with its shards
 * and its checkpoint store, and a way to make sources over it. The kit asks the factory for a fresh harness per test
 * and disposes of it at the end of the test.
 */
export interface RecordSourceHarness {
  /**
   * Shards the kit may write to: at least one, at least two unless `concurrentShards` is unsupported. They exist before
   * the first source subscribes. A source may also open other shards (children after a split): the kit ignores them.
   */
  readonly shardIds: readonly string[];
  /**
   * A source over the harness's stream and checkpoint store. Called a second time in a test only after the previous
   * source's subscription ended: the second source stands for a restarted process (it must resume from the stored
   * checkpoints). Returning the same instance again is fine when that is how the adapter restarts.
   */
  createSource(): RecordSource;
  /** Appends records (UTF-8 payloads, in this order) to a shard; resolves once they are stored, ready to be read. */
  put(shardId: string, payloads: readonly string[]): Promise<void>;
  /**
   * Closes a shard (as a split or a merge does): a reader gets `shardEnded` after the records already put. Needed
   * unless the `shardEnd` capability is declared unsupported.
   */
  endShard?(shardId: string): Promise<void>;
  /**
   * Makes the source run out of input (the daemon closes stdin, the stream is exhausted): its Observable must complete.
   * Needed unless the `completion` capability is declared unsupported.
   */
  complete?(): Promise<void>;
  /** The sequence number stored as the shard's checkpoint, when the harness can read its checkpoint store. */
  storedCheckpoint?(shardId: string): Promise<string | undefined>;
  /** Releases what the harness holds (streams, clients, servers, files). */
  dispose(): Promise<void>;
}

/**
 * Parts of the contract an adapter may not have. Each one declared unsupported (with the reason) turns its tests into
 * visible skips whose title carries the reason.
 * - `concurrentShards`: one source serves several shards at once (a KCL child serves one).
 * - `restart`: records stay in the stream, so a new source resumes from the stored checkpoint and reads again what was
 *   not checkpointed (a source that is fed by the test, like the in-memory one, keeps nothing).
 * - `shardEnd`: shards can be closed (resharding), and `harness.endShard` does it.
 * - `completion`: the source can run out of input, and `harness.complete` makes it do so.
 */
export type RecordSourceCapability = 'concurrentShards' | 'restart' | 'shardEnd' | 'completion';

/** The kit's cases, by a stable id (for {@link RecordSourceContractOptions.knownViolations}). */
export type RecordSourceContractCase =
  | 'order'
  | 'openedFirst'
  | 'oneEventAtATime'
  | 'concurrentShards'
  | 'failedAckStopsShard'
  | 'resumeAfterCheckpoint'
  | 'redeliverUnacknowledged'
  | 'releaseOnUnsubscribe'
  | 'shardEnd'
  | 'completion';

/** Options of {@link describeRecordSourceContract}. */
export interface RecordSourceContractOptions {
  /** Capabilities the adapter lacks, each with the reason shown in the skipped test's title. */
  readonly unsupported?: Partial<Readonly<Record<RecordSourceCapability, string>>>;
  /**
   * True when a failed acknowledgement ends the whole Observable with an error instead of stopping only its shard
   * (a KCL child serves one shard, and exits so that the daemon gives the shard to another worker). Default false.
   */
  readonly failedAckEndsSource?: boolean;
  /**
   * Cases the adapter is known to fail, each with the reason: they run as `it.failing` (jest), so that the suite turns
   * red once the adapter is fixed and the entry must go; under a runner without `it.failing` they are skipped.
   */
  readonly knownViolations?: Partial<Readonly<Record<RecordSourceContractCase, string>>>;
  /** How long an expected event may take to arrive. Default 15,000. */
  readonly deliveryTimeoutMs?: number;
  /** How long the kit watches for events that must not come (after a failed acknowledgement). Default 1,500. */
  readonly quietMs?: number;
  /** How long the kit holds an acknowledgement in the slow-handler test. Default 200. */
  readonly slowAckMs?: number;
  /** Timeout of each test. Default 60,000. */
  readonly testTimeoutMs?: number;
}

/** What a test body gets: the harness, readers it opens (stopped at the end of the test) and the resolved options. */
interface ContractTest {
  readonly harness: RecordSourceHarness;
  /** Subscribes to `source` (default: a new one from the harness) and acknowledges events with `handler`. */
  readonly read: (handler?: ContractEventHandler, source?: RecordSource) => ContractReader;
  readonly timeoutMs: number;
  readonly quietMs: number;
  readonly slowAckMs: number;
}

const OK: EventOutcome = { status: 'ok' };

/**
 * Runs one case of the kit: a fresh harness, the body, then the contract violations the body's readers recorded. When
 * the body fails (often a wait that timed out because of a violation), the violations are added to its error's message,
 * the original error kept as `cause`, so the user sees why the records never came. Exported for the kit's own tests.
 * @internal
 */
export async function runContractCase(
  factory: () => RecordSourceHarness | Promise<RecordSourceHarness>,
  settings: Pick<ContractTest, 'timeoutMs' | 'quietMs' | 'slowAckMs'>,
  body: (t: ContractTest) => Promise<void>,
): Promise<void> {
  const harness = await factory();
  const readers: ContractReader[] = [];
  const violations = (): string[] => readers.flatMap((reader) => reader.violations);
  try {
    try {
      await body({
        ...settings,
        harness,
        read: (handler, source) => {
          const reader = new ContractReader(source ?? harness.createSource(), handler);
          readers.push(reader);
          return reader;
        },
      });
    } catch (error) {
      const seen = violations();
      if (seen.length === 0) throw error;
      const message = error instanceof Error ? error.message : String(error);
      throw new Error(`${message}\nMeanwhile the source broke the RecordSource contract:\n${seen.join('\n')}`, { cause: error });
    }
    const seen = violations();
    assert.deepEqual(seen, [], `the source broke the RecordSource contract:\n${seen.join('\n')}`);
  } finally {
    for (const reader of readers) reader.stop();
    await harness.dispose();
  }
}

/** `count` payloads `${prefix}-0`, `${prefix}-1`, … */
function payloads(prefix: string, count: number, start = 0): string[] {
  return Array.from({ length: count }, (_, i) => `${prefix}-${start + i}`);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A promise with its resolver, to hold an acknowledgement until the test lets it go. */
function gate(): { readonly promise: Promise<void>; open(): void } {
  let open: () => void = () => undefined;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open: () => open() };
}

/** Ref'd timers alive in this process (the ones that keep it running). */
function liveTimers(): number {
  return process.getActiveResourcesInfo().filter((kind) => kind === 'Timeout').length;
}

function second(harness: RecordSourceHarness): string {
  const shardId = harness.shardIds[1];
  if (shardId === undefined) throw new Error('the harness gives one shard: give two, or declare concurrentShards unsupported');
  return shardId;
}

/**
 * The {@link RecordSource} contract as executable tests, for jest, vitest (`globals: true`) or mocha: call it at the top
 * level of a test file with a factory that builds a fresh {@link RecordSourceHarness} per test. The kit plays the
 * runtime's part (it subscribes and acknowledges every event itself) and checks, on every event of every test, that
 * a shard's first event is `opened`, that at most one closing event comes and nothing after it, that no event comes
 * before the previous one of its shard was acknowledged or after a failed acknowledgement, and that records never go
 * backwards. Then each test checks one promise of the contract: order, one event at a time with a slow handler,
 * concurrency of shards, a failed acknowledgement stopping its shard only, checkpoint and restart semantics, release
 * on unsubscribe, shard end, completion.
 *
 * @example
 * ```ts
 * describeRecordSourceContract('my adapter', async () => {
 *   const stream = await MyStream.create({ shards: 2 });
 *   return {
 *     shardIds: stream.shardIds,
 *     createSource: () => new MyRecordSource({ stream, checkpoints: stream.checkpoints }),
 *     put: (shardId, payloads) => stream.append(shardId, payloads),
 *     dispose: () => stream.delete(),
 *   };
 * }, { unsupported: { shardEnd: 'my stream cannot be resharded' } });
 * ```
 */
export function describeRecordSourceContract(
  name: string,
  factory: () => RecordSourceHarness | Promise<RecordSourceHarness>,
  options: RecordSourceContractOptions = {},
): void {
  const { describe, it } = testGlobals('describeRecordSourceContract');
  const unsupported = options.unsupported ?? {};
  const timeoutMs = options.deliveryTimeoutMs ?? 15_000;
  const quietMs = options.quietMs ?? 1_500;
  const slowAckMs = options.slowAckMs ?? 200;
  const testTimeoutMs = options.testTimeoutMs ?? 60_000;

  const test = (id: RecordSourceContractCase, title: string, needs: readonly RecordSourceCapability[], body: (t: ContractTest) => Promise<void>): void => {
    const missing = needs.find((capability) => unsupported[capability] !== undefined);
    if (missing !== undefined) {
      it.skip(`${title} (skipped: ${missing} unsupported: ${unsupported[missing] ?? ''})`, () => undefined);
      return;
    }
    const known = options.knownViolations?.[id];
    if (known !== undefined && it.failing === undefined) {
      it.skip(`${title} (skipped: known violation: ${known})`, () => undefined);
      return;
    }
    const define = known === undefined ? it : (it.failing ?? it);
    define(
      known === undefined ? title : `${title} (known violation, expected to fail: ${known})`,
      () => runContractCase(factory, { timeoutMs, quietMs, slowAckMs }, body),
      testTimeoutMs,
    );
  };

  describe(`RecordSource contract: ${name}`, () => {
    test('order', "delivers each shard's records once, in the order they were put", [], async ({ harness, read, timeoutMs: wait }) => {
      const shard = harness.shardIds[0] ?? '';
      const reader = read();
      await harness.put(shard, payloads('a', 5));
      await harness.put(shard, payloads('a', 5, 5));
      await reader.waitForRecords(shard, 10, wait);
      await harness.put(shard, payloads('a', 5, 10));
      await reader.waitForRecords(shard, 15, wait);
      assert.deepEqual(reader.payloads(shard), payloads('a', 15));
    });

    test('openedFirst', 'opens a shard with its lease before any of its records', [], async ({ harness, read, timeoutMs: wait }) => {
      const reader = read();
      for (const shard of harness.shardIds) await harness.put(shard, [`${shard}-only`]);
      for (const shard of harness.shardIds) {
        await reader.waitForRecords(shard, 1, wait);
        const first = reader.events(shard)[0];
        assert.equal(first?.type, 'opened', `the first event of ${shard} is ${first?.type ?? 'missing'}`);
        const lease = reader.lease(shard);
        assert.equal(lease?.shardId, shard, `the lease of ${shard} names ${lease?.shardId ?? 'no shard'}`);
        assert.equal(typeof lease?.checkpointer.checkpoint, 'function', `the lease of ${shard} has no checkpointer`);
      }
    });

    test('oneEventAtATime', "sends a shard's next event only after the slow acknowledgement of the previous one", [], async ({ harness, read, timeoutMs: wait, slowAckMs }) => {
      const shard = harness.shardIds[0] ?? '';
      const acked: number[] = [];
      const arrived: number[] = [];
      const reader = read(async (event) => {
        if (event.shardId !== shard) return OK;
        arrived.push(Date.now());
        await delay(slowAckMs);
        acked.push(Date.now());
        return OK;
      });
      await harness.put(shard, payloads('slow', 3));
      await reader.waitForRecords(shard, 1, wait);
      // The first batch is being handled (its acknowledgement is held): the next ones must wait for it.
      await harness.put(shard, payloads('slow', 3, 3));
      await harness.put(shard, payloads('slow', 3, 6));
      await reader.waitForRecords(shard, 9, wait);
      const events = reader.events(shard).length;
      assert.ok(events >= 3, `expected opened and at least two batches, got ${events} events`);
      for (let i = 1; i < arrived.length; i++) {
        const previousAck = acked[i - 1];
        assert.ok(previousAck !== undefined && (arrived[i] ?? 0) >= previousAck, `event ${i} of ${shard} arrived before event ${i - 1} was acknowledged`);
      }
    });

    test('concurrentShards', 'reads shards concurrently: a held shard does not hold the others', ['concurrentShards'], async ({ harness, read, timeoutMs: wait }) => {
      const [held, other] = [harness.shardIds[0] ?? '', second(harness)];
      const release = gate();
      const reader = read(async (event) => {
        if (event.shardId === held && event.type === 'records') await release.promise;
        return OK;
      });
      try {
        await harness.put(held, ['held-0']);
        await reader.waitForRecords(held, 1, wait);
        await harness.put(other, ['other-0']);
        await reader.waitForRecords(other, 1, wait);
      } finally {
        release.open();
      }
    });

    test('failedAckStopsShard', 'a failed acknowledgement stops that shard only, and nothing past it is checkpointed', [], async ({ harness, read, timeoutMs: wait, quietMs: quiet }) => {
      const failing = harness.shardIds[0] ?? '';
      const other = unsupported.concurrentShards === undefined ? second(harness) : undefined;
      let failedAt = -1;
      const reader = read((event) => {
        if (event.shardId === failing && event.type === 'records' && failedAt < 0) {
          failedAt = reader.events(failing).length;
          return { status: 'failed', error: new Error('handler failed past its error policy (conformance kit)') };
        }
        return OK;
      });
      await harness.put(failing, payloads('f', 3));
      await reader.waitFor(() => failedAt >= 0, wait, `the first batch of ${failing}`);
      await harness.put(failing, payloads('f', 3, 3));
      if (other !== undefined) {
        await harness.put(other, ['still-read']);
        await reader.waitForRecords(other, 1, wait);
      }
      if (options.failedAckEndsSource === true) await reader.waitFor(() => reader.error !== undefined, wait, 'the source to end with an error after the failed acknowledgement');
      await delay(quiet);
      assert.equal(reader.events(failing).length, failedAt, `${failing} got events after its failed acknowledgement`);
      if (options.failedAckEndsSource !== true) assert.equal(reader.error, undefined, `the source failed: ${reader.error?.message ?? ''}`);
      if (harness.storedCheckpoint) assert.equal(await harness.storedCheckpoint(failing), undefined, `${failing} was checkpointed although its records failed`);
      if (unsupported.restart !== undefined) return;
      // Restarted, the shard is read again from where it was: the failed batch first.
      reader.stop();
      const again = read();
      await again.waitForRecords(failing, 6, wait);
      assert.deepEqual(again.payloads(failing), payloads('f', 6));
    });

    test('resumeAfterCheckpoint', 'a new source resumes after the checkpoint: nothing before it again, nothing after it lost', ['restart'], async ({ harness, read, timeoutMs: wait }) => {
      const shard = harness.shardIds[0] ?? '';
      let checkpointed: KinesisRecord | undefined;
      const first = read(async (event, lease) => {
        if (event.type !== 'records' || event.shardId !== shard || lease === undefined) return OK;
        const target = event.records.find((record) => record.text() === 'c-4');
        if (target !== undefined) {
          await lease.checkpointer.checkpoint(target.position);
          checkpointed = target;
        }
        return OK;
      });
      await harness.put(shard, payloads('c', 10));
      await first.waitForRecords(shard, 10, wait);
      await first.waitFor(() => checkpointed !== undefined, wait, 'the checkpoint at c-4');
      assert.ok(checkpointed !== undefined);
      if (harness.storedCheckpoint) assert.equal(await harness.storedCheckpoint(shard), checkpointed.sequenceNumber, 'the stored checkpoint is not the position given');
      first.stop();
      const resumed = read();
      await harness.put(shard, payloads('c', 2, 10));
      await resumed.waitForRecords(shard, 7, wait);
      assert.deepEqual(resumed.payloads(shard), payloads('c', 7, 5));
      assert.equal(resumed.lease(shard)?.lastCheckpoint?.sequenceNumber, checkpointed.sequenceNumber, 'the reopened lease does not carry the checkpoint');
    });

    test('redeliverUnacknowledged', 'records whose event was never acknowledged are read again by the next source', ['restart'], async ({ harness, read, timeoutMs: wait }) => {
      const shard = harness.shardIds[0] ?? '';
      const never = gate();
      const first = read(async (event) => {
        if (event.type === 'records') await never.promise;
        return OK;
      });
      await harness.put(shard, payloads('u', 4));
      await first.waitForRecords(shard, 1, wait);
      first.stop();
      const next = read();
      await next.waitForRecords(shard, 4, wait);
      assert.deepEqual(next.payloads(shard), payloads('u', 4));
    });

    test('releaseOnUnsubscribe', 'unsubscribing releases the source: no timer keeps the process alive, and a new subscription reads on', [], async ({ harness, read, timeoutMs: wait }) => {
      const shard = harness.shardIds[0] ?? '';
      const baseline = liveTimers();
      const source = harness.createSource();
      const first = read(undefined, source);
      await harness.put(shard, ['r-0']);
      await first.waitForRecords(shard, 1, wait);
      first.stop();
      const deadline = Date.now() + wait;
      while (liveTimers() > baseline && Date.now() < deadline) await delay(50);
      assert.ok(liveTimers() <= baseline, `${liveTimers() - baseline} timer(s) still alive ${wait} ms after unsubscribing`);
      const next = read(undefined, unsupported.restart === undefined ? harness.createSource() : source);
      await harness.put(shard, ['r-1']);
      await next.waitFor(() => next.payloads(shard).includes('r-1'), wait, `r-1 on ${shard} after a new subscription`);
    });

    test('shardEnd', "ends a shard after all of its records with one 'shardEnded'", ['shardEnd'], async ({ harness, read, timeoutMs: wait }) => {
      const shard = harness.shardIds[0] ?? '';
      const endShard = harness.endShard?.bind(harness);
      assert.ok(endShard, 'the harness has no endShard: give one, or declare shardEnd unsupported');
      const reader = read();
      await harness.put(shard, payloads('e', 5));
      await endShard(shard);
      await reader.waitFor(() => reader.events(shard).some((event) => event.type === 'shardEnded'), wait, `shardEnded of ${shard}`);
      assert.deepEqual(reader.payloads(shard), payloads('e', 5));
      const types = reader.events(shard).map((event) => event.type);
      assert.equal(types[types.length - 1], 'shardEnded', `events of ${shard}: ${types.join(', ')}`);
    });

    test('completion', 'completes when there is nothing more to read', ['completion'], async ({ harness, read, timeoutMs: wait }) => {
      const shard = harness.shardIds[0] ?? '';
      const complete = harness.complete?.bind(harness);
      assert.ok(complete, 'the harness has no complete: give one, or declare completion unsupported');
      const reader = read();
      await harness.put(shard, ['last']);
      await reader.waitForRecords(shard, 1, wait);
      await complete();
      await reader.waitFor(() => reader.completed, wait, 'the Observable to complete');
      assert.equal(reader.error, undefined);
    });
  });
}
