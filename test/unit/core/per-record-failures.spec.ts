import 'reflect-metadata';
import { Consumer, OnDeadLetter, OnRecords } from '../../../src/decorators';
import { type BatchItemFailures } from '../../../src/core/batch-item-failures';
import { type ErrorPolicyOptions } from '../../../src/core/consumer-options';
import { NonRetryableError, RecordDecodeError, ShardStoppedError } from '../../../src/core/errors';
import { type KinesisRecord } from '../../../src/core/kinesis-record';
import { type FailedBatch } from '../../../src/core/record-batch';
import { createTestApp, type TestApp } from '../../../src/testing';

const SHARD = 'shardId-000000000000';
const seqs = (list: readonly { sequenceNumber: string }[]): string[] => list.map((r) => r.sequenceNumber);

interface Probe {
  calls: string[][];
  deadLetters: FailedBatch[];
}

/** Handles JSON records `{ id }`; ids listed in `throwOn` make the whole call throw. */
function jsonConsumer(errors: ErrorPolicyOptions, probe: Probe, throwOn: ReadonlySet<number> = new Set(), nonRetryable = false) {
  @Consumer({ streamName: 'records-stream', applicationName: 'per-record-app', errors: { initialBackoffMs: 0, ...errors } })
  class JsonHandler {
    @OnRecords({ decode: 'json' })
    handle(items: Array<{ id: number }>, batch: { records: readonly KinesisRecord[] }): void {
      probe.calls.push(seqs(batch.records));
      expect(items.map((i) => String(i.id))).toEqual(seqs(batch.records)); // items and records stay aligned
      const bad = items.find((i) => throwOn.has(i.id));
      if (bad !== undefined) throw nonRetryable ? new NonRetryableError(`record ${bad.id} is invalid`) : new Error(`cannot handle ${bad.id}`);
    }
    @OnDeadLetter()
    dead(batch: FailedBatch): void {
      probe.deadLetters.push(batch);
    }
  }
  return JsonHandler;
}

const record = (id: number) => ({ data: { id }, sequenceNumber: String(id) });
const notJson = (id: number) => ({ data: `{"id":${id}, oops`, sequenceNumber: String(id) });
const newProbe = (): Probe => ({ calls: [], deadLetters: [] });

describe('one bad record does not poison its batch (issue 11, defect 3)', () => {
  let t: TestApp | undefined;
  afterEach(async () => {
    await t?.stop();
    t = undefined;
  });

  describe('a record that cannot be decoded, in the middle of a batch, is not retried', () => {
    const batch = [record(1), record(2), notJson(3), record(4)];

    it("'stop': the records before it are handled and checkpointed, the shard stops at it", async () => {
      const probe = newProbe();
      t = await createTestApp(jsonConsumer({ maxRetries: 3, onFailure: 'stop' }, probe));
      expect((await t.push(SHARD, batch)).status).toBe('failed');
      expect(probe.calls).toEqual([['1', '2']]);
      expect(seqs(t.checkpoints(SHARD))).toEqual(['2']);
      expect(t.errors[0]?.cause).toBeInstanceOf(RecordDecodeError);
      expect(t.errors[0]).toMatchObject({ sequenceNumbers: ['3', '4'] });
      await expect(t.app.done).rejects.toThrow(/^shard shardId-000000000000 stopped \(checkpoint stays at 2\): JsonHandler\.handle failed on 2 records .*\(it cannot be decoded; not retried\): record 3 of shardId-000000000000 is not JSON/);
      expect(t.logs.join('\n')).toMatch(/Stopping the shard \(checkpoint stays at 2: the records after it are read again after a restart\)/);
    });

    it("'skip': the other records are handled in one call, the bad one is skipped", async () => {
      const probe = newProbe();
      t = await createTestApp(jsonConsumer({ maxRetries: 3, onFailure: 'skip' }, probe));
      expect((await t.push(SHARD, batch)).status).toBe('ok');
      expect(probe.calls).toEqual([['1', '2', '4']]);
      expect(seqs(t.checkpoints(SHARD))).toEqual(['4']);
      expect(t.logs.join('\n')).toMatch(/ERROR .* Skipping 1 records that cannot be decoded \(not retried\): record 3 of shardId-000000000000 is not JSON/);
    });

    it("'dead-letter': the bad record alone goes to @OnDeadLetter, the others are handled", async () => {
      const probe = newProbe();
      t = await createTestApp(jsonConsumer({ maxRetries: 3, onFailure: 'dead-letter' }, probe));
      expect((await t.push(SHARD, batch)).status).toBe('ok');
      expect(probe.calls).toEqual([['1', '2', '4']]);
      expect(probe.deadLetters).toHaveLength(1);
      expect(seqs(probe.deadLetters[0]!.records)).toEqual(['3']);
      expect(probe.deadLetters[0]!.error).toBeInstanceOf(RecordDecodeError);
      expect(probe.deadLetters[0]!.attempts).toBe(0);
      expect(seqs(t.checkpoints(SHARD))).toEqual(['4']);
    });
  });

  it('a NonRetryableError is not retried', async () => {
    const probe = newProbe();
    t = await createTestApp(jsonConsumer({ maxRetries: 5, initialBackoffMs: 10_000 }, probe, new Set([2]), true));
    const started = Date.now();
    expect((await t.push(SHARD, [record(1), record(2)])).status).toBe('failed');
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(probe.calls).toEqual([['1', '2']]);
    await expect(t.app.done).rejects.toThrow(/after 1 attempts: record 2 is invalid/);
  });

  it("a NonRetryableError under 'skip' bisects at once: only the invalid record is skipped", async () => {
    const probe = newProbe();
    t = await createTestApp(jsonConsumer({ maxRetries: 5, initialBackoffMs: 10_000, onFailure: 'skip' }, probe, new Set([3]), true));
    expect((await t.push(SHARD, [record(1), record(2), record(3), record(4)])).status).toBe('ok');
    expect(probe.calls).toEqual([['1', '2', '3', '4'], ['1', '2'], ['3', '4'], ['3'], ['4']]);
    expect(seqs(t.checkpoints(SHARD))).toEqual(['4']);
  });

  describe('batch item failures', () => {
    function reporting(errors: ErrorPolicyOptions, probe: Probe, failing: (seqs: string[], call: number) => string[]) {
      @Consumer({ streamName: 'records-stream', applicationName: 'item-failures', errors: { initialBackoffMs: 0, ...errors } })
      class Reporting {
        @OnRecords()
        handle(records: readonly KinesisRecord[]): BatchItemFailures {
          probe.calls.push(seqs(records));
          return { failedSequenceNumbers: failing(seqs(records), probe.calls.length) };
        }
        @OnDeadLetter()
        dead(batch: FailedBatch): void {
          probe.deadLetters.push(batch);
        }
      }
      return Reporting;
    }
    const batch = [1, 2, 3, 4, 5].map(record);

    it('the retry re-delivers the batch from the first failed record on', async () => {
      const probe = newProbe();
      t = await createTestApp(reporting({ maxRetries: 3 }, probe, (s, call) => (call === 1 ? ['3', '5'] : [])));
      expect((await t.push(SHARD, batch)).status).toBe('ok');
      expect(probe.calls).toEqual([['1', '2', '3', '4', '5'], ['3', '4', '5']]);
      expect(seqs(t.checkpoints(SHARD))).toEqual(['5']);
    });

    it("under 'stop' the checkpoint stays before the first failed record", async () => {
      const probe = newProbe();
      t = await createTestApp(reporting({ maxRetries: 2 }, probe, (s) => s.filter((x) => x === '3')));
      expect((await t.push(SHARD, batch)).status).toBe('failed');
      expect(probe.calls).toEqual([['1', '2', '3', '4', '5'], ['3', '4', '5'], ['3', '4', '5']]);
      expect(seqs(t.checkpoints(SHARD))).toEqual(['2']);
      await expect(t.app.done).rejects.toBeInstanceOf(ShardStoppedError);
      await expect(t.app.done).rejects.toThrow(/checkpoint stays at 2/);
    });

    it('a report naming records not in the batch fails the whole batch instead of counting as success (review finding)', async () => {
      const probe = newProbe();
      t = await createTestApp(reporting({ maxRetries: 1 }, probe, () => ['nope']));
      expect((await t.push(SHARD, batch)).status).toBe('failed');
      expect(probe.calls).toEqual([['1', '2', '3', '4', '5'], ['1', '2', '3', '4', '5']]);
      expect(t.checkpoints(SHARD)).toEqual([]);
      expect(t.logs.some((l) => l.includes('reported as failed 1 sequence numbers that are not in its batch (nope): the whole batch counts as failed'))).toBe(true);
      await expect(t.app.done).rejects.toBeInstanceOf(ShardStoppedError);
    });

    it('a malformed failedSequenceNumbers (indexes instead of sequence numbers) fails the whole batch', async () => {
      const probe = newProbe();
      @Consumer({ streamName: 'records-stream', applicationName: 'malformed-items', errors: { initialBackoffMs: 0, maxRetries: 0 } })
      class Malformed {
        @OnRecords()
        handle(records: readonly KinesisRecord[]): unknown {
          probe.calls.push(seqs(records));
          return { failedSequenceNumbers: [3] };
        }
      }
      t = await createTestApp(Malformed);
      expect((await t.push(SHARD, batch)).status).toBe('failed');
      expect(t.checkpoints(SHARD)).toEqual([]);
      await expect(t.app.done).rejects.toThrow(/failedSequenceNumbers that is not a list of sequence-number strings/);
    });

    it("under 'dead-letter' only the records still reported failed are dead-lettered", async () => {
      const probe = newProbe();
      t = await createTestApp(reporting({ maxRetries: 1, onFailure: 'dead-letter' }, probe, (s) => s.filter((x) => x === '3' || x === '5')));
      expect((await t.push(SHARD, batch)).status).toBe('ok');
      expect(probe.calls).toEqual([['1', '2', '3', '4', '5'], ['3', '4', '5']]);
      expect(probe.deadLetters.map((d) => seqs(d.records))).toEqual([['3', '5']]);
      expect(seqs(t.checkpoints(SHARD))).toEqual(['5']);
    });
  });

  describe('bisecting a batch whose handler throws', () => {
    const hundred = Array.from({ length: 100 }, (_, i) => record(i + 1));

    it("'skip' isolates 1 bad record in 100 with at most 2·log2(100) extra calls (+ its own retries); every other record is handled", async () => {
      const probe = newProbe();
      t = await createTestApp(jsonConsumer({ maxRetries: 2, onFailure: 'skip' }, probe, new Set([37])));
      expect((await t.push(SHARD, hundred)).status).toBe('ok');
      const bisectCalls = probe.calls.length - 3; // 3 attempts on the whole batch
      expect(bisectCalls).toBeGreaterThan(0);
      expect(bisectCalls).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(100)) + 2); // + the bad record's own 2 retries, alone
      const handledOk = new Set(probe.calls.filter((c) => !c.includes('37')).flat());
      expect([...handledOk].sort((a, b) => Number(a) - Number(b))).toEqual(seqs(hundred).filter((s) => s !== '37'));
      expect(t.errors).toHaveLength(1);
      expect(t.errors[0]).toMatchObject({ sequenceNumbers: ['37'] });
      expect(seqs(t.checkpoints(SHARD))).toEqual(['100']);
    });

    it('a good record that fails once during bisection gets its retries alone and is handled, not skipped (review finding)', async () => {
      const probe = newProbe();
      let flaky = 1; // record 7 fails the first time it is called alone
      @Consumer({ streamName: 'records-stream', applicationName: 'flaky-bisect', errors: { initialBackoffMs: 0, maxRetries: 1, onFailure: 'skip' } })
      class Flaky {
        @OnRecords({ decode: 'json' })
        handle(items: Array<{ id: number }>, batch: { records: readonly KinesisRecord[] }): void {
          probe.calls.push(seqs(batch.records));
          if (items.some((i) => i.id === 3)) throw new Error('record 3 is bad');
          if (items.length === 1 && items[0]!.id === 7 && flaky-- > 0) throw new Error('a passing network error');
        }
      }
      t = await createTestApp(Flaky);
      expect((await t.push(SHARD, [3, 7].map(record))).status).toBe('ok');
      expect(t.errors.map((e) => (e as unknown as { sequenceNumbers: string[] }).sequenceNumbers)).toEqual([['3']]);
      expect(probe.calls.filter((c) => c.length === 1 && c[0] === '7')).toHaveLength(2); // failed once, handled on its retry
    });

    it("'dead-letter' gets exactly the bad records, one call each", async () => {
      const probe = newProbe();
      t = await createTestApp(jsonConsumer({ maxRetries: 0, onFailure: 'dead-letter' }, probe, new Set([5, 80])));
      expect((await t.push(SHARD, hundred)).status).toBe('ok');
      expect(probe.deadLetters.map((d) => seqs(d.records))).toEqual([['5'], ['80']]);
      expect(probe.deadLetters.map((d) => d.error.message)).toEqual(['cannot handle 5', 'cannot handle 80']);
      const handledOk = new Set(probe.calls.filter((c) => !c.includes('5') && !c.includes('80')).flat());
      expect(handledOk.size).toBe(98);
    });
  });
});
