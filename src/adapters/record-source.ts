import { type InjectionToken } from 'tsyringe';
import { type Observable } from 'rxjs';
import { type ShardEvent } from '../core/shard-event';

/**
 * Where records come from: the KCL MultiLangDaemon adapter, the polling adapter, or the in-memory source of the
 * testing kit. An adapter plugs in by implementing this interface.
 *
 * Contract:
 * - `events()` is cold: subscribing starts reading, unsubscribing stops it and releases every shard.
 * - Each shard's events come in order: `opened` first, then `records`, then at most one closing event.
 * - Backpressure: the adapter emits a shard's next event only after the runtime acknowledged the previous one
 *   (`ack`), so a slow handler slows the source and nothing is buffered without bound. Shards run concurrently.
 * - A failed ack on `opened` or `records` means the shard stopped: the adapter stops reading it (without checkpointing).
 * - The Observable completes when there is nothing more to read (the daemon closed stdin, the source was closed).
 */
export interface RecordSource {
  /** A short name for logs: `kcl`, `polling`, `memory`. */
  readonly name: string;
  events(): Observable<ShardEvent>;
}

/** Injection token under which the running app registers its source. */
export const RECORD_SOURCE: InjectionToken<RecordSource> = Symbol.for('shardline:RecordSource');
