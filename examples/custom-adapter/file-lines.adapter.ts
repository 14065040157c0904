import path from 'node:path';
import { UsageError, type CliAdapter } from 'shardline';
import { FileLinesSource } from './file-lines-source';

/** Reads a positive whole number option, or refuses the command line (exit 2) saying what is expected. */
function positive(options: Readonly<Record<string, string>>, key: string, fallback: number): number {
  const text = options[key];
  if (text === undefined) return fallback;
  const value = Number(text);
  if (!/^\d+$/.test(text) || value <= 0) throw new UsageError(`--adapter-option ${key}=${text}: expected a positive whole number`);
  return value;
}

/**
 * `shardline run app.ts --adapter ./examples/custom-adapter/file-lines.adapter.ts --adapter-option files=a.log,b.log`:
 * each file is a shard and each of its lines a record. Options (`--adapter-option key=value`):
 * - `files` (required): comma-separated paths, relative to the working directory;
 * - `follow` (`true`/`false`, default false): keep reading appended lines, or end each shard at the end of its file
 *   (the run then ends by itself once every file was read);
 * - `checkpoints` (default `.shardline/file-lines.json`): the checkpoint file, so that a second run resumes;
 * - `pollIntervalMs` (default 200) and `maxBatchLines` (default 100).
 * Environment variables work too: `SHARDLINE_FILE_LINES_FILES` stands for `files` when the option is not given.
 */
export const adapter: CliAdapter = {
  name: 'file-lines',
  description: 'each file is a shard, each line a record (an example plug-in)',
  setup: (consumers, options, { logger }) => {
    const given = options.adapterOptions ?? {};
    const files = (given['files'] ?? process.env.SHARDLINE_FILE_LINES_FILES ?? '').split(',').filter((file) => file !== '');
    if (files.length === 0) return Promise.reject(new UsageError('the file-lines adapter needs files to read: --adapter-option files=a.log,b.log'));
    const follow = given['follow'] ?? 'false';
    if (follow !== 'true' && follow !== 'false') return Promise.reject(new UsageError(`--adapter-option follow=${follow}: expected true or false`));
    const sources = consumers.map(
      (consumer) =>
        new FileLinesSource({
          files: files.map((file) => path.resolve(file)),
          checkpointFile: path.resolve(given['checkpoints'] ?? path.join('.shardline', `file-lines-${consumer.options.applicationName}.json`)),
          follow: follow === 'true',
          pollIntervalMs: positive(given, 'pollIntervalMs', 200),
          maxBatchLines: positive(given, 'maxBatchLines', 100),
          streamName: options.stream ?? consumer.options.streamName,
          logger,
        }),
    );
    return Promise.resolve({ sources, handleSignals: true, stdoutReserved: false });
  },
};
