/**
 * KCL takeover: how long two KCL 3.1 MultiLangDaemon workers of one application (kinesis-local, moto lease table,
 * shardline children, ~40 records/s over 4 shards) take to move the shards of a worker killed with kill -9, with
 * `kcl properties --takeover default` and `--takeover fast`. Runs test/chaos/kcl-two-daemons.scenario.ts (the chaos
 * test's scenario) several times, the profiles interleaved, one run at a time; prints medians and ranges and writes
 * them into docs/benchmarks.md ("KCL takeover").
 *
 *   export SHARDLINE_TEST_PORT_BASE=20500   # its own loopback ports
 *   npm run build && node -r ./dist/cli/register.js bench/kcl-takeover/run.ts [--runs 3] [--profiles fast,default] [--leader-runs 0] [--no-write]
 *
 * `--leader-runs N` adds N runs (fast profile) that kill the leader instead: its lock outlives it.
 */
import { cpus, loadavg } from 'node:os';
import { type KclTakeoverProfile, KCL_TAKEOVER_PROFILES } from '../../src/kcl-daemon/kcl-takeover-profile';
import { requireBuiltCli } from '../../test/chaos/harness/consumer-process';
import { runTwoDaemonKill, type TwoDaemonKillResult } from '../../test/chaos/kcl-two-daemons.scenario';
import globalSetup from '../../test/harness/global-setup';
import globalTeardown from '../../test/harness/global-teardown';
import { writeBenchmarkSection } from '../write-results';

const argValue = (name: string, fallback: string): string => {
  const at = process.argv.indexOf(`--${name}`);
  return at >= 0 ? (process.argv[at + 1] ?? fallback) : fallback;
};
const RUNS = Number(argValue('runs', '3'));
const LEADER_RUNS = Number(argValue('leader-runs', '0'));
const PROFILES = argValue('profiles', 'fast,default').split(',') as KclTakeoverProfile[];
const WRITE = !process.argv.includes('--no-write');

interface Case {
  readonly label: string;
  readonly profile: KclTakeoverProfile;
  readonly kill: 'non-leader' | 'leader';
}

interface Outcome {
  readonly result?: TwoDaemonKillResult;
  readonly error?: string;
}

const median = (values: readonly number[]): number => {
  const sorted = [...values].sort((x, y) => x - y);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
};
const seconds = (ms: number): string => (ms / 1000).toFixed(1);
const figure = (values: readonly number[]): string =>
  values.length === 0 ? '—' : `${seconds(median(values))} s (${seconds(Math.min(...values))}–${seconds(Math.max(...values))})`;

function say(line: string): void {
  process.stderr.write(`[kcl-takeover] ${line}\n`);
}

async function main(): Promise<void> {
  for (const p of PROFILES) if (!KCL_TAKEOVER_PROFILES.includes(p)) throw new Error(`--profiles: unknown profile "${p}" (choose from ${KCL_TAKEOVER_PROFILES.join(', ')})`);
  requireBuiltCli();
  const cases: Case[] = [];
  for (let run = 0; run < RUNS; run++) for (const profile of PROFILES) cases.push({ label: `${profile}, non-leader killed`, profile, kill: 'non-leader' });
  for (let run = 0; run < LEADER_RUNS; run++) cases.push({ label: 'fast, leader killed', profile: 'fast', kill: 'leader' });
  const outcomes = new Map<string, Outcome[]>();
  const startedAt = Date.now();
  await globalSetup();
  try {
    for (const [i, c] of cases.entries()) {
      say(`run ${i + 1}/${cases.length}: ${c.label} (load average ${loadavg()[0]?.toFixed(1)})`);
      const slow = c.profile === 'default' || c.kill === 'leader';
      let outcome: Outcome;
      try {
        const result = await runTwoDaemonKill({
          profile: c.profile,
          kill: c.kill,
          balanceTimeoutMs: 240_000,
          takeoverTimeoutMs: slow ? 300_000 : 120_000,
          progress: (line) => say(`  ${line}`),
        });
        if (result.report.problems.length > 0) say(`  delivery problems: ${result.report.problems.join('; ')}`);
        outcome = { result };
      } catch (error) {
        outcome = { error: error instanceof Error ? error.message.split('\n')[0] : String(error) };
        say(`  failed: ${outcome.error}`);
      }
      outcomes.set(c.label, [...(outcomes.get(c.label) ?? []), outcome]);
    }
  } finally {
    await globalTeardown();
  }

  const header = '| case | runs | kill → leases moved | kill → first record of a moved shard | kill → every moved shard handled | start → both hold leases | lost | duplicates |';
  const rows = [...outcomes].map(([label, list]) => {
    const ok = list.flatMap((o) => (o.result !== undefined ? [o.result] : []));
    const failed = list.length - ok.length;
    return (
      `| ${label} | ${ok.length}${failed > 0 ? ` (+${failed} failed)` : ''} | ${figure(ok.map((r) => r.leasesMovedMs))} | ${figure(ok.map((r) => r.firstMovedMs))} | ` +
      `${figure(ok.map((r) => r.allMovedMs))} | ${figure(ok.map((r) => r.balanceMs))} | ${ok.map((r) => r.report.lost.length).join(', ')} | ${ok.map((r) => r.report.duplicates).join(', ')} |`
    );
  });
  const failures = [...outcomes].flatMap(([label, list]) => list.flatMap((o) => (o.error !== undefined ? [`- ${label}: ${o.error}`] : [])));
  const table = [header, '|---|---|---|---|---|---|---|---|', ...rows].join('\n');
  process.stdout.write(`${table}\n${failures.join('\n')}\n`);
  say(`done in ${((Date.now() - startedAt) / 60_000).toFixed(1)} min`);
  if (!WRITE) return;
  writeBenchmarkSection(
    'kcl-takeover',
    `## KCL takeover

Two KCL 3.1.3 MultiLangDaemon workers of one application (kinesis-local stream of 4 shards, moto lease table,
shardline children running \`test/chaos/fixtures/chaos.consumer.ts\`, about 40 records/s put all along), started
together; once both hold leases and handle records, one is killed with kill -9 together with its children. Medians
with the range in brackets, ${RUNS} run(s) per profile, one run at a time, the profiles interleaved; ${cpus().length} cores shared
with other work (load average ${loadavg()[0]?.toFixed(1)} at the end).

- *leases moved*: the lease table names the survivor as the owner of every shard the dead worker held (the KCL's own
  timers: lease expiry, dead-worker threshold, assignment interval, discovery).
- *first record* / *every moved shard handled*: the survivor's children have handled a record of one / every such
  shard. The difference from *leases moved* is the start of a child (a Node process per shard) on a loaded machine.

${table}
${failures.length > 0 ? `\nFailed runs:\n${failures.join('\n')}\n` : ''}
\`\`\`sh
export SHARDLINE_TEST_PORT_BASE=20500
npm run build && node -r ./dist/cli/register.js bench/kcl-takeover/run.ts --runs ${RUNS} --profiles ${PROFILES.join(',')}${LEADER_RUNS > 0 ? ` --leader-runs ${LEADER_RUNS}` : ''}
\`\`\`

The same scenario with the fast profile runs in CI: \`test/chaos/kcl-two-daemons.chaos.spec.ts\`. What the figures mean
for deployments: docs/scaling.md.`,
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
