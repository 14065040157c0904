/**
 * Starts and stops the local servers that shardline's integration tests use (kinesis-local, kinesalite, dynalite,
 * moto server, redis-server) as child processes on explicit loopback ports.
 *
 * - Node servers are started as `node <entry>` (never through npx, whose wrapper would survive a kill of its PID).
 * - Readiness = the TCP port accepts a connection; a server that exits early or does not come up in time fails with
 *   an error that names it and shows the tail of its log.
 * - Servers are stopped by PID: SIGTERM, then SIGKILL if the process has not exited after a grace period.
 * - Diagnostics go to process.stderr only.
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';

/** Names of the servers this module knows how to start. */
export type ServiceName = 'kinesis-local' | 'kinesalite' | 'dynalite' | 'moto' | 'redis';

/** Every known service name, in a stable order. */
export const SERVICE_NAMES: readonly ServiceName[] = ['kinesis-local', 'kinesalite', 'dynalite', 'moto', 'redis'];

/** Options for {@link startService}. */
export interface StartOptions {
  /** Repository root (where node_modules/ and .venv/ live). Default: two levels above this file. */
  readonly rootDir?: string;
  /** Directory for the server's log file. Default: `<rootDir>/.shardline/logs`. */
  readonly logDir?: string;
  /** How long to wait for the port to open. Default: 20 s for kinesis-local and moto, 10 s for the others. */
  readonly readyTimeoutMs?: number;
  /** kinesis-local only: its TLS port (it always opens one). Default: `port - 1`. */
  readonly tlsPort?: number;
}

/** A server started by {@link startService}. */
export interface RunningService {
  /** Which server this is. */
  readonly name: ServiceName;
  /** PID of the server process itself (not of a wrapper). */
  readonly pid: number;
  /** The port that was polled for readiness. */
  readonly port: number;
  /** Every port the server listens on (e.g. kinesis-local's plain and TLS ports). */
  readonly ports: readonly number[];
  /** `http://127.0.0.1:<port>` or `redis://127.0.0.1:<port>`. */
  readonly endpoint: string;
  /** Where the server's stdout and stderr go. */
  readonly logFile: string;
}

/** What is needed to launch one server. */
interface LaunchSpec {
  readonly command: string;
  readonly args: readonly string[];
  readonly env: NodeJS.ProcessEnv;
  readonly ports: readonly number[];
  readonly endpoint: string;
  readonly readyTimeoutMs: number;
}

/** Loopback address every server binds or is polled on. */
export const LOOPBACK = '127.0.0.1';

const SETUP_HINT = 'run `bash scripts/setup.sh` (as root) to install it';
const NPM_HINT = 'run `npm ci` to install it';

const running = new Map<number, RunningService>();
let exitHookInstalled = false;

/** Safety net: if this process exits without stopping its servers, send them SIGTERM so none is left orphaned. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const pid of running.keys()) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // already gone
      }
    }
  });
}

/** Default repository root: test/harness/ → ../.. */
export function defaultRootDir(): string {
  return path.resolve(__dirname, '..', '..');
}

/** Writes one diagnostic line to stderr. */
function note(message: string): void {
  process.stderr.write(`[harness] ${message}\n`);
}

/** Error thrown when a server cannot be started; its message names the server. */
export class ServiceStartError extends Error {
  /**
   * @param service the server that failed
   * @param message what went wrong (the log tail, if any, is appended by the caller)
   */
  constructor(
    readonly service: ServiceName,
    message: string,
  ) {
    super(`${service}: ${message}`);
    this.name = 'ServiceStartError';
  }
}

/** Returns the path of `file` if it exists, else throws a ServiceStartError naming `hint`. */
function requireFile(service: ServiceName, file: string, hint: string): string {
  if (!fs.existsSync(file)) {
    throw new ServiceStartError(service, `${file} not found; ${hint}`);
  }
  return file;
}

/** Finds an executable on PATH (plus /usr/sbin and /usr/bin, where Debian puts redis-server). */
function findOnPath(binary: string): string | undefined {
  const dirs = (process.env['PATH'] ?? '').split(path.delimiter).filter((d) => d.length > 0);
  for (const dir of [...dirs, '/usr/sbin', '/usr/bin', '/usr/local/bin']) {
    const candidate = path.join(dir, binary);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Builds the launch command for `name` on `port`. Throws if the server's binary or entry file is missing. */
function launchSpec(name: ServiceName, port: number, rootDir: string, options: StartOptions): LaunchSpec {
  const node = process.execPath;
  const nodeModules = path.join(rootDir, 'node_modules');
  const http = `http://${LOOPBACK}:${port}`;
  switch (name) {
    case 'kinesis-local': {
      const main = requireFile(name, path.join(nodeModules, 'kinesis-local', 'main.js'), NPM_HINT);
      const cert = requireFile(name, path.join(nodeModules, 'kinesis-local', 'server.json'), NPM_HINT);
      const tlsPort = options.tlsPort ?? port - 1;
      return {
        command: node,
        args: [main],
        env: {
          KINESIS_MOCK_PLAIN_PORT: String(port),
          KINESIS_MOCK_TLS_PORT: String(tlsPort),
          // Without this kinesis-local exits at start (it needs its cert even for the plain port).
          KINESIS_MOCK_CERT_PATH: cert,
          CREATE_STREAM_DURATION: '0ms',
          // The suites share one server and never delete their streams: the default account limit (50 shards) is
          // reached once the integration and chaos projects run together.
          SHARD_LIMIT: '2000',
          DELETE_STREAM_DURATION: '0ms',
          UPDATE_SHARD_COUNT_DURATION: '0ms',
          SPLIT_SHARD_DURATION: '0ms',
          MERGE_SHARDS_DURATION: '0ms',
          REGISTER_STREAM_CONSUMER_DURATION: '0ms',
          DEREGISTER_STREAM_CONSUMER_DURATION: '0ms',
          START_STREAM_ENCRYPTION_DURATION: '0ms',
          STOP_STREAM_ENCRYPTION_DURATION: '0ms',
          UPDATE_STREAM_MODE_DURATION: '0ms',
          LOG_LEVEL: 'WARN',
        },
        ports: [port, tlsPort],
        endpoint: http,
        readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      };
    }
    case 'kinesalite': {
      const cli = requireFile(name, path.join(nodeModules, 'kinesalite', 'cli.js'), NPM_HINT);
      return {
        command: node,
        // kinesalite has no --host flag: it binds every address.
        args: [cli, '--port', String(port), '--createStreamMs', '0', '--deleteStreamMs', '0', '--updateStreamMs', '0', '--shardLimit', '2000'],
        env: {},
        ports: [port],
        endpoint: http,
        readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
      };
    }
    case 'dynalite': {
      const cli = requireFile(name, path.join(nodeModules, 'dynalite', 'cli.js'), NPM_HINT);
      return {
        command: node,
        args: [cli, '--host', LOOPBACK, '--port', String(port), '--createTableMs', '0', '--deleteTableMs', '0', '--updateTableMs', '0'],
        env: {},
        ports: [port],
        endpoint: http,
        readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
      };
    }
    case 'moto': {
      const bin = requireFile(name, path.join(rootDir, '.venv', 'bin', 'moto_server'), SETUP_HINT);
      return {
        command: bin,
        args: ['-H', LOOPBACK, '-p', String(port)],
        env: { PYTHONUNBUFFERED: '1' },
        ports: [port],
        endpoint: http,
        readyTimeoutMs: options.readyTimeoutMs ?? 20_000,
      };
    }
    case 'redis': {
      const bin = findOnPath('redis-server');
      if (bin === undefined) {
        throw new ServiceStartError(name, `redis-server not found on PATH; ${SETUP_HINT}`);
      }
      return {
        command: bin,
        // Not daemonized (so the PID is the server's), no persistence, loopback only.
        args: ['--port', String(port), '--bind', LOOPBACK, '--save', '', '--appendonly', 'no', '--daemonize', 'no', '--protected-mode', 'no'],
        env: {},
        ports: [port],
        endpoint: `redis://${LOOPBACK}:${port}`,
        readyTimeoutMs: options.readyTimeoutMs ?? 10_000,
      };
    }
  }
}

/** Resolves true if something accepts a TCP connection on host:port within `timeoutMs`. */
export function isPortOpen(port: number, host: string = LOOPBACK, timeoutMs = 500): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    const done = (open: boolean): void => {
      socket.removeAllListeners();
      socket.destroy();
      resolve(open);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/** Returns the last `lines` lines of a file, or a placeholder if it cannot be read. */
export function tailFile(file: string, lines = 30): string {
  try {
    const text = fs.readFileSync(file, 'utf8').trimEnd();
    if (text.length === 0) return '(log is empty)';
    return text.split('\n').slice(-lines).join('\n');
  } catch {
    return `(no log at ${file})`;
  }
}

/** True while a process with this PID exists. */
export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Starts one server on an explicit loopback port and resolves once its port accepts connections.
 * Fails if the port is already taken, the binary is missing (the message says how to install it), the process exits
 * early, or the port does not open within the timeout (the message includes the tail of the server's log).
 */
export async function startService(name: ServiceName, port: number, options: StartOptions = {}): Promise<RunningService> {
  const rootDir = options.rootDir ?? defaultRootDir();
  const spec = launchSpec(name, port, rootDir, options);

  for (const p of spec.ports) {
    if (await isPortOpen(p)) {
      throw new ServiceStartError(
        name,
        `port ${p} on ${LOOPBACK} is already in use (a server left over from a previous run?). ` +
          `Find it with \`ss -ltnp | grep :${p}\` and stop it by PID.`,
      );
    }
  }

  const logDir = options.logDir ?? path.join(rootDir, '.shardline', 'logs');
  fs.mkdirSync(logDir, { recursive: true });
  const logFile = path.join(logDir, `${name}-${port}.log`);
  const logFd = fs.openSync(logFile, 'w');

  let exitInfo: string | undefined;
  let spawnError: Error | undefined;
  const child = spawn(spec.command, [...spec.args], {
    cwd: rootDir,
    env: { ...process.env, ...spec.env },
    stdio: ['ignore', logFd, logFd],
    detached: false,
  });
  fs.closeSync(logFd);
  child.once('error', (err) => {
    spawnError = err;
  });
  child.once('exit', (code, signal) => {
    exitInfo = signal !== null ? `signal ${signal}` : `code ${String(code)}`;
  });
  // The harness stops servers by PID; do not let their handles keep the test process alive.
  child.unref();

  const fail = async (reason: string): Promise<never> => {
    if (child.pid !== undefined && isAlive(child.pid)) await stopPid(child.pid);
    throw new ServiceStartError(name, `${reason}\n--- last lines of ${logFile} ---\n${tailFile(logFile)}`);
  };

  const started = Date.now();
  const deadline = started + spec.readyTimeoutMs;
  for (;;) {
    if (spawnError !== undefined) return fail(`could not start ${spec.command}: ${spawnError.message}`);
    if (exitInfo !== undefined) return fail(`exited during start-up (${exitInfo})`);
    if (child.pid !== undefined && (await isPortOpen(port))) break;
    if (Date.now() > deadline) return fail(`port ${port} did not open within ${spec.readyTimeoutMs} ms`);
    await sleep(100);
  }
  if (child.pid === undefined) return fail('no PID after spawn');

  const service: RunningService = { name, pid: child.pid, port, ports: spec.ports, endpoint: spec.endpoint, logFile };
  running.set(child.pid, service);
  installExitHook();
  note(`${name} ready on ${spec.ports.join('/')} (pid ${child.pid}, ${Date.now() - started} ms, log ${logFile})`);
  return service;
}

/**
 * Stops a process by PID: SIGTERM, then SIGKILL after `graceMs` if it is still alive.
 * Resolves once the process is gone (or immediately if it never existed).
 */
export async function stopPid(pid: number, graceMs = 5_000): Promise<void> {
  if (!isAlive(pid)) return;
  try {
    process.kill(pid, 'SIGTERM');
  } catch {
    return;
  }
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(50);
  if (isAlive(pid)) {
    note(`pid ${pid} ignored SIGTERM for ${graceMs} ms; sending SIGKILL`);
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      return;
    }
    const killDeadline = Date.now() + 2_000;
    while (isAlive(pid) && Date.now() < killDeadline) await sleep(50);
  }
}

/** Stops one server started by {@link startService}. */
export async function stopService(service: RunningService): Promise<void> {
  await stopPid(service.pid);
  running.delete(service.pid);
}

/** Servers started by this module in this process and not yet stopped. */
export function runningServices(): RunningService[] {
  return [...running.values()];
}

/** Stops every server started by this module in this process (in parallel). */
export async function stopAll(): Promise<void> {
  await Promise.all(runningServices().map((s) => stopService(s)));
}
