import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { ConfigurationError, ShardlineError } from '../core/errors';
import { KCL_MAIN_CLASS, listJars, pinnedKclVersion } from './kcl-paths';

/** The daemon's jars could not be fetched, or the daemon could not be started or failed. */
export class KclDaemonError extends ShardlineError {}

const INSTALL_HINTS: Record<string, string> = {
  java: 'install a Java runtime 8 or newer (Debian/Ubuntu: apt-get install default-jre-headless; macOS: brew install openjdk) and make sure `java` is on PATH',
  mvn: 'install Maven (Debian/Ubuntu: apt-get install maven; macOS: brew install maven) and make sure `mvn` is on PATH',
};

/**
 * Checks that a tool runs (`java -version`, `mvn -v`).
 * @throws ConfigurationError saying how to install it when it is missing.
 */
export function requireTool(command: 'java' | 'mvn', args: readonly string[], why: string): void {
  const result = spawnSync(command, [...args], { stdio: 'ignore' });
  const error: NodeJS.ErrnoException | undefined = result.error;
  if (error?.code === 'ENOENT') throw new ConfigurationError(`${command} was not found, and ${why}: ${INSTALL_HINTS[command]}`);
  if (error !== undefined) throw new ConfigurationError(`${command} could not be run (${error.message}), and ${why}: ${INSTALL_HINTS[command]}`);
  if (result.status !== 0) throw new ConfigurationError(`\`${command} ${args.join(' ')}\` failed with exit code ${result.status}, and ${why}: check the installation (${INSTALL_HINTS[command]})`);
}

/** Result of {@link bootstrapKclJars}. */
export interface KclBootstrapResult {
  readonly version: string | undefined;
  readonly jars: readonly string[];
}

/**
 * Copies the daemon's runtime jars (the version pinned in the pom) into `jarsDir` with Maven:
 * `mvn -q -B -f <pom> dependency:copy-dependencies -DoutputDirectory=<jarsDir>`.
 */
export function bootstrapKclJars(pom: string, jarsDir: string): KclBootstrapResult {
  if (!existsSync(pom)) throw new ConfigurationError(`the daemon's pom ${pom} does not exist: reinstall shardline, or pass --pom <file>`);
  requireTool('java', ['-version'], 'the KCL daemon is a Java program');
  requireTool('mvn', ['-v'], 'shardline fetches the daemon\'s jars with it');
  const args = ['-q', '-B', '-f', pom, 'dependency:copy-dependencies', `-DoutputDirectory=${path.resolve(jarsDir)}`];
  const result = spawnSync('mvn', args, { stdio: ['ignore', 'inherit', 'inherit'] });
  if (result.status !== 0) {
    throw new KclDaemonError(`\`mvn ${args.join(' ')}\` failed (exit code ${result.status ?? result.signal}): read Maven's output above (a proxy or an offline machine needs ~/.m2/settings.xml)`);
  }
  const jars = listJars(jarsDir);
  if (!jars.some((jar) => path.basename(jar).startsWith('amazon-kinesis-client-multilang-'))) {
    throw new KclDaemonError(`Maven finished but ${jarsDir} has no amazon-kinesis-client-multilang jar: check ${pom}`);
  }
  return { version: pinnedKclVersion(pom), jars };
}

/** Options of {@link buildDaemonCommand}. */
export interface KclDaemonCommandOptions {
  readonly propertiesFile: string;
  readonly jarsDir: string;
  /** A logback.xml for the daemon's own logs. */
  readonly logConfiguration?: string;
  /** Default `java`. */
  readonly java?: string;
}

/** The command line that starts the daemon: `java -Dfile.encoding=UTF-8 -cp <jars>:<properties dir> MultiLangDaemon --properties-file <file>`. */
export function buildDaemonCommand(options: KclDaemonCommandOptions): { command: string; args: string[] } {
  const propertiesFile = path.resolve(options.propertiesFile);
  if (!existsSync(propertiesFile)) {
    throw new ConfigurationError(`the properties file ${options.propertiesFile} does not exist: write one with \`shardline kcl properties <module> -o ${options.propertiesFile}\``);
  }
  const jars = listJars(options.jarsDir);
  if (!jars.some((jar) => path.basename(jar).startsWith('amazon-kinesis-client-multilang-'))) {
    throw new ConfigurationError(`no KCL daemon jars in ${options.jarsDir}: run \`shardline kcl bootstrap\` first (it needs Java and Maven)`);
  }
  // Java expands `dir/*` to every jar in dir (no shell involved): a short command line whatever the jar count.
  const classpath = [path.join(path.resolve(options.jarsDir), '*'), path.dirname(propertiesFile)].join(path.delimiter);
  const args = ['-Dfile.encoding=UTF-8', '-cp', classpath, KCL_MAIN_CLASS, '--properties-file', propertiesFile];
  if (options.logConfiguration !== undefined) args.push('--log-configuration', path.resolve(options.logConfiguration));
  return { command: options.java ?? 'java', args };
}

/**
 * Runs the daemon in the foreground (its output on this terminal) and resolves with its exit code. SIGINT, SIGTERM and
 * SIGHUP sent to this process are passed to the daemon, which then shuts down its children (within
 * `shutdownGraceMillis`); this process waits for it.
 */
export function runDaemon(command: { command: string; args: readonly string[] }, cwd: string = process.cwd()): Promise<number> {
  requireTool('java', ['-version'], 'the KCL daemon is a Java program');
  return new Promise<number>((resolve, reject) => {
    const child = spawn(command.command, [...command.args], { cwd, stdio: 'inherit' });
    const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
    const forward = (signal: NodeJS.Signals): void => {
      child.kill(signal);
    };
    for (const signal of signals) process.on(signal, forward);
    const cleanup = (): void => {
      for (const signal of signals) process.off(signal, forward);
    };
    child.on('error', (error) => {
      cleanup();
      reject(new KclDaemonError(`could not start the KCL daemon (${error.message}): check that ${command.command} runs`));
    });
    child.on('exit', (code, signal) => {
      cleanup();
      resolve(code ?? (signal === null ? 1 : 128 + (signalNumber(signal) ?? 0)));
    });
  });
}

function signalNumber(signal: NodeJS.Signals): number | undefined {
  return ({ SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 } as Partial<Record<NodeJS.Signals, number>>)[signal];
}
