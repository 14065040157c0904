import { registerTypeScriptLoader } from '../cli/typescript-loader';
import { ConfigurationError } from '../core/errors';

/** Data a producer module may put: bytes, text (sent as UTF-8) or an object (sent as JSON). */
export type ProducedData = Buffer | Uint8Array | string | object;

/** Puts one record; resolves with its shard and sequence number. */
export type PutFunction = (data: ProducedData, partitionKey?: string) => Promise<{ shardId: string; sequenceNumber: string }>;

/**
 * The contract of a `shardline dev --produce <module>` module: it exports a `produce` function that puts records with
 * `put` until it is done or `signal` is aborted (Ctrl-C).
 *
 * @example
 * ```ts
 * export async function produce(put: PutFunction, signal: AbortSignal): Promise<void> {
 *   for (let i = 0; !signal.aborted; i++) {
 *     await put({ flight: i, dest: 'LAX' }, `flight-${i}`);
 *     await new Promise((r) => setTimeout(r, 500));
 *   }
 * }
 * ```
 */
export type ProduceFunction = (put: PutFunction, signal: AbortSignal) => Promise<void>;

/**
 * Loads a producer module (TypeScript or JavaScript) and returns its `produce` function (a default export works too).
 * @throws ConfigurationError when the module has no `produce` function.
 */
export function loadProducerModule(file: string): ProduceFunction {
  if (file.endsWith('.ts')) registerTypeScriptLoader();
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the user's module is only known at run time
  const exported = require(file) as Record<string, unknown>;
  const produce = exported['produce'] ?? exported['default'];
  if (typeof produce !== 'function') {
    throw new ConfigurationError(`${file} has no produce function: export async function produce(put, signal) { … }`);
  }
  return produce as ProduceFunction;
}
