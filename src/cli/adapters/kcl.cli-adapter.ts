import { KclRecordSource } from '../../adapters/kcl/kcl-record-source';
import { deferSignalsToDaemon } from '../../adapters/kcl/kcl-signal-guard';
import { reserveStdoutForProtocol } from '../../adapters/kcl/kcl-stdout-guard';
import { ConfigurationError } from '../../core/errors';
import { type CliAdapter } from '../cli-adapter';

type StdoutGuard = ReturnType<typeof reserveStdoutForProtocol>;
let guard: StdoutGuard | undefined;

/**
 * `--adapter kcl`: this process is a child of the KCL MultiLangDaemon, which gives it one shard lease and talks JSON
 * lines on stdin/stdout. stdout is reserved for the protocol (anything else written there goes to stderr), signals do
 * not stop the child (the daemon drives shutdown), and the run ends with exit code 0 when the daemon closes stdin.
 */
export const kclCliAdapter: CliAdapter = {
  name: 'kcl',
  description: 'child of the KCL MultiLangDaemon (JSON lines on stdin/stdout)',
  maxConsumers: 1,
  prepare: () => {
    guard ??= reserveStdoutForProtocol();
  },
  setup: (consumers, options, { logger }) => {
    const consumer = consumers[0];
    if (consumer === undefined) return Promise.reject(new ConfigurationError('the kcl adapter needs one @Consumer class'));
    const stdout = (guard ??= reserveStdoutForProtocol());
    const restoreSignals = deferSignalsToDaemon(logger);
    const source = new KclRecordSource({
      input: process.stdin,
      output: stdout.protocolOutput,
      streamName: options.stream ?? consumer.options.streamName,
      logger,
    });
    return Promise.resolve({
      sources: [source],
      handleSignals: false,
      stdoutReserved: true,
      dispose: () => {
        restoreSignals();
        stdout.restore();
        guard = undefined;
        return Promise.resolve();
      },
    });
  },
};
