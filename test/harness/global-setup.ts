/**
 * Jest globalSetup for the integration project: starts every local server on its fixed loopback port, publishes the
 * endpoints in process.env (inherited by Jest workers) and in test/harness/.endpoints.json, and remembers the PIDs so
 * that global-teardown.ts can stop them.
 */
import * as fs from 'node:fs';
import { ENDPOINT_ENV, ENDPOINTS_FILE, EndpointKey, EndpointsFile, TEST_PORTS } from './endpoints';
import { RunningService, ServiceName, startService, stopService } from './services';

/** Key under which the started servers are kept on globalThis for global teardown (same process). */
export const GLOBAL_SERVICES_KEY = '__shardlineTestServices';

const PLAN: ReadonlyArray<{ readonly name: ServiceName; readonly port: number }> = [
  { name: 'kinesis-local', port: TEST_PORTS.kinesisLocal },
  { name: 'kinesalite', port: TEST_PORTS.kinesalite },
  { name: 'dynalite', port: TEST_PORTS.dynalite },
  { name: 'moto', port: TEST_PORTS.moto },
  { name: 'redis', port: TEST_PORTS.redis },
];

/** Starts all servers in parallel; if any fails, stops the ones that started and rethrows every failure. */
export default async function globalSetup(): Promise<void> {
  const t0 = Date.now();
  const results = await Promise.allSettled(
    PLAN.map(({ name, port }) =>
      startService(name, port, name === 'kinesis-local' ? { tlsPort: TEST_PORTS.kinesisLocalTls } : {}),
    ),
  );
  const started: RunningService[] = [];
  const errors: string[] = [];
  for (const r of results) {
    if (r.status === 'fulfilled') started.push(r.value);
    else errors.push(r.reason instanceof Error ? r.reason.message : String(r.reason));
  }
  if (errors.length > 0) {
    await Promise.all(started.map((s) => stopService(s)));
    throw new Error(`integration test servers failed to start:\n\n${errors.join('\n\n')}`);
  }

  const byName = new Map(started.map((s) => [s.name, s]));
  const url = (name: ServiceName): string => {
    const s = byName.get(name);
    if (s === undefined) throw new Error(`internal: ${name} not started`);
    return s.endpoint;
  };
  const endpoints: Record<EndpointKey, string> = {
    kinesis: url('kinesis-local'),
    kinesalite: url('kinesalite'),
    dynamodb: url('dynalite'),
    kms: url('moto'),
    moto: url('moto'),
    redis: url('redis'),
  };
  for (const key of Object.keys(endpoints) as EndpointKey[]) {
    process.env[ENDPOINT_ENV[key]] = endpoints[key];
  }
  const file: EndpointsFile = {
    endpoints,
    kinesisTlsEndpoint: `https://127.0.0.1:${TEST_PORTS.kinesisLocalTls}`,
    pids: Object.fromEntries(started.map((s) => [s.name, s.pid])),
    logs: Object.fromEntries(started.map((s) => [s.name, s.logFile])),
    startedAt: new Date().toISOString(),
  };
  fs.writeFileSync(ENDPOINTS_FILE, `${JSON.stringify(file, null, 2)}\n`);
  (globalThis as Record<string, unknown>)[GLOBAL_SERVICES_KEY] = started;
  process.stderr.write(`[harness] ${started.length} servers up in ${Date.now() - t0} ms; endpoints in ${ENDPOINTS_FILE}\n`);
}
