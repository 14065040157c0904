/**
 * The lease-protocol simulation at full size (default 100 workers × 2,000 shards), deterministic: cold start,
 * kill, graceful stop, join, GC pause, partition, and a run under throttling and lost responses. Writes the figures
 * into docs/benchmarks.md ("Leases"). Run: node -r ./dist/cli/register.js bench/leases/run.ts [--workers N] [--shards N]
 */
import { cpus } from 'node:os';
import { LeaseSimulation, writeRatePer1000Shards, type LeaseSimulationOptions } from '../../src/leases/simulation/lease-simulation';
import { writeBenchmarkSection } from '../write-results';

const arg = (name: string, fallback: number): number => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : fallback;
};
const WORKERS = arg('workers', 100);
const SHARDS = arg('shards', 2000);
const FAILOVER = 10_000;
const TAKER = 5_000;

interface Row {
  readonly scenario: string;
  readonly figure: string;
  readonly doubleMs: number;
}

async function coldStart(extra: Partial<LeaseSimulationOptions> = {}): Promise<{ sim: LeaseSimulation; at: number | undefined }> {
  const sim = new LeaseSimulation({ shards: SHARDS, seed: 42, ...extra });
  for (let i = 0; i < WORKERS; i++) sim.addWorker(Math.floor((i * 997) % 1000)); // all start within one second
  const at = await sim.runUntil(() => sim.isBalanced(), 40 * TAKER, 250);
  return { sim, at };
}

const intervals = (ms: number | undefined): string => (ms === undefined ? 'not converged' : `${(ms / 1000).toFixed(1)} s (${(ms / TAKER).toFixed(1)} taker intervals)`);

async function main(): Promise<void> {
  const rows: Row[] = [];
  const t0 = Date.now();

  const cold = await coldStart();
  rows.push({ scenario: `cold start, ${WORKERS} workers within 1 s`, figure: `fair share ± 1 after ${intervals(cold.at)}`, doubleMs: cold.sim.maxDoubleOwnershipMs() });
  const before = cold.sim.stats();
  const w0 = cold.sim.now;
  await cold.sim.runFor(60_000);
  const after = cold.sim.stats();
  const writes = writeRatePer1000Shards(before, after, cold.sim.now - w0, SHARDS);
  const scannedPerS = (after.itemsScanned - before.itemsScanned) / ((cold.sim.now - w0) / 1000);
  rows.push({ scenario: 'steady state, 60 s', figure: `${writes.toFixed(0)} writes/s per 1,000 shards; ${Math.round(scannedPerS).toLocaleString('en-US')} items scanned/s (whole fleet)`, doubleMs: cold.sim.maxDoubleOwnershipMs() });

  const victim = cold.sim.liveWorkerIds()[Math.floor(WORKERS * 0.07)] as string;
  const killedAt = cold.sim.now;
  cold.sim.kill(victim);
  const gone = await cold.sim.runUntil(() => cold.sim.ownsNothing(victim), 60_000, 50);
  rows.push({ scenario: 'kill -9 one worker', figure: `its leases taken after ${gone === undefined ? 'never' : `${((gone - killedAt) / 1000).toFixed(1)} s`} (bound: failover + taker = ${(FAILOVER + TAKER) / 1000} s)`, doubleMs: cold.sim.maxDoubleOwnershipMs() });

  const leaving = cold.sim.liveWorkerIds()[Math.floor(WORKERS * 0.11)] as string;
  const leavingLeases = cold.sim.table.leases().filter((l) => l.leaseOwner === leaving).map((l) => l.leaseKey);
  const stopAt = cold.sim.now;
  cold.sim.stop(leaving);
  const handed = await cold.sim.runUntil(() => leavingLeases.every((k) => { const o = cold.sim.table.lease(k)?.leaseOwner; return o !== undefined && o !== leaving; }), 60_000, 50);
  rows.push({ scenario: 'graceful stop of one worker', figure: `its leases released and taken after ${handed === undefined ? 'never' : `${((handed - stopAt) / 1000).toFixed(1)} s`}`, doubleMs: cold.sim.maxDoubleOwnershipMs() });
  const rebalanced = await cold.sim.runUntil(() => cold.sim.isBalanced(), 60 * TAKER, 250);
  rows.push({ scenario: 'after kill + stop', figure: `fair share ± 1 again after ${intervals(rebalanced === undefined ? undefined : rebalanced - stopAt)}`, doubleMs: cold.sim.maxDoubleOwnershipMs() });

  const joinAt = cold.sim.now;
  cold.sim.addWorker();
  cold.sim.addWorker();
  const joined = await cold.sim.runUntil(() => cold.sim.isBalanced(), 60 * TAKER, 250);
  rows.push({ scenario: 'two workers join', figure: `fair share ± 1 after ${intervals(joined === undefined ? undefined : joined - joinAt)} (one steal per worker per interval)`, doubleMs: cold.sim.maxDoubleOwnershipMs() });

  const paused = cold.sim.liveWorkerIds()[Math.floor(WORKERS * 0.2)] as string;
  cold.sim.pause(paused, 3 * FAILOVER);
  const cut = cold.sim.liveWorkerIds()[Math.floor(WORKERS * 0.3)] as string;
  cold.sim.partition(cut, 3 * FAILOVER);
  const pauseAt = cold.sim.now;
  await cold.sim.runFor(3 * FAILOVER);
  const healed = await cold.sim.runUntil(() => cold.sim.isBalanced(), 60 * TAKER, 250);
  rows.push({ scenario: '30 s GC pause of one worker + 30 s partition of another', figure: `fair share ± 1 after ${intervals(healed === undefined ? undefined : healed - pauseAt)} from the start of the fault`, doubleMs: cold.sim.maxDoubleOwnershipMs() });

  const faulty = await coldStart({
    latencyMs: { min: 5, max: 200 },
    checkpointEveryMs: 1_000,
    failures: [
      { probability: 0.1, failure: 'throttled', operations: ['renew', 'take', 'checkpoint', 'scan'] },
      { probability: 0.02, failure: 'lost-response', operations: ['renew', 'checkpoint'] },
    ],
  });
  await faulty.sim.runFor(60_000);
  rows.push({ scenario: 'cold start under 10% throttling, 2% lost responses, 5–200 ms latency, checkpoints every 1 s', figure: `fair share ± 1 after ${intervals(faulty.at)}; balanced 60 s later: ${faulty.sim.isBalanced()}`, doubleMs: faulty.sim.maxDoubleOwnershipMs() });

  const elapsed = (Date.now() - t0) / 1000;
  const table = rows.map((r) => `| ${r.scenario} | ${r.figure} | ${r.doubleMs} ms |`).join('\n');
  const markdown = `## Leases (bench/leases): simulation of the lease protocol, ${WORKERS} workers × ${SHARDS.toLocaleString('en-US')} shards

Deterministic (fake clock, seed 42, in-memory table with the KCL's conditional writes, 5–30 ms latency unless said), default timing: failover 10 s, renewal 3.308 s, taker 5 s, safety margin 1 s. "Double ownership" is the longest time two workers were both allowed to read one shard (from \`onLeaseAcquired\` to the first of \`onLeaseLost\`, the holder's local deadline, shutdown or death), over the whole run so far. Convergence is measured from the event; "fair share ± 1" means every unfinished lease is owned by a live worker and each owns within 1 of leases ÷ workers. Writes count every write request (renewals, takes, releases; conditional failures included; no checkpoints in the steady-state figure).

| scenario | result | double ownership |
|---|---|---:|
${table}

Machine: ${cpus().length} CPUs, Node ${process.version}, ${new Date().toISOString().slice(0, 10)}; ${elapsed.toFixed(0)} s of real time.
Command: \`node -r ./dist/cli/register.js bench/leases/run.ts\` (after \`npm run build\`; \`--workers N --shards N\` for other sizes).`;
  writeBenchmarkSection('leases', markdown);
  process.stderr.write(`${markdown}\n`);
}

main().catch((error: unknown) => {
  process.stderr.write(`bench/leases failed: ${(error as Error).stack ?? String(error)}\n`);
  process.exitCode = 1;
});
