/**
 * The real KCL MultiLangDaemon as a child process of a test: started from a properties file with the emulators'
 * dummy credentials, its output appended to a log file, stopped with SIGTERM (SIGKILL after 30 s).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync } from 'node:fs';
import { type ConsumerDefinition } from '../../src/decorators/metadata-types';
import { buildDaemonCommand } from '../../src/kcl-daemon/kcl-daemon-launcher';
import { buildKclProperties, type KclProperty } from '../../src/kcl-daemon/kcl-properties';
import { DEFAULT_KCL_JARS, PACKAGE_ROOT } from '../../src/kcl-daemon/kcl-paths';
import { kinesisEndpoint, motoEndpoint, TEST_CREDENTIALS, TEST_REGION } from './endpoints';

/** A running daemon. */
export interface TestDaemon {
  readonly child: ChildProcess;
  /** The file the daemon's output goes to. */
  readonly log: string;
  /** Resolves with the exit code when the daemon exits. */
  readonly exited: Promise<number | null>;
  /** SIGTERM, then SIGKILL after 30 s; resolves when it has exited. Safe to call twice. */
  stop(): Promise<void>;
  /** SIGKILL at once, for cleanup after a failed test. */
  kill(): void;
}

/** Starts the daemon on `propertiesFile`, logging to `logFile`, with `env` added to the environment (the consumer's too). */
export function startTestDaemon(propertiesFile: string, logFile: string, env: Record<string, string>): TestDaemon {
  const fd = openSync(logFile, 'a');
  const { command, args } = buildDaemonCommand({ propertiesFile, jarsDir: DEFAULT_KCL_JARS });
  const child = spawn(command, args, {
    cwd: PACKAGE_ROOT,
    stdio: ['ignore', fd, fd],
    env: {
      ...process.env,
      AWS_ACCESS_KEY_ID: TEST_CREDENTIALS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: TEST_CREDENTIALS.secretAccessKey,
      AWS_REGION: TEST_REGION,
      ...env,
    },
  });
  closeSync(fd);
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  return {
    child,
    log: logFile,
    exited,
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exited;
      clearTimeout(timer);
    },
    kill: () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

/** What differs between daemon tests: the consumer, its stream and application, the worker, the child command. */
export interface TestDaemonPropertiesInput {
  readonly definition: ConsumerDefinition;
  readonly streamName: string;
  readonly applicationName: string;
  readonly workerId: string;
  /** The child command, e.g. `node bin/shardline.js run <fixture> --adapter kcl`. */
  readonly executable: string;
  readonly extra?: ReadonlyArray<readonly [string, string]>;
}

/**
 * Daemon properties for the local emulators (kinesis-local, moto for the lease table), metrics off, polling, and
 * short intervals so that leases are taken and shards synced within seconds.
 */
export function testDaemonProperties(input: TestDaemonPropertiesInput): KclProperty[] {
  return buildKclProperties({
    definition: input.definition,
    streamName: input.streamName,
    executable: input.executable,
    retrievalMode: 'POLLING',
    shutdownGraceMs: 5_000,
    kinesisEndpoint: kinesisEndpoint(),
    dynamoDbEndpoint: motoEndpoint(),
    metricsLevel: 'NONE',
    workerId: input.workerId,
    credentialsProvider: 'EnvironmentVariableCredentialsProvider',
    region: TEST_REGION,
    extra: [
      ['applicationName', input.applicationName],
      ['idleTimeBetweenReadsInMillis', '250'],
      ['shardSyncIntervalMillis', '1000'],
      ['parentShardPollIntervalMillis', '500'],
      ['failoverTimeMillis', '5000'],
      ['leaseAssignmentIntervalMillis', '1000'],
      ...(input.extra ?? []),
    ],
  });
}
