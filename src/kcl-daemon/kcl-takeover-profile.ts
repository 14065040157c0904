import { type KclProperty } from './kcl-properties';

/**
 * How fast the KCL 3 daemons of one application take over the shards of a worker that died without a goodbye
 * (kill -9, a lost host): `default` writes the daemon's own defaults explicitly, `fast` shortens every timer that a
 * takeover waits on. Measured figures are in docs/scaling.md.
 */
export type KclTakeoverProfile = 'default' | 'fast';

/** The profiles `shardline kcl properties --takeover` accepts. */
export const KCL_TAKEOVER_PROFILES: readonly KclTakeoverProfile[] = ['default', 'fast'];

/** One property a profile sets, and what it costs (written as comment lines above it in the generated file). */
export interface KclTakeoverSetting {
  readonly key: string;
  readonly value: string;
  readonly note: readonly string[];
}

/*
 * Why these keys (read in amazon-kinesis-client 3.1.3, the daemon kcl/pom.xml pins): after a kill -9 only the
 * leader's LeaseAssignmentManager moves leases. It gives a lease away once the lease's counter has not moved for
 * failoverTimeMillis, but it still counts the dead worker as active (and may hand its leases straight back to it)
 * until the worker's metrics entry is older than 2 x workerMetricsReporterFreqInMillis. It runs every
 * leaseAssignmentIntervalMillis, and each worker looks for leases given to it every leaseAssignmentIntervalMillis / 2.
 * The leader's own lock (DynamoDBLockBasedLeaderDecider: 2 min lease, 30 s heartbeat) is a constant in that
 * version, not a property: no profile can shorten a leader's death.
 */
const DEFAULT_SETTINGS: readonly KclTakeoverSetting[] = [
  {
    key: 'failoverTimeMillis',
    value: '10000',
    note: [
      'Takeover profile "default" (the daemon\'s own values, written out): the shards of a worker killed without a goodbye',
      '(not the leader) are reassigned after about 30-40 s (measured; see docs/scaling.md).',
      'A lease not renewed for this long may be given to another worker; each lease is renewed every failover/3 (one write).',
    ],
  },
  {
    key: 'workerMetricsReporterFreqInMillis',
    value: '30000',
    note: ['Each worker writes its metrics entry this often; the leader counts it dead only after 2 x this (60 s).'],
  },
  {
    key: 'leaseAssignmentIntervalMillis',
    value: '20000',
    note: ['The leader assigns leases this often (one Scan of the lease and metrics tables); workers look for new leases every half of it.'],
  },
];

const FAST_SETTINGS: readonly KclTakeoverSetting[] = [
  {
    key: 'failoverTimeMillis',
    value: '5000',
    note: [
      'Takeover profile "fast": shorter timers so that the shards of a worker killed without a goodbye (kill -9, lost host)',
      'are reassigned in about 7-10 s instead of 30-40 s (measured; see docs/scaling.md). Not the leader: its lock lives',
      '2 minutes in KCL 3.1 (a constant, not a property); stop daemons with SIGTERM, whose shutdown releases it.',
      'Cost: each lease is renewed every failover/3 = 1.6 s instead of 3.3 s (twice the DynamoDB writes: about',
      '0.6 write/s per shard), and a worker that stalls 5 s (GC pause, throttled or unreachable DynamoDB) loses its leases.',
    ],
  },
  {
    key: 'workerMetricsReporterFreqInMillis',
    value: '3000',
    note: [
      'The leader counts a worker dead once its metrics entry is older than 2 x this: 6 s instead of 60 s. Until then it may',
      'hand a dead worker\'s expired leases back to it. Cost: one metrics write per worker every 3 s (instead of 30 s); a worker',
      'that cannot write for 6 s gets no new leases (it keeps those it renews).',
    ],
  },
  {
    key: 'leaseAssignmentIntervalMillis',
    value: '3000',
    note: [
      'The leader assigns leases every 3 s (default 2 x failover), and every worker queries the lease table\'s owner index for',
      'leases given to it every 1.5 s. Cost: the leader scans the lease and metrics tables every 3 s (reads grow with the',
      'number of shards) and each worker runs one index Query every 1.5 s; load rebalancing (every third assignment run)',
      'also runs more often, so shards move between live workers sooner when their throughput differs.',
    ],
  },
];

/** The properties a profile sets, in the order they are written. */
export function kclTakeoverSettings(profile: KclTakeoverProfile): readonly KclTakeoverSetting[] {
  return profile === 'fast' ? FAST_SETTINGS : DEFAULT_SETTINGS;
}

/** A profile's properties as `key = value` pairs. */
export function kclTakeoverProperties(profile: KclTakeoverProfile): KclProperty[] {
  return kclTakeoverSettings(profile).map(({ key, value }) => [key, value] as const);
}

/**
 * The comment lines to write above each of a profile's keys, for the keys whose value in `props` is still the
 * profile's (a key overridden by `--set` keeps no note that would no longer be true).
 */
export function kclTakeoverNotes(profile: KclTakeoverProfile, props: readonly KclProperty[]): Map<string, readonly string[]> {
  const values = new Map(props);
  const notes = new Map<string, readonly string[]>();
  for (const setting of kclTakeoverSettings(profile)) {
    if (values.get(setting.key) === setting.value) notes.set(setting.key, setting.note);
  }
  return notes;
}
