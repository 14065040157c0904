import { SubscribeToShardCommand, type StartingPosition, type SubscribeToShardEventStream } from '@aws-sdk/client-kinesis';
import { type CheckpointPosition } from '../../core/checkpoint-position';
import { ShardlineError, SourceError } from '../../core/errors';
import { backoffWithJitter } from '../../core/sleep';
import { type SubscribeResult } from '../../metrics/metrics-recorder';
import { type StartSpec } from '../polling/kinesis-calls';
import { toDiscoveredChildren, type FetchedPage, type FetcherContext, type ShardFetcher } from '../polling/shard-fetcher';
import { type FanOutSession } from './fan-out-session';
import { RawEventRecords } from './raw-event-records';
import { permissionError } from './stream-consumers';
import { classifySubscribeError, type SubscribeErrorKind } from './subscribe-error-kind';

/** The watchdog's error: no event (nor end) within the idle bound; the subscription is dropped and opened again. */
export class IdleSubscriptionError extends ShardlineError {
  override readonly name = 'IdleSubscriptionError';
}

/** One SubscribeToShard call and its event stream. */
interface Subscription {
  /** Counts the subscriptions of this shard opening (events of an older one are never used). */
  readonly generation: number;
  readonly controller: AbortController;
  readonly events: AsyncIterator<SubscribeToShardEventStream>;
  readonly detach: () => void;
  readonly startedAt: number;
  /** The records of its events, taken out before the SDK decodes them. */
  readonly raw: RawEventRecords;
}

/** The SDK ends the event stream quietly on RST_STREAM and GOAWAY: an end this early is taken for a broken stream. */
export class EarlyEndError extends ShardlineError {
  override readonly name = 'EarlyEndError';
}

const METRIC_RESULT: Readonly<Record<SubscribeErrorKind, SubscribeResult>> = {
  'in-use': 'in_use',
  throttled: 'throttled',
  network: 'network',
  'not-found': 'not_found',
  aborted: 'network',
  fatal: 'error',
};

/**
 * Pages of a shard by enhanced fan-out: one SubscribeToShard at a time, each event of its HTTP/2 stream a page.
 *
 * ```
 *            ┌──────────(5-minute end: at once; error: after a backoff)───────────┐
 *            ▼                                                                     │
 * idle ──next()──▶ subscribing ──(first event)──▶ streaming ──next(): one event──▶ │ (ack) ──▶ streaming
 *                                                   │ ChildShards                  │
 *                                                   ▼                              │
 *                                              shard ended                 errors ─┘
 * any state ──close()──▶ closed (the HTTP/2 stream is reset)
 * ```
 *
 * Backpressure: an event is pulled from the stream only in {@link next}, which the reader calls once the previous
 * page was acknowledged and the memory budget has room; nothing reads the body in between, so the HTTP/2 window
 * fills and Kinesis stops sending until the reader pulls again.
 *
 * Positions: the first subscription starts AT_SEQUENCE_NUMBER of the checkpoint (the reader skips what an aggregate
 * already delivered), or at the initial position; every later one starts AFTER_SEQUENCE_NUMBER of the
 * ContinuationSequenceNumber of the last acknowledged event (an event handed out and not acknowledged is read again).
 */
export class FanOutFetcher implements ShardFetcher {
  private subscription: Subscription | undefined;
  private generation = 0;
  private subscribed = false;
  /** Continuation of the last event handed to the reader; acknowledged when the reader asks for the next page. */
  private handedContinuation: string | undefined;
  private ackedContinuation: string | undefined;
  private lastSubscribeAt = Number.NEGATIVE_INFINITY;
  private failuresInARow = 0;
  private closed = false;
  private readonly lastWarn = { at: Number.NEGATIVE_INFINITY, suppressed: 0 };

  constructor(
    private readonly context: FetcherContext,
    private readonly session: FanOutSession,
  ) {}

  async next(_limit: number, lastProcessed: CheckpointPosition | undefined, signal: AbortSignal): Promise<FetchedPage> {
    if (this.handedContinuation !== undefined) this.ackedContinuation = this.handedContinuation;
    this.handedContinuation = undefined;
    for (;;) {
      if (this.closed || signal.aborted) throw abortError();
      try {
        const subscription = this.subscription ?? (await this.subscribe(lastProcessed, signal));
        const step = await this.pull(subscription);
        if (subscription.generation !== this.generation) continue; // a stale subscription's event
        if (step.done === true) {
          const lastedMs = Date.now() - subscription.startedAt;
          if (lastedMs < this.session.earlyEndMs) throw new EarlyEndError(`the subscription ended after ${lastedMs} ms (reset or GOAWAY)`);
          this.context.log.debug('Subscription ended (5-minute limit): subscribing again from the last acknowledged event');
          this.drop();
          continue;
        }
        const event = step.value.SubscribeToShardEvent;
        if (event === undefined) continue; // a member of the union this version does not know
        const records = subscription.raw.take(event.Records);
        const children = toDiscoveredChildren(event.ChildShards, this.context.shardId);
        if (children.length === 0 && (event.ContinuationSequenceNumber === undefined || event.ContinuationSequenceNumber === null)) {
          throw new SourceError('SubscribeToShard sent an event with neither a ContinuationSequenceNumber nor ChildShards', { shardId: this.context.shardId });
        }
        this.failuresInARow = 0;
        if (children.length > 0) {
          this.drop();
          return { records, millisBehindLatest: event.MillisBehindLatest, shardEnded: true, childShards: children };
        }
        this.handedContinuation = event.ContinuationSequenceNumber;
        return { records, millisBehindLatest: event.MillisBehindLatest, shardEnded: false };
      } catch (error) {
        if (this.closed || signal.aborted) throw error;
        await this.recover(error, signal);
      }
    }
  }

  async pace(): Promise<void> {
    // Kinesis pushes the events at its own pace: the next one is pulled at once.
  }

  close(): void {
    this.closed = true;
    this.drop();
  }

  /** Opens a subscription (at most one call per second per shard, as Kinesis allows). */
  private async subscribe(lastProcessed: CheckpointPosition | undefined, signal: AbortSignal): Promise<Subscription> {
    const { host, shardId } = this.context;
    const consumerArn = await this.session.consumerArn(signal);
    const waitMs = this.lastSubscribeAt + this.session.minSubscribeIntervalMs - Date.now();
    if (waitMs > 0) await host.timers.sleep(waitMs);
    if (this.closed || signal.aborted) throw abortError();
    const position = this.startingPosition(lastProcessed);
    const controller = new AbortController();
    const onAbort = (): void => controller.abort();
    signal.addEventListener('abort', onAbort, { once: true });
    const detach = (): void => signal.removeEventListener('abort', onAbort);
    // The SDK resolves send() with the first event: a server that never sends one is cut by the watchdog.
    const watchdog = setTimeout(() => controller.abort(new IdleSubscriptionError(`no event within ${this.session.idleTimeoutMs} ms of SubscribeToShard`)), this.session.idleTimeoutMs);
    this.lastSubscribeAt = Date.now();
    const generation = ++this.generation;
    const raw = new RawEventRecords();
    try {
      const command = new SubscribeToShardCommand({ ConsumerARN: consumerArn, ShardId: shardId, StartingPosition: position });
      raw.install(command);
      const out = await this.session.subscribeClient.send(command, { abortSignal: controller.signal });
      const stream = out.EventStream;
      if (stream === undefined) throw new SourceError('SubscribeToShard answered without an event stream', { shardId });
      this.count('ok');
      this.context.log.debug(`Subscribed (${describePosition(position)})`);
      this.subscribed = true;
      this.subscription = { generation, controller, events: stream[Symbol.asyncIterator](), detach, startedAt: this.lastSubscribeAt, raw };
      return this.subscription;
    } catch (error) {
      detach();
      controller.abort();
      throw controller.signal.reason instanceof IdleSubscriptionError && !signal.aborted ? controller.signal.reason : error;
    } finally {
      clearTimeout(watchdog);
    }
  }

  /** The next event of the stream, or the watchdog's error when none comes within the idle bound. */
  private async pull(subscription: Subscription): Promise<IteratorResult<SubscribeToShardEventStream>> {
    let timer: NodeJS.Timeout | undefined;
    const idle = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new IdleSubscriptionError(`no event for ${this.session.idleTimeoutMs} ms`)), this.session.idleTimeoutMs);
    });
    try {
      return await Promise.race([subscription.events.next(), idle]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Where the next subscription starts. */
  private startingPosition(lastProcessed: CheckpointPosition | undefined): StartingPosition {
    if (this.ackedContinuation !== undefined) return { Type: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: this.ackedContinuation };
    if (lastProcessed !== undefined) return { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: lastProcessed.sequenceNumber };
    return toStartingPosition(this.subscribed ? this.context.reopen : this.context.start);
  }

  /** After a failed call or stream: gives up on what retrying cannot fix, else waits a backoff before subscribing again. */
  private async recover(error: unknown, signal: AbortSignal): Promise<void> {
    const { host, shardId } = this.context;
    const kind = classifySubscribeError(error);
    this.drop();
    this.count(METRIC_RESULT[kind]);
    if (kind === 'fatal') {
      const stream = host.options.streamName;
      throw (
        permissionError(error, 'SubscribeToShard', stream) ??
        (error instanceof ShardlineError
          ? error
          : new SourceError(`SubscribeToShard on ${stream}/${shardId} failed: ${(error as Error).message}; check the stream consumer and permissions`, { cause: error, shardId }))
      );
    }
    if (kind === 'not-found' && !(await this.session.consumerChanged(signal))) {
      throw error; // the consumer is there: the shard is gone (the reader handles it as polling does)
    }
    const { baseMs, capMs } = this.session.retry;
    const floorMs = kind === 'in-use' ? Math.min(capMs, baseMs * 5) : baseMs / 2;
    const delayMs = Math.round(Math.max(floorMs, backoffWithJitter(this.failuresInARow, baseMs, capMs, host.random)));
    this.failuresInARow++;
    this.warn(`SubscribeToShard ${kind === 'in-use' ? 'refused' : 'failed'} (${(error as Error).name}: ${(error as Error).message}); subscribing again in ${delayMs} ms`);
    await host.timers.sleep(delayMs);
  }

  /** At most one warning line per `retryWarnIntervalMs` for this shard (the others are counted in the next line). */
  private warn(line: string): void {
    const intervalMs = this.context.host.options.retryWarnIntervalMs ?? 10_000;
    const now = Date.now();
    if (now - this.lastWarn.at < intervalMs) {
      this.lastWarn.suppressed++;
      return;
    }
    const suppressed = this.lastWarn.suppressed;
    this.lastWarn.at = now;
    this.lastWarn.suppressed = 0;
    this.context.log.warn(suppressed > 0 ? `${line} (${suppressed} more retries since the last line)` : line);
  }

  private count(result: SubscribeResult): void {
    const metrics = this.context.host.options.metrics;
    metrics?.recorder.subscribeToShardCalled?.({ application: metrics.application, stream: this.context.host.options.streamName, shardId: this.context.shardId }, { result });
  }

  /** Closes the current subscription (resets its HTTP/2 stream); its late events are ignored. */
  private drop(): void {
    const subscription = this.subscription;
    if (subscription === undefined) return;
    this.subscription = undefined;
    this.generation++;
    subscription.detach();
    subscription.controller.abort();
    // The iterator's pending read (if any) rejects once aborted: nobody waits for it any more.
    void subscription.events.return?.().catch(() => undefined);
  }
}

function toStartingPosition(spec: StartSpec): StartingPosition {
  switch (spec.type) {
    case 'AT_TIMESTAMP':
      return { Type: 'AT_TIMESTAMP', Timestamp: spec.timestamp };
    case 'AT_SEQUENCE_NUMBER':
      return { Type: 'AT_SEQUENCE_NUMBER', SequenceNumber: spec.position.sequenceNumber };
    default:
      return { Type: spec.type };
  }
}

function describePosition(position: StartingPosition): string {
  if (position.SequenceNumber !== undefined) return `${position.Type ?? ''} ${position.SequenceNumber}`;
  if (position.Timestamp !== undefined) return `${position.Type ?? ''} ${position.Timestamp.toISOString()}`;
  return position.Type ?? '';
}

function abortError(): Error {
  const error = new Error('the fan-out reader stopped');
  error.name = 'AbortError';
  return error;
}
