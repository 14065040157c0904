/**
 * Runs a chaos fixture consumer with the BUILT CLI (`node bin/shardline.js run <fixture> --adapter polling …`) as a
 * child process, and keeps the history the delivery checker needs: every process's pid and how it ended (kill -9 or
 * a graceful stop). Each process's stderr goes to its own file in the scenario's folder, for failure messages.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type RunEnding } from './delivery-checker';
import { HANDLED_LOG_ENV } from './handled-log';

/** The repository root (bin/ and dist/ live there). */
export const ROOT = join(__dirname, '..', '..', '..');

/** Fails with what to run when the CLI was not built (the chaos suite runs dist/). */
export function requireBuiltCli(): void {
  if (!existsSync(join(ROOT, 'dist', 'cli', 'main.js'))) throw new Error('run `npm run build` first: the chaos suite runs bin/shardline.js (dist/)');
}

/** What stays the same across the restarts of one scenario. */
export interface ConsumerSpec {
  /** The fixture module (absolute path). */
  readonly fixture: string;
  readonly stream: string;
  /** Kinesis endpoint (kinesalite). */
  readonly endpoint: string;
  /** `--checkpoints` value, e.g. `file:/tmp/x/checkpoints`. */
  readonly checkpoints: string;
  /** The handled-records log the fixture appends to. */
  readonly handledLog: string;
  /** Folder for the processes' stderr files. */
  readonly dir: string;
  /** More environment for the consumer (fixture settings). */
  readonly env?: Readonly<Record<string, string>>;
  /** More CLI arguments. */
  readonly args?: readonly string[];
}

/** One consumer process. */
export interface ConsumerProcess {
  readonly pid: number;
  readonly child: ChildProcess;
  readonly stderrFile: string;
  /** Resolves with the exit code (null when killed by a signal). */
  readonly exited: Promise<number | null>;
}

/** The processes of one scenario, started one after the other. */
export class ConsumerRuns {
  /** How each process ended, by pid (the checker's `endings`). */
  readonly endings = new Map<number, RunEnding>();
  private readonly processes: ConsumerProcess[] = [];
  private crashCount = 0;

  constructor(private readonly spec: ConsumerSpec) {}

  /** Crashes so far (kill -9). */
  get crashes(): number {
    return this.crashCount;
  }

  /** The process running now, if any. */
  get current(): ConsumerProcess | undefined {
    const last = this.processes.at(-1);
    return last !== undefined && last.child.exitCode === null && last.child.signalCode === null ? last : undefined;
  }

  /** Starts a new consumer process (the previous one must have ended). */
  start(): ConsumerProcess {
    if (this.current !== undefined) throw new Error(`consumer pid ${this.current.pid} is still running`);
    const stderrFile = join(this.spec.dir, `consumer-${this.processes.length + 1}.stderr.log`);
    const fd = openSync(stderrFile, 'a');
    const child = spawn(
      process.execPath,
      [
        join(ROOT, 'bin', 'shardline.js'),
        'run',
        this.spec.fixture,
        '--adapter',
        'polling',
        '--stream',
        this.spec.stream,
        '--endpoint',
        this.spec.endpoint,
        '--region',
        'us-east-1',
        '--checkpoints',
        this.spec.checkpoints,
        '--log-level',
        'info',
        ...(this.spec.args ?? []),
      ],
      {
        cwd: ROOT,
        env: { ...process.env, ...this.spec.env, [HANDLED_LOG_ENV]: this.spec.handledLog, CHAOS_STREAM: this.spec.stream },
        stdio: ['ignore', 'ignore', fd],
      },
    );
    closeSync(fd);
    if (child.pid === undefined) throw new Error('the consumer process did not start');
    const exited = new Promise<number | null>((resolve) => {
      child.once('exit', (code) => resolve(code));
    });
    const started: ConsumerProcess = { pid: child.pid, child, stderrFile, exited };
    this.processes.push(started);
    return started;
  }

  /** kill -9 of the running process; resolves once it is gone. */
  async kill9(): Promise<void> {
    const running = this.current;
    if (running === undefined) return;
    running.child.kill('SIGKILL');
    await running.exited;
    this.endings.set(running.pid, 'killed');
    this.crashCount++;
  }

  /**
   * SIGTERM to the running process; resolves with its exit code once it is gone. After `boundMs` it is killed with
   * SIGKILL (and the result is null), so a hanging stop fails the scenario instead of hanging it.
   */
  async terminate(boundMs = 40_000): Promise<number | null> {
    const running = this.current;
    if (running === undefined) return null;
    running.child.kill('SIGTERM');
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([
      running.exited,
      new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), boundMs);
      }),
    ]);
    clearTimeout(timer);
    if (code === 'timeout') {
      running.child.kill('SIGKILL');
      await running.exited;
      this.endings.set(running.pid, 'killed');
      this.crashCount++;
      return null;
    }
    this.endings.set(running.pid, code === 0 ? 'stopped' : 'killed');
    return code;
  }

  /** SIGKILL whatever still runs (cleanup after a failed scenario). */
  async cleanup(): Promise<void> {
    const running = this.current;
    if (running === undefined) return;
    running.child.kill('SIGKILL');
    await running.exited;
  }

  /** The last `lines` lines of every process's stderr, for a failure message. */
  stderrTail(lines = 15): string {
    return this.processes
      .map((p) => {
        const text = existsSync(p.stderrFile) ? readFileSync(p.stderrFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n') : '';
        return `--- consumer pid ${p.pid} (${p.stderrFile}) ---\n${text}`;
      })
      .join('\n');
  }
}
