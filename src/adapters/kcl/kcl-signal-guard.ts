import { type Logger } from '../../core/logger';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/**
 * Keeps a KCL child alive on SIGINT/SIGTERM/SIGHUP. The daemon's children share its process group, so a Ctrl-C or
 * a `kill -TERM` of the group reaches them too; the daemon then still needs them to answer `shutdownRequested` and
 * `leaseLost` (it waits for their status with no timeout). The child ends when the daemon closes its stdin.
 * @returns a function that removes the handlers.
 */
export function deferSignalsToDaemon(logger: Logger): () => void {
  const handlers = SIGNALS.map((signal) => {
    const handler = (): void => {
      logger.info(`Received ${signal}: ignored, the KCL daemon drives shutdown (this child exits when the daemon closes its stdin)`);
    };
    process.on(signal, handler);
    return [signal, handler] as const;
  });
  return () => {
    for (const [signal, handler] of handlers) process.off(signal, handler);
  };
}
