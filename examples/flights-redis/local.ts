/**
 * The whole flights demo on one machine, with no AWS account: local Kinesis (kinesis-local, as `shardline dev`
 * starts it), a local KMS (moto server, when `bash scripts/setup.sh` installed it) that encrypts the Redis URL for the
 * consumer's `kms:` secret, redis-server, the flights producer, the consumer (polling adapter) and the dashboard.
 *
 *   npm run build && node -r ./dist/cli/register.js examples/flights-redis/local.ts [--port 8080]
 *
 * Ctrl-C stops everything it started (by PID). Everything shardline comes from the 'shardline' package (dist/ when
 * run this way), the copy the consumer module imports too, so that injection tokens such as ShardContext match.
 */
import 'reflect-metadata';
import { CreateKeyCommand, KMSClient } from '@aws-sdk/client-kms';
import { CreateStreamCommand, DescribeStreamSummaryCommand, type KinesisClient } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { spawn, type ChildProcess } from 'node:child_process';
import { accessSync, closeSync, constants, existsSync, mkdirSync, mkdtempSync, openSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import {
  createKinesisClient,
  createLogger,
  FileCheckpointStore,
  KmsSecretProvider,
  KinesisProducer,
  KmsService,
  PollingRecordSource,
  ShardlineApp,
  ShardlineError,
  isPortListening,
  startLocalKinesis,
  type LocalKinesisServer,
  type LogLevel,
  type SecretProvider,
} from 'shardline';
import { airportName } from '../dashboard/airport-names';
import { startDashboard, type Dashboard } from '../dashboard/dashboard-server';
import { produce } from '../flights-producer/flights-producer';

interface LocalOptions {
  readonly port: number;
  readonly host: string;
  readonly rate: number;
  readonly kinesisPort: number;
  readonly redisPort: number;
  readonly kmsPort: number;
  readonly stream: string;
  readonly logLevel: LogLevel;
  readonly kms: boolean;
}

const REGION = 'us-east-1';
const LOCAL_CREDENTIALS = { accessKeyId: 'shardline-local', secretAccessKey: 'shardline-local' };
const STATE_DIR = resolve('.shardline', 'flights-local');

function say(line: string): void {
  process.stdout.write(`flights: ${line}\n`);
}

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number (0-65535), got "${value}"`);
  return n;
}

function positive(value: string): number {
  const n = Number(value);
  if (!(n > 0) || !Number.isFinite(n)) throw new InvalidArgumentError(`expected a number greater than 0, got "${value}"`);
  return n;
}

function findOnPath(binary: string): string | undefined {
  const dirs = (process.env.PATH ?? '').split(':').filter((d) => d !== '');
  for (const dir of [...dirs, '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    try {
      accessSync(join(dir, binary), constants.X_OK);
      return join(dir, binary);
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** A helper server this command started; stopped by its PID. */
interface Started {
  readonly name: string;
  readonly child: ChildProcess;
}

/** A local set-up step that failed; the message says what to do. */
class LocalFailure extends ShardlineError {}

async function startServer(name: string, command: string, args: readonly string[], waitPort: number, timeoutMs: number): Promise<Started> {
  if (await isPortListening(waitPort)) {
    throw new LocalFailure(`port ${waitPort} (for ${name}) is already in use: stop what listens there (ss -ltnp | grep :${waitPort}) or pick another port (see --help)`);
  }
  mkdirSync(join(STATE_DIR, 'logs'), { recursive: true });
  const logFile = join(STATE_DIR, 'logs', `${name}.log`);
  const fd = openSync(logFile, 'w');
  const child = spawn(command, [...args], { stdio: ['ignore', fd, fd], env: { ...process.env, PYTHONUNBUFFERED: '1' } });
  closeSync(fd);
  let exited: string | undefined;
  child.once('exit', (code, signal) => (exited = signal ?? String(code)));
  child.once('error', (error) => (exited = error.message));
  const deadline = Date.now() + timeoutMs;
  while (!(await isPortListening(waitPort))) {
    if (exited !== undefined) throw new LocalFailure(`${name} exited during start-up (${exited}); see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new LocalFailure(`${name} did not open port ${waitPort} within ${timeoutMs} ms; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  say(`${name} on 127.0.0.1:${waitPort} (pid ${child.pid ?? '?'}, log ${logFile})`);
  return { name, child };
}

function stopServer(server: Started): Promise<void> {
  return new Promise((done) => {
    const { child } = server;
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return done();
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => (clearTimeout(timer), done()));
    process.kill(child.pid, 'SIGTERM');
  });
}

async function ensureStream(client: KinesisClient, stream: string): Promise<void> {
  try {
    await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    say(`stream ${stream} exists (its records are counted again into this run's fresh Redis)`);
    return;
  } catch (error) {
    if ((error as Error).name !== 'ResourceNotFoundException') throw error;
  }
  await client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 2 }));
  for (let i = 0; i < 100; i++) {
    const out = await client.send(new DescribeStreamSummaryCommand({ StreamName: stream }));
    if (out.StreamDescriptionSummary?.StreamStatus === 'ACTIVE') return say(`created stream ${stream} (2 shards)`);
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new LocalFailure(`stream ${stream} did not become ACTIVE`);
}

/** Encrypts the Redis URL with a fresh key of the local KMS; returns the `kms:` reference and the provider. */
async function encryptWithLocalKms(endpoint: string, redisUrl: string): Promise<{ ref: string; provider: SecretProvider; kms: KmsService }> {
  const client = new KMSClient({ region: REGION, endpoint, credentials: LOCAL_CREDENTIALS, requestHandler: new NodeHttpHandler() });
  const key = await client.send(new CreateKeyCommand({ Description: 'shardline flights demo (local)' }));
  const kms = new KmsService({ client });
  const ciphertext = await kms.encrypt(key.KeyMetadata?.KeyId ?? '', redisUrl);
  return { ref: `kms:${ciphertext}`, provider: new KmsSecretProvider(kms), kms };
}

async function main(argv: readonly string[]): Promise<void> {
  const options = new Command('flights-local')
    .description('run the flights demo locally: Kinesis, KMS, Redis, producer, consumer and dashboard (no AWS account)')
    .option('--port <port>', 'dashboard port', port, 8080)
    .option('--host <address>', 'dashboard address (0.0.0.0 to open it from a phone on your network)', '127.0.0.1')
    .option('--rate <records-per-second>', 'flights the producer sends per second', positive, 20)
    .option('--kinesis-port <port>', 'kinesis-local port (a kinesis-local already there is reused)', port, 4568)
    .option('--redis-port <port>', 'redis-server port', port, 6390)
    .option('--kms-port <port>', 'local KMS (moto server) port', port, 5055)
    .option('--stream <name>', 'stream name', 'flights')
    .option('--no-kms', 'do not start a local KMS: pass the Redis URL as an env: secret (what happens when moto is not installed)')
    .addOption(new Option('--log-level <level>', 'consumer log level').choices(['error', 'warn', 'info', 'debug']).default('info'))
    .exitOverride()
    .parse([...argv], { from: 'user' })
    .opts<LocalOptions>();

  const redisServer = findOnPath('redis-server');
  if (redisServer === undefined) {
    throw new LocalFailure('redis-server is not installed: run `bash scripts/setup.sh` (as root), or `sudo apt-get install redis-server`, then try again');
  }

  const servers: Started[] = [];
  let kinesisServer: LocalKinesisServer | undefined;
  let kinesis: KinesisClient | undefined;
  let app: ShardlineApp | undefined;
  let source: PollingRecordSource | undefined;
  let dashboard: Dashboard | undefined;
  let kms: KmsService | undefined;
  let producer: KinesisProducer | undefined;
  let producing: Promise<unknown> | undefined;
  const abort = new AbortController();
  let wake: () => void = () => undefined;
  const stopped = new Promise<void>((done) => (wake = done));
  let stopping = false;
  const onSignal = (): void => {
    if (stopping) {
      say('second Ctrl-C: killing what is left and exiting');
      for (const s of servers) if (s.child.pid !== undefined && s.child.exitCode === null) s.child.kill('SIGKILL');
      process.exit(130);
    }
    stopping = true;
    say('stopping everything (Ctrl-C again to exit at once)');
    wake();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  const logger = createLogger({ level: options.logLevel });
  try {
    // 1. Redis
    servers.push(
      await startServer(
        'redis-server',
        redisServer,
        ['--port', String(options.redisPort), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no'],
        options.redisPort,
        10_000,
      ),
    );
    const redisUrl = `redis://127.0.0.1:${options.redisPort}/0`;

    // 2. KMS, or the env: fallback
    let secretProvider: SecretProvider | undefined;
    const moto = resolve('.venv', 'bin', 'moto_server');
    if (options.kms && existsSync(moto)) {
      servers.push(await startServer('kms (moto server)', moto, ['-H', '127.0.0.1', '-p', String(options.kmsPort)], options.kmsPort, 30_000));
      const encrypted = await encryptWithLocalKms(`http://127.0.0.1:${options.kmsPort}`, redisUrl);
      process.env.FLIGHTS_REDIS_URL_SECRET = encrypted.ref;
      secretProvider = encrypted.provider;
      kms = encrypted.kms;
      say(`encrypted the Redis URL with a fresh key of the local KMS: the consumer decrypts @Secret('kms:${encrypted.ref.slice(4, 24)}…') at start-up`);
    } else {
      delete process.env.FLIGHTS_REDIS_URL_SECRET;
      process.env.FLIGHTS_REDIS_URL = redisUrl;
      say(options.kms ? '*** NO LOCAL KMS: .venv/bin/moto_server is not installed (run `bash scripts/setup.sh` to get it).' : '*** NO LOCAL KMS (--no-kms).');
      say('*** Falling back to an env: secret: the consumer reads the Redis URL from FLIGHTS_REDIS_URL instead of decrypting a kms: ciphertext.');
    }
    process.env.FLIGHTS_STREAM = options.stream;

    // 3. Kinesis
    kinesisServer = await startLocalKinesis({ port: options.kinesisPort, logFile: join(STATE_DIR, 'logs', 'kinesis-local.log') });
    say(kinesisServer.pid === undefined ? `reusing the kinesis-local already on ${kinesisServer.endpoint}` : `kinesis-local on ${kinesisServer.endpoint} (pid ${kinesisServer.pid})`);
    kinesis = createKinesisClient({ endpoint: kinesisServer.endpoint, region: REGION });
    await ensureStream(kinesis, options.stream);

    // 4. The consumer (loaded now: its @Secret reference comes from the environment set above)
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { FlightsRedisConsumer } = require('./flights-redis') as typeof import('./flights-redis');
    mkdirSync(STATE_DIR, { recursive: true });
    const checkpoints = mkdtempSync(join(STATE_DIR, 'checkpoints-'));
    source = new PollingRecordSource({
      streamName: options.stream,
      client: kinesis,
      checkpointStore: new FileCheckpointStore({ directory: checkpoints, applicationName: 'flights-redis', streamName: options.stream }),
      logger,
      idlePollIntervalMs: 500,
    });
    app = await ShardlineApp.start({ consumer: FlightsRedisConsumer, source, logger, ...(secretProvider ? { secretProvider } : {}) });

    // 5. The producer
    producer = new KinesisProducer(kinesis, { streamName: options.stream, lingerMs: 50 });
    const p = producer;
    producing = produce((data, key) => p.put(data, key), abort.signal, { ratePerSecond: options.rate }).catch((error: unknown) => {
      if (!abort.signal.aborted) logger.error(`The producer failed: ${(error as Error).message}`);
    });
    say(`producer sends ${options.rate} flights per second to ${options.stream}`);

    // 6. The dashboard
    dashboard = await startDashboard({ redis: redisUrl, port: options.port, host: options.host, airportName });
    say('');
    say(`dashboard: ${dashboard.url}   (Ctrl-C stops everything)`);
    say('');
    const failed = app.done.then(
      () => new LocalFailure('the consumer stopped'),
      (error: unknown) => error,
    );
    const outcome = await Promise.race([stopped.then(() => undefined), failed]);
    if (outcome !== undefined && !stopping) throw outcome instanceof Error ? outcome : new LocalFailure('the consumer failed');
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    abort.abort();
    await producing;
    await producer?.close().catch(() => undefined);
    await dashboard?.close();
    await app?.stop();
    await source?.close();
    kinesis?.destroy();
    kms?.client.destroy();
    await kinesisServer?.stop();
    await Promise.all(servers.reverse().map(stopServer));
    await logger.close();
    say('stopped');
  }
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed' || code === 'commander.version') return;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`flights: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
