import { type CliAdapter } from '../cli-adapter';
import { efoCliAdapter } from './efo.cli-adapter';
import { kclCliAdapter } from './kcl.cli-adapter';
import { memoryCliAdapter } from './memory.cli-adapter';
import { pollingCliAdapter } from './polling.cli-adapter';

/** Adapters `shardline run --adapter <name>` knows, by name. */
export const CLI_ADAPTERS: ReadonlyMap<string, CliAdapter> = new Map<string, CliAdapter>(
  [memoryCliAdapter, kclCliAdapter, pollingCliAdapter, efoCliAdapter].map((adapter) => [adapter.name, adapter]),
);
