import { inspect } from 'node:util';
import winston from 'winston';
import Transport from 'winston-transport';
import { type LogLevel, type LogOptions } from './log-options';
import { secretMask } from './secret-mask';

/** A logger, bound to a shard or not. Metadata is optional; secret values are masked in messages and metadata. */
export interface Logger {
  error(message: string, meta?: Record<string, unknown>): void;
  warn(message: string, meta?: Record<string, unknown>): void;
  info(message: string, meta?: Record<string, unknown>): void;
  debug(message: string, meta?: Record<string, unknown>): void;
  trace(message: string, meta?: Record<string, unknown>): void;
  /** A logger whose lines carry these fields too (the shard id is printed in the seed's format). */
  child(bindings: { shardId?: string } & Record<string, unknown>): Logger;
  isLevelEnabled(level: LogLevel): boolean;
}

/** The root logger of an app; closing it flushes the log file. */
export interface AppLogger extends Logger {
  close(): Promise<void>;
}

const LEVELS: Record<LogLevel, number> = { error: 0, warn: 1, info: 2, debug: 3, trace: 4 };
const MESSAGE = Symbol.for('message');

function utcStamp(date: Date): string {
  return date.toISOString().slice(0, 19).replace('T', ' ');
}

const maskFormat = winston.format((info) => {
  if (secretMask.empty) return info;
  info.message = secretMask.maskText(String(info.message));
  for (const key of Object.keys(info)) {
    if (key !== 'level' && key !== 'message') info[key] = secretMask.maskValue(info[key]);
  }
  return info;
});

/** `INFO [2017-03-05 03:35:23 UTC] shardId-000000000000 Received 2 records from Kinesis` */
const textFormat = winston.format.printf((info) => {
  const { level, message, shardId, timestamp: _t, ...withSymbols } = info;
  // Only string keys: winston's Symbol(splat) holds the caller's meta before masking, so it must never be printed.
  const rest = Object.fromEntries(Object.entries(withSymbols));
  const meta = Object.keys(rest).length > 0 ? ` ${inspect(rest, { breakLength: Infinity, depth: 4 })}` : '';
  const shard = typeof shardId === 'string' ? `${shardId} ` : '';
  return `${level.toUpperCase()} [${utcStamp(new Date())} UTC] ${shard}${String(message)}${meta}`;
});

const jsonFormat = winston.format.combine(
  winston.format.timestamp(),
  winston.format.errors({ stack: true }),
  winston.format.json(),
);

/** A winston transport that hands each formatted line to a function (the testing kit reads logs back with it). */
class LineSink extends Transport {
  constructor(private readonly sink: (line: string, level: string) => void) {
    super();
  }
  override log(info: Record<string | symbol, unknown>, next: () => void): void {
    this.sink(String(info[MESSAGE]), String(info.level));
    next();
  }
}

/** Options of {@link createLogger} beyond the user's {@link LogOptions}. */
export interface LoggerExtras {
  /** Receives every formatted line (used by the testing kit). */
  readonly sink?: (line: string, level: string) => void;
  /** Forbid stdout (KCL mode): `destination: 'stdout'` is turned into stderr. */
  readonly stdoutReserved?: boolean;
}

class WinstonLogger implements Logger {
  constructor(protected readonly inner: winston.Logger) {}
  error(message: string, meta?: Record<string, unknown>): void {
    this.inner.log('error', message, meta);
  }
  warn(message: string, meta?: Record<string, unknown>): void {
    this.inner.log('warn', message, meta);
  }
  info(message: string, meta?: Record<string, unknown>): void {
    this.inner.log('info', message, meta);
  }
  debug(message: string, meta?: Record<string, unknown>): void {
    this.inner.log('debug', message, meta);
  }
  trace(message: string, meta?: Record<string, unknown>): void {
    this.inner.log('trace', message, meta);
  }
  child(bindings: { shardId?: string } & Record<string, unknown>): Logger {
    return new WinstonLogger(this.inner.child(bindings));
  }
  isLevelEnabled(level: LogLevel): boolean {
    return this.inner.isLevelEnabled(level);
  }
}

class RootLogger extends WinstonLogger implements AppLogger {
  close(): Promise<void> {
    return new Promise((resolve) => {
      const fileTransports = this.inner.transports.filter((t) => t instanceof winston.transports.File);
      if (fileTransports.length === 0) {
        this.inner.close();
        resolve();
        return;
      }
      let pending = fileTransports.length;
      for (const transport of fileTransports) {
        transport.once('finish', () => {
          if (--pending === 0) resolve();
        });
      }
      this.inner.end();
      // A transport that never finishes must not keep shutdown waiting.
      setTimeout(resolve, 2_000).unref();
    });
  }
}

/**
 * Creates a logger from {@link LogOptions}. Lines go to stderr by default, to `file` when one is given, and never to
 * stdout unless `destination: 'stdout'` is asked for outside KCL mode.
 */
export function createLogger(options: LogOptions = {}, extras: LoggerExtras = {}): AppLogger {
  const format = winston.format.combine(maskFormat(), options.format === 'json' ? jsonFormat : textFormat);
  const transports: Transport[] = [];
  let destination = options.destination ?? (options.file === undefined ? 'stderr' : 'none');
  if (destination === 'stdout' && extras.stdoutReserved === true) destination = 'stderr';
  // process.stderr/stdout themselves, not winston's Console transport: it writes to `console._stderr`, which is stdout
  // wherever the global console was replaced (jest does), and stdout may belong to the KCL protocol.
  if (destination === 'stderr') {
    transports.push(new winston.transports.Stream({ stream: process.stderr }));
  } else if (destination === 'stdout') {
    transports.push(new winston.transports.Stream({ stream: process.stdout }));
  }
  if (options.file !== undefined) transports.push(new winston.transports.File({ filename: options.file }));
  if (extras.sink !== undefined) transports.push(new LineSink(extras.sink));
  if (transports.length === 0) transports.push(new winston.transports.Console({ stderrLevels: Object.keys(LEVELS), silent: true }));
  const inner = winston.createLogger({ levels: LEVELS, level: options.level ?? 'info', format, transports, exitOnError: false });
  return new RootLogger(inner);
}

