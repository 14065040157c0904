import { type ChildShard } from '@aws-sdk/client-kinesis';
import { type CheckpointPosition } from '../../core/checkpoint-position';
import { type Logger } from '../../core/logger';
import { type StartSpec } from './kinesis-calls';
import { type WireRecord } from './record-converter';
import { type ReaderHost } from './shard-reader';
import { type DiscoveredShard } from './shard-lineage';

/** One page of a shard, as a {@link ShardFetcher} hands it to the shard's reader. */
export interface FetchedPage {
  /** The records as the wire carried them (KPL aggregates not yet split). */
  readonly records: readonly WireRecord[];
  /** How far behind the tip of the shard the page is, when the service said. */
  readonly millisBehindLatest?: number | undefined;
  /** This is the shard's last page: it was read to its end (it has been split or merged, or closed). */
  readonly shardEnded: boolean;
  /** With `shardEnded`: the shard's children, when the service named them (ListShards finds them otherwise). */
  readonly childShards?: readonly DiscoveredShard[];
}

/** What a fetcher is made with: the reader's run, the shard, and where reading starts. */
export interface FetcherContext {
  readonly host: ReaderHost;
  readonly shardId: string;
  /** The shard's logger (it carries the shard id). */
  readonly log: Logger;
  /** Where the first page starts (AT_SEQUENCE_NUMBER of the checkpoint when there is one). */
  readonly start: StartSpec;
  /** Where to start again when nothing was processed yet and the position has to be re-opened (LATEST is remembered as AT_TIMESTAMP). */
  readonly reopen: StartSpec;
}

/**
 * Where a shard's reader gets its pages from: GetRecords polling ({@link GetRecordsFetcher}) or enhanced fan-out.
 *
 * The reader calls {@link next} only once the previous page was acknowledged by the application (or was empty), and
 * only once the memory budget has room: a fetcher must not read ahead of that, so that a slow handler stops the
 * reading. It then calls {@link pace} and {@link close} when it stops.
 */
export interface ShardFetcher {
  /**
   * The next page.
   * @param limit the memory budget's grant, in records (a fetcher that cannot shape its pages may exceed it: the
   *   budget is corrected to the page's actual bytes).
   * @param lastProcessed the position of the last record the application acknowledged (where to re-open after an
   *   expired iterator or a broken connection); `undefined` when none was processed yet.
   */
  next(limit: number, lastProcessed: CheckpointPosition | undefined, signal: AbortSignal): Promise<FetchedPage>;
  /** Waits before the next page (after an ack): polling paces its calls, a pushed stream needs no wait. */
  pace(emittedRecords: number): Promise<void>;
  /** The reader stopped: close what is open. Idempotent. */
  close(): void;
}

/** Makes the fetcher of one opening of a shard. */
export type ShardFetcherFactory = (context: FetcherContext) => ShardFetcher;

/** A `ChildShards` entry (GetRecords or SubscribeToShard) as a {@link DiscoveredShard}. */
export function toDiscoveredChildren(childShards: readonly ChildShard[] | undefined, parentShardId: string): DiscoveredShard[] {
  return (childShards ?? [])
    .filter((child) => child.ShardId !== undefined)
    .map((child) => ({
      shardId: child.ShardId as string,
      parentShardIds: child.ParentShards ?? [parentShardId],
      ...(child.HashKeyRange?.StartingHashKey !== undefined && child.HashKeyRange.EndingHashKey !== undefined
        ? { hashKeyRange: { startingHashKey: child.HashKeyRange.StartingHashKey, endingHashKey: child.HashKeyRange.EndingHashKey } }
        : {}),
    }));
}
