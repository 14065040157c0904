/**
 * Typed access, for integration test files, to the local servers started by test/harness/global-setup.ts.
 *
 * Values come from the SHARDLINE_TEST_* environment variables that global setup sets (inherited by Jest workers),
 * falling back to test/harness/.endpoints.json, which global setup also writes.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';

/**
 * Base of the loopback ports used by the integration suite: SHARDLINE_TEST_PORT_BASE (default 14500), so that
 * several suites can run side by side on one machine, each with its own base.
 */
export const TEST_PORT_BASE = parsePortBase(process.env.SHARDLINE_TEST_PORT_BASE);

function parsePortBase(value: string | undefined): number {
  if (value === undefined || value === '') return 14500;
  const base = Number(value);
  if (!Number.isInteger(base) || base < 1024 || base > 65400) {
    throw new Error(`SHARDLINE_TEST_PORT_BASE must be an integer between 1024 and 65400, got "${value}"`);
  }
  return base;
}

/** Loopback ports used by the integration suite, derived from {@link TEST_PORT_BASE}. */
export const TEST_PORTS = {
  kinesisLocal: TEST_PORT_BASE + 68,
  kinesisLocalTls: TEST_PORT_BASE + 67,
  kinesalite: TEST_PORT_BASE + 69,
  dynalite: TEST_PORT_BASE + 70,
  moto: TEST_PORT_BASE + 71,
  redis: TEST_PORT_BASE + 72,
} as const;

/** Region and dummy credentials accepted by every emulator (none checks signatures). */
export const TEST_REGION = 'us-east-1';
/** Dummy credentials for SDK clients pointed at the emulators. */
export const TEST_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/** Environment variable names, one per endpoint. */
export const ENDPOINT_ENV = {
  kinesis: 'SHARDLINE_TEST_KINESIS_ENDPOINT',
  kinesalite: 'SHARDLINE_TEST_KINESALITE_ENDPOINT',
  dynamodb: 'SHARDLINE_TEST_DYNAMODB_ENDPOINT',
  kms: 'SHARDLINE_TEST_KMS_ENDPOINT',
  moto: 'SHARDLINE_TEST_MOTO_ENDPOINT',
  redis: 'SHARDLINE_TEST_REDIS_URL',
} as const;

/** Which endpoint. */
export type EndpointKey = keyof typeof ENDPOINT_ENV;

/** Contents of test/harness/.endpoints.json. */
export interface EndpointsFile {
  /** Endpoint URL per key. */
  readonly endpoints: Record<EndpointKey, string>;
  /** kinesis-local's HTTPS port endpoint (self-signed certificate). */
  readonly kinesisTlsEndpoint: string;
  /** PID of each server process, for teardown. */
  readonly pids: Record<string, number>;
  /** Log file of each server. */
  readonly logs: Record<string, string>;
  /** ISO time the servers were started. */
  readonly startedAt: string;
}

/** Path of the JSON file that global setup writes (gitignored). */
export const ENDPOINTS_FILE = path.join(__dirname, `.endpoints-${TEST_PORT_BASE}.json`);

/** Reads test/harness/.endpoints-<base>.json, or returns undefined if it does not exist. */
export function readEndpointsFile(): EndpointsFile | undefined {
  if (!fs.existsSync(ENDPOINTS_FILE)) return undefined;
  return JSON.parse(fs.readFileSync(ENDPOINTS_FILE, 'utf8')) as EndpointsFile;
}

/** Returns the endpoint for `key`, or throws an error explaining that global setup has not run. */
export function endpoint(key: EndpointKey): string {
  const fromEnv = process.env[ENDPOINT_ENV[key]];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  const fromFile = readEndpointsFile()?.endpoints[key];
  if (fromFile !== undefined) return fromFile;
  throw new Error(
    `${ENDPOINT_ENV[key]} is not set and ${ENDPOINTS_FILE} does not exist: ` +
      'integration tests need the local servers that test/harness/global-setup.ts starts ' +
      '(run them with `npm run test:integration`).',
  );
}

/** kinesis-local plain (HTTP/1.1 and h2c) endpoint, e.g. http://127.0.0.1:14568. Use an HTTP/1.1 request handler. */
export const kinesisEndpoint = (): string => endpoint('kinesis');
/** kinesalite endpoint (HTTP/1.1 only; no UpdateShardCount, EFO or ShardFilter). */
export const kinesaliteEndpoint = (): string => endpoint('kinesalite');
/** dynalite endpoint (DynamoDB; no transactions or PartiQL). */
export const dynamodbEndpoint = (): string => endpoint('dynamodb');
/** KMS endpoint (moto server). */
export const kmsEndpoint = (): string => endpoint('kms');
/** moto server endpoint (KMS, DynamoDB and the other moto services on one port; POST /moto-api/reset clears state). */
export const motoEndpoint = (): string => endpoint('moto');
/** Redis URL, e.g. redis://127.0.0.1:16380. */
export const redisUrl = (): string => endpoint('redis');
