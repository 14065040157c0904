import { GetRecordsCommand, type GetRecordsCommandOutput } from '@aws-sdk/client-kinesis';
import { formatPosition, type CheckpointPosition } from '../../core/checkpoint-position';
import { getRecordsRaw } from './get-records-raw';
import { classifyKinesisError } from './kinesis-error-kind';
import { type StartSpec } from './kinesis-calls';
import { type WireRecord } from './record-converter';
import { toDiscoveredChildren, type FetchedPage, type FetcherContext, type ShardFetcher } from './shard-fetcher';

/**
 * Pages of a shard by GetRecords polling: a shard iterator, then one GetRecords per page with the budget's `Limit`;
 * an expired iterator is re-opened after the last processed record. Paced: `minPollIntervalMs` between calls while
 * behind, `idlePollIntervalMs` once caught up.
 */
export class GetRecordsFetcher implements ShardFetcher {
  private iterator: string | undefined;
  private startedAt = 0;
  private fullPage = false;
  private millisBehindLatest: number | undefined;

  constructor(private readonly context: FetcherContext) {}

  async next(limit: number, lastProcessed: CheckpointPosition | undefined, signal: AbortSignal): Promise<FetchedPage> {
    const { host, shardId, start } = this.context;
    this.iterator ??= await host.calls.getIterator(shardId, this.from(lastProcessed, start), signal);
    for (;;) {
      this.startedAt = Date.now();
      try {
        const { page, wire } = await this.getRecords(this.iterator, limit, signal);
        // A full page says more is waiting, whatever MillisBehindLatest says (with the budget shaping Limit, pages are
        // often cut short; kinesalite always answers 0 for an open shard).
        this.fullPage = wire.length >= limit;
        this.millisBehindLatest = page.MillisBehindLatest;
        const next = page.NextShardIterator;
        if (next === undefined || next === null) {
          return { records: wire, millisBehindLatest: page.MillisBehindLatest, shardEnded: true, childShards: toDiscoveredChildren(page.ChildShards, shardId) };
        }
        this.iterator = next;
        return { records: wire, millisBehindLatest: page.MillisBehindLatest, shardEnded: false };
      } catch (error) {
        if (classifyKinesisError(error) !== 'expired-iterator') throw error;
        this.context.log.warn(`Shard iterator expired: reopening after ${formatPosition(lastProcessed)}`);
        this.iterator = await host.calls.getIterator(shardId, this.from(lastProcessed, this.context.reopen), signal);
      }
    }
  }

  async pace(emittedRecords: number): Promise<void> {
    const { host } = this.context;
    const caughtUp = emittedRecords === 0 || (this.millisBehindLatest === 0 && !this.fullPage);
    const waitMs = caughtUp ? host.idlePollMs : host.minPollMs - (Date.now() - this.startedAt);
    if (waitMs > 0) await host.timers.sleep(waitMs);
  }

  close(): void {
    this.iterator = undefined;
  }

  private from(lastProcessed: CheckpointPosition | undefined, otherwise: StartSpec): StartSpec {
    return lastProcessed ? { type: 'AT_SEQUENCE_NUMBER', position: lastProcessed } : otherwise;
  }

  private async getRecords(iterator: string, limit: number, signal: AbortSignal): Promise<{ page: GetRecordsCommandOutput; wire: readonly WireRecord[] }> {
    const { calls, options } = this.context.host;
    const { shardId } = this.context;
    if (options.rawRecordParsing ?? true) {
      const result = await calls.call('GetRecords', shardId, (s) => getRecordsRaw(options.client, { ShardIterator: iterator, Limit: limit }, s), { signal });
      return { page: result.output, wire: result.records };
    }
    const page = await calls.call('GetRecords', shardId, (s) => options.client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: limit }), { abortSignal: s }), {
      signal,
    });
    return { page, wire: page.Records ?? [] };
  }
}

/** The polling adapter's default fetcher. */
export function getRecordsFetcher(context: FetcherContext): ShardFetcher {
  return new GetRecordsFetcher(context);
}
