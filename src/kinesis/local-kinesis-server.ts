import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { ConfigurationError } from '../core/errors';

/** A running kinesis-local (the Node build of kinesis-mock: no Java, no AWS account). */
export interface LocalKinesisServer {
  /** `http://127.0.0.1:<port>` (plain HTTP; use it with {@link createKinesisClient}). */
  readonly endpoint: string;
  /** Where its output goes. */
  readonly logFile: string | undefined;
  /** The process id, or undefined when an already running server was reused. */
  readonly pid: number | undefined;
  /** Stops the server (when this process started it). */
  stop(): Promise<void>;
}

/** Options of {@link startLocalKinesis}. */
export interface StartLocalKinesisOptions {
  /** Plain HTTP port. Default 4568. The TLS port (which kinesis-local always opens) is this minus one. */
  readonly port?: number;
  /** Its log file. Default `.shardline/logs/kinesis-local.log`. */
  readonly logFile?: string;
  /** Reuse a server already listening on the port instead of failing. Default true. */
  readonly reuseRunning?: boolean;
  /** Bound on the wait for the port. Default 15,000. */
  readonly startTimeoutMs?: number;
}

/**
 * Starts kinesis-local from `node_modules` (`node node_modules/kinesis-local/main.js`) with stream creation and
 * deletion made instant, and waits for its port. A server already listening on the port is reused.
 * @throws ConfigurationError when kinesis-local is not installed or does not start.
 */
export async function startLocalKinesis(options: StartLocalKinesisOptions = {}): Promise<LocalKinesisServer> {
  const port = options.port ?? 4568;
  const endpoint = `http://127.0.0.1:${port}`;
  if ((options.reuseRunning ?? true) && (await isPortListening(port))) {
    return { endpoint, logFile: undefined, pid: undefined, stop: () => Promise.resolve() };
  }
  const packageDir = resolveKinesisLocal();
  const logFile = options.logFile ?? join('.shardline', 'logs', 'kinesis-local.log');
  mkdirSync(dirname(logFile), { recursive: true });
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(process.execPath, [join(packageDir, 'main.js')], {
      env: {
        ...process.env,
        KINESIS_MOCK_PLAIN_PORT: String(port),
        KINESIS_MOCK_TLS_PORT: String(port - 1),
        KINESIS_MOCK_CERT_PATH: join(packageDir, 'server.json'),
        CREATE_STREAM_DURATION: '0ms',
        DELETE_STREAM_DURATION: '0ms',
        UPDATE_SHARD_COUNT_DURATION: '0ms',
        LOG_LEVEL: process.env['KINESIS_MOCK_LOG_LEVEL'] ?? 'WARN',
      },
      stdio: ['ignore', fd, fd],
    });
  } finally {
    closeSync(fd);
  }
  let exitCode: number | null | undefined;
  child.once('exit', (code) => {
    exitCode = code;
  });
  const deadline = Date.now() + (options.startTimeoutMs ?? 15_000);
  while (!(await isPortListening(port))) {
    if (exitCode !== undefined) throw new ConfigurationError(`kinesis-local exited (code ${exitCode}) before opening port ${port}; see ${logFile}`);
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new ConfigurationError(`kinesis-local did not open port ${port} in time; see ${logFile}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    endpoint,
    logFile,
    pid: child.pid,
    stop: () =>
      new Promise<void>((resolve) => {
        if (exitCode !== undefined) return resolve();
        const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
        child.once('exit', () => {
          clearTimeout(timer);
          resolve();
        });
        child.kill('SIGTERM');
      }),
  };
}

function resolveKinesisLocal(): string {
  for (const base of [process.cwd(), __dirname]) {
    try {
      return dirname(require.resolve('kinesis-local/package.json', { paths: [base] }));
    } catch {
      // try the next place
    }
  }
  throw new ConfigurationError('kinesis-local is not installed: run `npm install --save-dev kinesis-local` in your project');
}

/** True when something accepts TCP connections on 127.0.0.1:`port` (a local server is up). */
export function isPortListening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
