import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
import { exploreConsumer } from '../../core/consumer-explorer';
import { ConfigurationError, ShardlineError } from '../../core/errors';
import { bootstrapKclJars, buildDaemonCommand, runDaemon } from '../../kcl-daemon/kcl-daemon-launcher';
import { DEFAULT_KCL_JARS, DEFAULT_KCL_POM, PACKAGE_ROOT } from '../../kcl-daemon/kcl-paths';
import { buildKclProperties, formatKclProperties, KCL_PROPERTY_KEYS, type KclRetrievalMode } from '../../kcl-daemon/kcl-properties';
import { KCL_TAKEOVER_PROFILES, kclTakeoverNotes, type KclTakeoverProfile } from '../../kcl-daemon/kcl-takeover-profile';
import { loadConsumers } from '../load-consumers';

interface PropertiesOptions {
  readonly output?: string;
  readonly consumer?: string;
  readonly stream?: string;
  readonly region?: string;
  readonly kinesisEndpoint?: string;
  readonly dynamodbEndpoint?: string;
  readonly cloudwatchEndpoint?: string;
  readonly retrievalMode: KclRetrievalMode;
  readonly shutdownGraceMs: number;
  readonly metricsLevel?: 'NONE' | 'SUMMARY' | 'DETAILED';
  readonly workerId?: string;
  readonly credentials?: string;
  readonly executable?: string;
  readonly childLogFile?: string;
  readonly takeover?: KclTakeoverProfile;
  readonly set: Array<[string, string]>;
}

function parseNonNegativeInteger(value: string): number {
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(Number(value))) throw new InvalidArgumentError(`expected a whole number of milliseconds, got "${value}"`);
  return Number(value);
}

function collectSetting(value: string, previous: Array<[string, string]>): Array<[string, string]> {
  const at = value.indexOf('=');
  if (at <= 0) throw new InvalidArgumentError(`expected key=value (e.g. idleTimeBetweenReadsInMillis=250), got "${value}"`);
  const key = value.slice(0, at).trim();
  if (!KCL_PROPERTY_KEYS.has(key)) {
    throw new InvalidArgumentError(`unknown KCL property "${key}": the daemon would ignore it silently (keys are case-sensitive, e.g. idleTimeBetweenReadsInMillis; see docs/kcl.md)`);
  }
  return [...previous, [key, value.slice(at + 1).trim()]];
}

/** A path as the daemon should see it: relative to the current folder when inside it (the daemon runs children there). */
function displayPath(file: string): string {
  const relative = path.relative(process.cwd(), file);
  return relative !== '' && !relative.startsWith('..') && !path.isAbsolute(relative) ? relative : file;
}

/** The command the daemon runs for each shard: `node <shardline bin> run <module> --adapter kcl …`. */
function defaultExecutable(modulePath: string, options: PropertiesOptions): string {
  const parts = ['node', displayPath(path.join(PACKAGE_ROOT, 'bin', 'shardline.js')), 'run', displayPath(path.resolve(modulePath)), '--adapter', 'kcl'];
  if (options.consumer !== undefined) parts.push('--consumer', options.consumer);
  if (options.stream !== undefined) parts.push('--stream', options.stream);
  if (options.childLogFile !== undefined) parts.push('--log-file', displayPath(path.resolve(options.childLogFile)));
  const withSpace = parts.find((part) => /\s/.test(part));
  if (withSpace !== undefined) {
    throw new ConfigurationError(
      `"${withSpace}" contains a space, but the daemon splits executableName on spaces (no shell, no quotes): move the files to a path without spaces or give --executable with a wrapper script`,
    );
  }
  return parts.join(' ');
}

function propertiesCommand(): Command {
  return new Command('properties')
    .description("write the daemon's properties file for a module's @Consumer (keys generated, so none is misspelled)")
    .argument('<module>', 'the .ts or .js file exporting the @Consumer class the daemon should run')
    .option('-o, --output <file>', 'write to this file (default: stdout)')
    .option('-c, --consumer <class>', 'the consumer class, when the module exports several')
    .option('--stream <name>', 'stream name or ARN (default: @Consumer streamName)')
    .option('--region <region>', 'AWS region (default: @Consumer region, else AWS_REGION, else us-east-1)')
    .option('--kinesis-endpoint <url>', 'Kinesis endpoint, e.g. http://127.0.0.1:4568 for kinesis-local (it must speak HTTP/2)')
    .option('--dynamodb-endpoint <url>', 'DynamoDB endpoint for the lease table, e.g. http://127.0.0.1:5000 for moto')
    .option('--cloudwatch-endpoint <url>', 'CloudWatch endpoint for the daemon\'s metrics')
    .addOption(new Option('--retrieval-mode <mode>', 'how the daemon reads shards').choices(['POLLING', 'FANOUT']).default('POLLING'))
    .option('--shutdown-grace-ms <ms>', 'how long the daemon lets children checkpoint on SIGTERM (the daemon\'s own default, 0, gives them none)', parseNonNegativeInteger, 30_000)
    .addOption(new Option('--metrics-level <level>', 'CloudWatch metrics (default: NONE when --kinesis-endpoint is local and no --cloudwatch-endpoint)').choices(['NONE', 'SUMMARY', 'DETAILED']))
    .option('--worker-id <id>', 'a fixed worker id (default: a random one per daemon start)')
    .option('--credentials <provider>', 'AwsCredentialsProvider, e.g. EnvironmentVariableCredentialsProvider or ProfileCredentialsProvider|name', 'DefaultCredentialsProvider')
    .option('--executable <command>', 'the command the daemon runs per shard (default: node <shardline> run <module> --adapter kcl)')
    .option('--child-log-file <path>', 'make the children log to this file instead of stderr (the daemon logs each stderr line as an ERROR)')
    .addOption(
      new Option('--takeover <profile>', "how fast a dead worker's shards move to the others: fast (a killed worker's shards reassigned in about 10 s instead of 30-40 s; more DynamoDB writes) or default (the daemon's own values, written out); each value is explained in the file (see docs/scaling.md)")
        .choices([...KCL_TAKEOVER_PROFILES]),
    )
    .option('--set <key=value>', 'any other daemon property (repeatable; unknown keys are refused; overrides --takeover)', collectSetting, [])
    .addHelpText(
      'after',
      `
Examples:
  shardline kcl properties app.ts -o app.properties
  shardline kcl properties app.ts --kinesis-endpoint http://127.0.0.1:4568 --dynamodb-endpoint http://127.0.0.1:5000 \\
      --credentials EnvironmentVariableCredentialsProvider --worker-id local-1 --set idleTimeBetweenReadsInMillis=250 -o local.properties
  shardline kcl properties app.ts --takeover fast -o app.properties   # several daemons: a killed one's shards move in ~10 s

Paths in executableName are relative to the current folder: start the daemon (shardline kcl start) from here.`,
    )
    .action((modulePath: string, raw: Record<string, unknown>) => {
      const options = raw as unknown as PropertiesOptions;
      const classes = loadConsumers(modulePath, options.consumer);
      if (classes.length > 1) {
        throw new ConfigurationError(`${modulePath} exports ${classes.length} consumers (${classes.map((c) => c.name).join(', ')}): pick one with --consumer (the daemon runs one per child)`);
      }
      const definition = exploreConsumer(classes[0]!);
      const local = options.kinesisEndpoint !== undefined && options.cloudwatchEndpoint === undefined;
      const metricsLevel = options.metricsLevel ?? (local ? 'NONE' : undefined);
      const props = buildKclProperties({
        definition,
        executable: options.executable ?? defaultExecutable(modulePath, options),
        retrievalMode: options.retrievalMode,
        shutdownGraceMs: options.shutdownGraceMs,
        extra: options.set,
        ...(options.stream !== undefined ? { streamName: options.stream } : {}),
        ...(options.region !== undefined ? { region: options.region } : {}),
        ...(options.kinesisEndpoint !== undefined ? { kinesisEndpoint: options.kinesisEndpoint } : {}),
        ...(options.dynamodbEndpoint !== undefined ? { dynamoDbEndpoint: options.dynamodbEndpoint } : {}),
        ...(options.cloudwatchEndpoint !== undefined ? { cloudWatchEndpoint: options.cloudwatchEndpoint } : {}),
        ...(metricsLevel !== undefined ? { metricsLevel } : {}),
        ...(options.workerId !== undefined ? { workerId: options.workerId } : {}),
        ...(options.credentials !== undefined ? { credentialsProvider: options.credentials } : {}),
        ...(options.takeover !== undefined ? { takeover: options.takeover } : {}),
      });
      const text = formatKclProperties(props, [
        `KCL MultiLangDaemon properties for ${definition.name}, written by shardline kcl properties.`,
        'Start the daemon from the folder this was generated in: shardline kcl start <this file>',
      ], options.takeover !== undefined ? kclTakeoverNotes(options.takeover, props) : new Map());
      if (options.output === undefined) {
        process.stdout.write(text);
      } else {
        writeFileSync(options.output, text);
        process.stderr.write(`Wrote ${options.output} (start the daemon with: shardline kcl start ${options.output})\n`);
      }
    });
}

function bootstrapCommand(): Command {
  return new Command('bootstrap')
    .description("fetch the KCL MultiLangDaemon's jars (version pinned in kcl/pom.xml) with Maven")
    .option('--pom <file>', 'the pom to resolve', DEFAULT_KCL_POM)
    .option('--jars <dir>', 'where to put the jars', DEFAULT_KCL_JARS)
    .addHelpText('after', '\nNeeds java and mvn on PATH. Runs: mvn -q -B -f <pom> dependency:copy-dependencies -DoutputDirectory=<jars>')
    .action((options: { pom: string; jars: string }) => {
      const result = bootstrapKclJars(options.pom, options.jars);
      process.stdout.write(`Copied ${result.jars.length} jars of amazon-kinesis-client-multilang ${result.version ?? '(version unknown)'} to ${options.jars}\n`);
    });
}

function startCommand(): Command {
  return new Command('start')
    .description('start the KCL MultiLangDaemon with a properties file (it runs your consumer as its children)')
    .argument('<properties>', 'the properties file (see shardline kcl properties)')
    .option('--jars <dir>', "the daemon's jars (see shardline kcl bootstrap)", DEFAULT_KCL_JARS)
    .option('--log-configuration <file>', "a logback.xml for the daemon's own logs")
    .option('--java <path>', 'the java executable', 'java')
    .option('--print', 'print the java command line instead of running it')
    .addHelpText('after', '\nRun it from the folder the properties were generated in (executableName paths are relative to it).\nCtrl-C / SIGTERM are passed to the daemon, which lets the children checkpoint for shutdownGraceMillis.')
    .action(async (propertiesFile: string, options: { jars: string; logConfiguration?: string; java: string; print?: boolean }) => {
      const command = buildDaemonCommand({
        propertiesFile,
        jarsDir: options.jars,
        java: options.java,
        ...(options.logConfiguration !== undefined ? { logConfiguration: options.logConfiguration } : {}),
      });
      if (options.print === true) {
        process.stdout.write(`${[command.command, ...command.args].map((a) => (/[\s'"*]/.test(a) ? `'${a}'` : a)).join(' ')}\n`);
        return;
      }
      const code = await runDaemon(command);
      if (code !== 0) throw new ShardlineError(`the KCL daemon exited with code ${code}: read its log above (it logs to stdout)`);
    });
}

/** `shardline kcl`: run consumers under the KCL MultiLangDaemon. */
export function kclCommand(): Command {
  return new Command('kcl')
    .description('run under the KCL MultiLangDaemon: generate properties, fetch the daemon, start it')
    .addCommand(propertiesCommand())
    .addCommand(bootstrapCommand())
    .addCommand(startCommand())
    .addHelpText('after', `
Typical use:
  shardline kcl bootstrap                          # once: fetch the daemon's jars (needs java and mvn)
  shardline kcl properties app.ts -o app.properties
  shardline kcl start app.properties               # the daemon runs: shardline run app.ts --adapter kcl, one per shard`);
}
