import { type CliAdapter } from '../cli-adapter';
import { memoryCliAdapter } from './memory.cli-adapter';

/** Adapters `shardline run --adapter <name>` knows, by name. */
export const CLI_ADAPTERS: ReadonlyMap<string, CliAdapter> = new Map<string, CliAdapter>([
  [memoryCliAdapter.name, memoryCliAdapter],
]);
