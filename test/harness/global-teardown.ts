/**
 * Jest globalTeardown for the integration project: stops, by PID, every server that global-setup.ts started, then
 * removes test/harness/.endpoints.json.
 */
import * as fs from 'node:fs';
import { ENDPOINTS_FILE, readEndpointsFile } from './endpoints';
import { GLOBAL_SERVICES_KEY } from './global-setup';
import { stopPid } from './services';

/** Stops the servers (PIDs from globalThis when setup ran in this process, else from .endpoints.json). */
export default async function globalTeardown(): Promise<void> {
  const pids = new Set<number>();
  const kept = (globalThis as Record<string, unknown>)[GLOBAL_SERVICES_KEY];
  if (Array.isArray(kept)) {
    for (const s of kept as Array<{ pid?: unknown }>) if (typeof s.pid === 'number') pids.add(s.pid);
  }
  const file = readEndpointsFile();
  if (file !== undefined) for (const pid of Object.values(file.pids)) pids.add(pid);
  await Promise.all([...pids].map((pid) => stopPid(pid)));
  fs.rmSync(ENDPOINTS_FILE, { force: true });
  process.stderr.write(`[harness] stopped ${pids.size} servers\n`);
}
