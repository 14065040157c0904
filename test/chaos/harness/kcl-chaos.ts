import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { exploreConsumer } from '../../../src/core/consumer-explorer';
import { formatKclProperties } from '../../../src/kcl-daemon/kcl-properties';
import { testDaemonProperties } from '../../harness/test-daemon';
import { ChaosConsumer } from '../fixtures/chaos.consumer';

/** The pids of a process's children (Linux `ps`). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return [];
  }
}

/**
 * Writes the daemon's properties for a KCL chaos scenario: the chaos consumer as the child (`--adapter kcl`), the
 * local emulators, at most 100 records per batch. Returns the file's path.
 */
export function writeChaosDaemonProperties(
  dir: string,
  input: { stream: string; application: string; workerId: string; comment: string; fileName?: string; extra?: ReadonlyArray<readonly [string, string]> },
): string {
  const file = join(dir, input.fileName ?? 'app.properties');
  writeFileSync(
    file,
    formatKclProperties(
      testDaemonProperties({
        definition: exploreConsumer(ChaosConsumer),
        streamName: input.stream,
        applicationName: input.application,
        workerId: input.workerId,
        executable: `node bin/shardline.js run ${join('test', 'chaos', 'fixtures', 'chaos.consumer.ts')} --adapter kcl`,
        extra: [['maxRecords', '100'], ...(input.extra ?? [])],
      }),
      [input.comment],
    ),
  );
  return file;
}
