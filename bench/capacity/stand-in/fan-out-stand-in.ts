import { type ServerResponse } from 'node:http';
import { exceptionMessage, initialResponse, type SubscribeEventBuilder } from './event-frames';
import { sequenceNumber } from './page-builder';
import { StandInFault } from './stand-in-fault';

/** What the fan-out side needs of the stand-in's stream (its shards, record arrival and positions). */
export interface FanOutStream {
  readonly streamName: string;
  readonly streamArn: string;
  /** Records per second arriving on each shard (0: all there from the start). */
  readonly recordsPerSecond: number;
  /** The shard's index for a `shardId-…` id. @throws StandInFault ResourceNotFoundException */
  shardIndex(shardId: unknown): number;
  /** The position a StartingPosition (or iterator type) names on that shard. @throws StandInFault InvalidArgumentException */
  startPosition(shardIndex: number, type: unknown, sequenceNumber: unknown, timestampSeconds: unknown): number;
  /** Records arrived in one shard by `now`. */
  available(now: number): number;
  arrivalMs(position: number): number;
  /** Told when an event carrying records up to (not including) `next` was written. */
  served(shardIndex: number, next: number): void;
}

/** Settings of the fan-out side. */
export interface FanOutSettings {
  /** Least time between two events of one subscription. */
  readonly eventIntervalMs: number;
  /** A subscription ends (the response ends normally) this long after it started. */
  readonly subscriptionMs: number;
  /** Record data bytes one subscription may push per second (a burst of one second's worth); 0 = no cap. */
  readonly readBytesPerSecond: number;
  /** Bytes of one record's `Data`. */
  readonly dataBytes: number;
  /** Least time between two SubscribeToShard calls of a (consumer, shard); sooner ones get LimitExceededException. 0 = none. */
  readonly minSubscribeIntervalMs: number;
}

/** Counters of the fan-out side. */
export interface FanOutStats {
  readonly subscriptions: number;
  readonly openSubscriptions: number;
  readonly events: number;
  readonly eventBytes: number;
}

interface ConsumerEntry {
  readonly name: string;
  readonly arn: string;
  readonly createdAt: number;
}

interface Subscription {
  readonly shardIndex: number;
  readonly consumerArn: string;
  readonly response: ServerResponse;
  position: number;
  budgetBytes: number;
  refilledAt: number;
  lastEventAt: number;
  readonly endsAt: number;
  closed: boolean;
  timer: NodeJS.Timeout | undefined;
}

/** Without records, an empty event this often (Kinesis sends them every few seconds on an idle shard). */
const EMPTY_EVENT_MS = 5_000;

/**
 * The enhanced fan-out calls of the capacity stand-in: stream consumers (registered ACTIVE at once) and
 * SubscribeToShard over HTTP/1.1, a chunked `application/vnd.amazon.eventstream` response: `initial-response`, then a
 * SubscribeToShardEvent whenever records arrived, at most one per `eventIntervalMs`, each carrying at most what the
 * read budget (2 MiB/s per shard and consumer on Kinesis) allows; the next event is written only once the socket
 * has taken the previous one (a slow reader slows the stand-in, nothing piles up in it).
 */
export class FanOutStandIn {
  private readonly consumers = new Map<string, ConsumerEntry>();
  private readonly open = new Map<string, Subscription>();
  private readonly lastSubscribeAt = new Map<string, number>();
  private subscriptions = 0;
  private events = 0;
  private eventBytes = 0;

  constructor(
    private readonly stream: FanOutStream,
    private readonly builder: SubscribeEventBuilder,
    private readonly settings: FanOutSettings,
  ) {}

  stats(): FanOutStats {
    return { subscriptions: this.subscriptions, openSubscriptions: this.open.size, events: this.events, eventBytes: this.eventBytes };
  }

  /** Answers a consumer call, or `undefined` when `operation` is not one. */
  answer(operation: string, input: Record<string, unknown>): unknown {
    switch (operation) {
      case 'RegisterStreamConsumer': {
        this.checkStreamArn(input.StreamARN);
        const name = typeof input.ConsumerName === 'string' ? input.ConsumerName : '';
        if (!/^[a-zA-Z0-9_.-]{1,128}$/.test(name)) throw new StandInFault('InvalidArgumentException', `bad ConsumerName ${name}`);
        if (this.consumers.has(name)) throw new StandInFault('ResourceInUseException', `Consumer ${name} already exists`);
        const createdAt = Math.floor(Date.now() / 1000);
        const entry = { name, arn: `${this.stream.streamArn}/consumer/${name}:${createdAt}`, createdAt };
        this.consumers.set(name, entry);
        return { Consumer: this.describe(entry) };
      }
      case 'DescribeStreamConsumer':
        return { ConsumerDescription: { ...this.describe(this.find(input)), StreamARN: this.stream.streamArn } };
      case 'ListStreamConsumers':
        this.checkStreamArn(input.StreamARN);
        return { Consumers: [...this.consumers.values()].map((entry) => this.describe(entry)) };
      case 'DeregisterStreamConsumer': {
        const entry = this.find(input);
        this.consumers.delete(entry.name);
        for (const subscription of [...this.open.values()]) if (subscription.consumerArn === entry.arn) this.end(subscription, 'ResourceNotFoundException');
        return {};
      }
      default:
        return undefined;
    }
  }

  /**
   * SubscribeToShard: checks the call (400 with a Kinesis error, as for any call, when it is refused), then streams
   * events on `response` until the subscription time is up, the client goes away or another subscription of the same
   * (consumer, shard) takes over (this one then gets ResourceInUseException).
   */
  subscribe(input: Record<string, unknown>, response: ServerResponse): void {
    const arn = typeof input.ConsumerARN === 'string' ? input.ConsumerARN : '';
    if (![...this.consumers.values()].some((entry) => entry.arn === arn)) throw new StandInFault('ResourceNotFoundException', `Consumer ${arn} not found.`);
    const shardIndex = this.stream.shardIndex(input.ShardId);
    const start = (input.StartingPosition ?? {}) as Record<string, unknown>;
    const position = this.stream.startPosition(shardIndex, start.Type, start.SequenceNumber, start.Timestamp);
    const key = `${arn} ${shardIndex}`;
    const now = Date.now();
    if (now - (this.lastSubscribeAt.get(key) ?? Number.NEGATIVE_INFINITY) < this.settings.minSubscribeIntervalMs) {
      throw new StandInFault('LimitExceededException', `Rate exceeded for consumer ${arn} and shard ${String(input.ShardId)}`);
    }
    this.lastSubscribeAt.set(key, now);
    const previous = this.open.get(key);
    if (previous !== undefined) this.end(previous, 'ResourceInUseException');
    const budget = this.settings.readBytesPerSecond;
    const subscription: Subscription = {
      shardIndex,
      consumerArn: arn,
      response,
      position,
      budgetBytes: budget,
      refilledAt: now,
      lastEventAt: now,
      endsAt: now + this.settings.subscriptionMs,
      closed: false,
      timer: undefined,
    };
    this.open.set(key, subscription);
    this.subscriptions++;
    response.on('close', () => {
      subscription.closed = true;
      clearTimeout(subscription.timer);
      if (this.open.get(key) === subscription) this.open.delete(key);
    });
    response.writeHead(200, { 'content-type': 'application/vnd.amazon.eventstream', 'x-amzn-requestid': 'stand-in' });
    response.write(initialResponse());
    void this.pump(subscription);
  }

  /** Ends every open subscription (before the server closes). */
  closeAll(): void {
    for (const subscription of [...this.open.values()]) {
      subscription.closed = true;
      clearTimeout(subscription.timer);
    }
    this.open.clear();
  }

  /** Writes the subscription's events, one per tick at most, each once the previous one left. */
  private async pump(subscription: Subscription): Promise<void> {
    const { eventIntervalMs, readBytesPerSecond, dataBytes } = this.settings;
    while (!subscription.closed) {
      const now = Date.now();
      if (now >= subscription.endsAt) {
        subscription.response.end(); // the 5-minute end: the SDK's iterator finishes normally
        return;
      }
      const available = this.stream.available(now);
      let count = Math.min(available - subscription.position, this.builder.maxRecords);
      if (readBytesPerSecond > 0) {
        subscription.budgetBytes = Math.min(readBytesPerSecond, subscription.budgetBytes + ((now - subscription.refilledAt) * readBytesPerSecond) / 1000);
        subscription.refilledAt = now;
        count = Math.min(count, Math.floor(subscription.budgetBytes / dataBytes));
      }
      count = Math.max(0, count);
      // No empty event at position 0: its continuation would have to name a record before the first one.
      if (count > 0 || (subscription.position > 0 && now - subscription.lastEventAt >= EMPTY_EVENT_MS)) {
        const next = subscription.position + count;
        const behind = available - next;
        const behindMs = this.stream.recordsPerSecond > 0 ? (behind * 1000) / this.stream.recordsPerSecond : behind;
        const message = this.builder.event(subscription.shardIndex, subscription.position, count, (p) => this.stream.arrivalMs(p), sequenceNumber(subscription.shardIndex, next - 1), behindMs);
        subscription.position = next;
        subscription.budgetBytes -= count * dataBytes;
        subscription.lastEventAt = now;
        this.events++;
        this.eventBytes += message.length;
        this.stream.served(subscription.shardIndex, next);
        if (!(await this.write(subscription, message))) return;
        this.builder.release(message);
      }
      const waitMs = now + eventIntervalMs - Date.now();
      if (waitMs > 0 && !subscription.closed) await new Promise<void>((resolve) => (subscription.timer = setTimeout(resolve, waitMs)));
    }
  }

  /** Writes one message; true once the socket took it all, false when the response closed first. */
  private write(subscription: Subscription, message: Buffer): Promise<boolean> {
    return new Promise((resolve) => {
      const { response } = subscription;
      const onClose = (): void => resolve(false);
      response.once('close', onClose);
      response.write(message, (error) => {
        response.off('close', onClose);
        resolve(error === undefined || error === null);
      });
    });
  }

  /** Ends a subscription with an exception message (taken over, consumer deregistered). */
  private end(subscription: Subscription, exception: string): void {
    subscription.closed = true;
    clearTimeout(subscription.timer);
    for (const [key, open] of this.open) if (open === subscription) this.open.delete(key);
    if (!subscription.response.writableEnded) subscription.response.end(exceptionMessage(exception, `subscription to shard ${subscription.shardIndex} ended: ${exception}`));
  }

  private describe(entry: ConsumerEntry): Record<string, unknown> {
    return { ConsumerName: entry.name, ConsumerARN: entry.arn, ConsumerStatus: 'ACTIVE', ConsumerCreationTimestamp: entry.createdAt };
  }

  private find(input: Record<string, unknown>): ConsumerEntry {
    const entry =
      typeof input.ConsumerARN === 'string'
        ? [...this.consumers.values()].find((candidate) => candidate.arn === input.ConsumerARN)
        : (this.checkStreamArn(input.StreamARN), this.consumers.get(typeof input.ConsumerName === 'string' ? input.ConsumerName : ''));
    if (entry === undefined) throw new StandInFault('ResourceNotFoundException', `Consumer ${String(input.ConsumerARN ?? input.ConsumerName)} under stream ${this.stream.streamName} not found.`);
    return entry;
  }

  private checkStreamArn(arn: unknown): void {
    if (arn !== this.stream.streamArn) throw new StandInFault('ResourceNotFoundException', `Stream ${String(arn)} under account 000000000000 not found.`);
  }
}
