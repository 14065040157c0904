import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery } from './harness/delivery-checker';
import { runTwoDaemonKill } from './kcl-two-daemons.scenario';

jest.setTimeout(240_000);

/**
 * Takeover bound for the fast profile (failover 5 s, worker dead after 2 x 3 s of silent metrics, assignment every
 * 3 s): measured 0 s locally (see docs/benchmarks.md, "KCL takeover"); the bound leaves room for a loaded machine.
 */
const TAKEOVER_BOUND_MS = 40_000;

/**
 * Two KCL 3 MultiLangDaemon workers of one application with `kcl properties --takeover fast`; the one that is not
 * the leader is killed with kill -9 (its shardline children too): the survivor takes every shard it held, within
 * the bound, and no record put is lost (each handled at least once; at most one batch repeated per moved shard).
 */
describe('chaos: two KCL daemons, the non-leader killed with kill -9 (kinesis-local, moto, fast takeover)', () => {
  it('the survivor takes every shard within the bound and nothing is lost', async () => {
    requireBuiltCli();
    const startedAt = Date.now();
    const result = await runTwoDaemonKill({
      profile: 'fast',
      balanceTimeoutMs: 120_000,
      takeoverTimeoutMs: TAKEOVER_BOUND_MS,
      progress: (line) => process.stderr.write(`[chaos] two KCL daemons: ${line}\n`),
    });
    const { report } = result;
    process.stderr.write(
      `[chaos] two KCL daemons: killed ${result.killed} (${result.movedShards.length} shards), survivor took them in ${result.allMovedMs} ms; ` +
        `put ${report.put}, handled ${report.handled}, duplicates ${report.duplicates}, lost ${report.lost.length}, ${((Date.now() - startedAt) / 1000).toFixed(1)} s\n`,
    );
    expect(result.movedShards.length).toBeGreaterThan(0);
    expect(result.allMovedMs).toBeLessThan(TAKEOVER_BOUND_MS);
    expect(report.lost).toEqual([]);
    assertDelivery(report, `two KCL daemons (files in ${result.dir})`);
  });
});
