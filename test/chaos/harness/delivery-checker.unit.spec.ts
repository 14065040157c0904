import { assertDelivery, checkDelivery, comparePosition, type PutPosition } from './delivery-checker';
import { type HandledRecord } from './handled-log';
import { seededRandom } from './seeded-random';

const put = (entries: Array<[number, string, string, number?]>): Map<number, PutPosition> =>
  new Map(entries.map(([id, shard, seq, sub]) => [id, { shard, seq, sub: sub ?? 0 }]));

const rec = (id: number, shard: string, seq: string, pid: number, b: number, sub = 0): HandledRecord => ({ id, shard, seq, sub, pid, b });

const S0 = 'shardId-000000000000';
const S1 = 'shardId-000000000001';
const S2 = 'shardId-000000000002';

describe('checkDelivery', () => {
  const puts = put([
    [0, S0, '100'],
    [1, S0, '200'],
    [2, S0, '300'],
    [3, S1, '150'],
    [4, S1, '250'],
  ]);

  it('accepts a clean run', () => {
    const handled = [rec(0, S0, '100', 1, 0), rec(1, S0, '200', 1, 0), rec(3, S1, '150', 1, 1), rec(2, S0, '300', 1, 2), rec(4, S1, '250', 1, 3)];
    const report = checkDelivery({ puts, handled });
    expect(report.problems).toEqual([]);
    expect(report.duplicates).toBe(0);
    expect(report.maxBatchRecords).toBe(2);
    expect(() => assertDelivery(report, 'x')).not.toThrow();
  });

  it('reports lost ids', () => {
    const report = checkDelivery({ puts, handled: [rec(0, S0, '100', 1, 0), rec(3, S1, '150', 1, 1)] });
    expect(report.lost).toEqual([1, 2, 4]);
    expect(report.problems).toEqual(['3 ids lost, e.g. 1, 2, 4']);
    expect(() => assertDelivery(report, 'kill -9 (seed 7)')).toThrow(/kill -9 \(seed 7\): delivery guarantees broken:\n {2}3 ids lost/);
  });

  it('reports a record handled where it was not put, and one never put', () => {
    const handled = [rec(0, S0, '100', 1, 0), rec(1, S1, '140', 1, 0), rec(2, S0, '300', 1, 0, 1), rec(3, S1, '150', 1, 1), rec(4, S1, '250', 1, 1), rec(9, S1, '999', 1, 1)];
    const report = checkDelivery({ puts, handled });
    expect(report.problems).toEqual([
      `id 1 was handled at ${S1} 140/0 but put at ${S0} 200/0`,
      `id 2 was handled at ${S0} 300/1 but put at ${S0} 300/0`,
      `id 9 was handled (pid 1, ${S1}) but never put`,
    ]);
  });

  it('reports records of a shard out of order within one process, compared as integers', () => {
    const big = put([
      [0, S0, '99'],
      [1, S0, '100'],
    ]);
    expect(checkDelivery({ puts: big, handled: [rec(0, S0, '99', 1, 0), rec(1, S0, '100', 1, 0)] }).problems).toEqual([]);
    const report = checkDelivery({ puts: big, handled: [rec(1, S0, '100', 1, 0), rec(0, S0, '99', 1, 1)] });
    expect(report.problems).toEqual([`pid 1 handled ${S0} 99/0 (id 0) after 100/0 (id 1)`]);
  });

  it('allows a restarted process to go back to its checkpoint, but not one process to handle a record twice', () => {
    const restarted = [rec(0, S0, '100', 1, 0), rec(1, S0, '200', 1, 1), rec(1, S0, '200', 2, 0), rec(2, S0, '300', 2, 0), rec(3, S1, '150', 2, 1), rec(4, S1, '250', 2, 1)];
    expect(checkDelivery({ puts, handled: restarted }).problems).toEqual([]);
    const twice = [rec(0, S0, '100', 1, 0), rec(1, S0, '200', 1, 1), rec(1, S0, '200', 1, 2), rec(2, S0, '300', 1, 2), rec(3, S1, '150', 1, 3), rec(4, S1, '250', 1, 3)];
    expect(checkDelivery({ puts, handled: twice }).problems).toEqual([`pid 1 handled id 1 (${S0}) twice`]);
  });

  it('compares sub-sequence numbers inside one aggregate', () => {
    expect(comparePosition({ seq: '5', sub: 2 }, { seq: '5', sub: 1 })).toBeGreaterThan(0);
    expect(comparePosition({ seq: '5', sub: 9 }, { seq: '6', sub: 0 })).toBeLessThan(0);
    expect(comparePosition({ seq: '123456789012345678901234567890', sub: 0 }, { seq: '99', sub: 0 })).toBeGreaterThan(0);
    const agg = put([
      [0, S0, '5', 0],
      [1, S0, '5', 1],
      [2, S0, '5', 2],
    ]);
    const report = checkDelivery({ puts: agg, handled: [rec(0, S0, '5', 1, 0, 0), rec(2, S0, '5', 1, 0, 2), rec(1, S0, '5', 1, 0, 1)] });
    expect(report.problems).toEqual([`pid 1 handled ${S0} 5/1 (id 1) after 5/2 (id 2)`]);
  });

  it('reports a child handled before the last record of its parent', () => {
    const lineage = put([
      [0, S0, '100'],
      [1, S0, '200'],
      [2, S2, '300'],
    ]);
    const parents = new Map([[S2, [S0, S1]]]);
    const good = [rec(0, S0, '100', 1, 0), rec(1, S0, '200', 1, 0), rec(2, S2, '300', 1, 1)];
    expect(checkDelivery({ puts: lineage, handled: good, parents }).problems).toEqual([]);
    const bad = [rec(0, S0, '100', 1, 0), rec(2, S2, '300', 1, 1), rec(1, S0, '200', 1, 2)];
    expect(checkDelivery({ puts: lineage, handled: bad, parents }).problems).toEqual([
      `child ${S2} was handled (log line 2) before the last record of its parent ${S0} (log line 3)`,
    ]);
  });

  it('charges re-deliveries to the crashed process: at most one batch per shard per crash', () => {
    // pid 1 handles ids 0-1 (batch 0) and 2 (batch 1) on S0, crashes; pid 2 handles 2 again: one record, fine.
    const handled = [rec(0, S0, '100', 1, 0), rec(1, S0, '200', 1, 0), rec(2, S0, '300', 1, 1), rec(2, S0, '300', 2, 0), rec(3, S1, '150', 2, 0), rec(4, S1, '250', 2, 0)];
    const ok = checkDelivery({ puts, handled, endings: new Map([[1, 'killed'], [2, 'stopped']]) });
    expect(ok.problems).toEqual([]);
    expect(ok.duplicates).toBe(1);
    expect(ok.redeliveries).toEqual([{ shard: S0, crashedPid: 1, records: 1 }]);
    // pid 2 restarts from the very beginning: three records again, more than one batch of two.
    const tooMany = [rec(0, S0, '100', 1, 0), rec(1, S0, '200', 1, 0), rec(2, S0, '300', 1, 1), rec(0, S0, '100', 2, 0), rec(1, S0, '200', 2, 0), rec(2, S0, '300', 2, 1), rec(3, S1, '150', 2, 2), rec(4, S1, '250', 2, 2)];
    expect(checkDelivery({ puts, handled: tooMany }).problems).toEqual([`3 records of ${S0} were handled again after pid 1 was killed: more than one batch (2)`]);
    // a graceful stop must leave nothing to handle again
    expect(checkDelivery({ puts, handled, endings: new Map([[1, 'stopped']]) }).problems).toEqual([
      `1 records of ${S0} were handled again after pid 1 stopped gracefully (it should have checkpointed them)`,
    ]);
  });

  it('charges a record handled three times to each crash in turn', () => {
    const handled = [rec(0, S0, '100', 1, 0), rec(0, S0, '100', 2, 0), rec(0, S0, '100', 3, 0), rec(1, S0, '200', 3, 0), rec(2, S0, '300', 3, 0), rec(3, S1, '150', 3, 1), rec(4, S1, '250', 3, 1)];
    const report = checkDelivery({ puts, handled, maxBatchRecords: 1 });
    expect(report.duplicates).toBe(2);
    expect(report.redeliveries).toEqual([
      { shard: S0, crashedPid: 1, records: 1 },
      { shard: S0, crashedPid: 2, records: 1 },
    ]);
    expect(report.problems).toEqual([]);
  });

  it('caps the lines per kind of problem', () => {
    const many = put(Array.from({ length: 20 }, (_, i): [number, string, string] => [i, S0, String(1000 - i)]));
    const handled = Array.from({ length: 20 }, (_, i) => rec(i, S0, String(1000 - i), 1, i));
    const report = checkDelivery({ puts: many, handled });
    expect(report.problems).toHaveLength(6);
    expect(report.problems[5]).toBe('… and 14 more order problems');
  });
});

describe('seededRandom', () => {
  it('repeats its sequence for a seed and stays in range', () => {
    const a = seededRandom(42);
    const b = seededRandom(42);
    const xs = Array.from({ length: 100 }, () => a.next());
    expect(Array.from({ length: 100 }, () => b.next())).toEqual(xs);
    expect(xs.every((x) => x >= 0 && x < 1)).toBe(true);
    const r = seededRandom(7);
    const ints = Array.from({ length: 200 }, () => r.int(3, 5));
    expect(new Set(ints)).toEqual(new Set([3, 4, 5]));
    expect(seededRandom(1).next()).not.toBe(seededRandom(2).next());
  });
});
