import { type CliAdapter } from '../cli-adapter';
import { pendingAdapter } from '../pending';

/** `--adapter polling`: reads every shard of the stream directly with GetRecords. */
export const pollingCliAdapter: CliAdapter = pendingAdapter('polling', 'reads every shard directly with GetRecords (no Java)');
