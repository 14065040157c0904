import { Writable } from 'node:stream';

/** stdout reserved for the KCL protocol: see {@link reserveStdoutForProtocol}. */
export interface KclStdoutGuard {
  /** The only way left to write to the real stdout: give it to the {@link KclRecordSource}. */
  readonly protocolOutput: Writable;
  /** Puts `process.stdout.write` back. */
  restore(): void;
}

type WriteFn = (chunk: string | Uint8Array, encodingOrCallback?: BufferEncoding | ((error?: Error | null) => void), callback?: (error?: Error | null) => void) => boolean;

/**
 * Reserves the process's stdout for protocol lines: from now on anything else written there (a stray `console.log`
 * in user code, a library printing to stdout) goes to stderr instead, where the daemon logs it, and the returned
 * `protocolOutput` is the only writer of the real stdout. Under the daemon a foreign line on stdout is skipped at
 * best and fills the pipe between actions at worst.
 */
export function reserveStdoutForProtocol(stdout: NodeJS.WriteStream = process.stdout, stderr: NodeJS.WriteStream = process.stderr): KclStdoutGuard {
  const target = stdout as unknown as { write: WriteFn };
  const original = target.write;
  const originalWrite: WriteFn = (chunk, encodingOrCallback, callback) => original.call(stdout, chunk, encodingOrCallback, callback);
  const errTarget = stderr as unknown as { write: WriteFn };
  const toStderr: WriteFn = (chunk, encodingOrCallback, callback) => errTarget.write.call(stderr, chunk, encodingOrCallback, callback);
  target.write = toStderr;
  const protocolOutput = new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, callback): void {
      // Pipes are written synchronously on Linux: the line is out before the callback, so nothing waits in a buffer.
      originalWrite(chunk);
      callback();
    },
  });
  const onError = (error: Error): void => {
    protocolOutput.destroy(error);
  };
  stdout.on('error', onError);
  return {
    protocolOutput,
    restore: () => {
      stdout.off('error', onError);
      if (target.write === toStderr) target.write = original;
    },
  };
}
