import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import * as http2 from 'node:http2';
import { type AddressInfo } from 'node:net';

/** A record as the fake server sends it. */
export interface FakeRecord {
  readonly sequenceNumber: string;
  readonly data: Buffer;
  readonly partitionKey?: string;
}

/** One SubscribeToShardEvent. */
export interface FakeEvent {
  readonly records: readonly FakeRecord[];
  readonly continuation?: string;
  readonly millisBehindLatest?: number;
  readonly childShards?: ReadonlyArray<{ readonly ShardId: string; readonly ParentShards: readonly string[]; readonly HashKeyRange: { StartingHashKey: string; EndingHashKey: string } }>;
}

/** What the fake does with one SubscribeToShard call. */
export type FakeReply =
  /** An exception frame first (as Kinesis answers a refused call): the SDK rejects `send()` with that class. */
  | { readonly kind: 'refuse'; readonly exception: string; readonly message?: string }
  /** These events, then: `end` (the 5-minute end), `reset` (RST_STREAM), `goaway` (GOAWAY then close), or `hold` (stay open). */
  | { readonly kind: 'events'; readonly events: Iterable<FakeEvent>; readonly then: 'end' | 'reset' | 'goaway' | 'hold'; readonly eventDelayMs?: number };

/** A SubscribeToShard call the fake received. */
export interface FakeCall {
  readonly shardId: string;
  readonly consumerArn: string;
  readonly startingPosition: { readonly Type: string; readonly SequenceNumber?: string; readonly Timestamp?: number };
  readonly at: number;
}

/** Server-side counts of one subscription's stream. */
export interface StreamStats {
  /** Bytes of event frames handed to the HTTP/2 stream. */
  queuedBytes: number;
  /** Bytes whose write completed (sent out under HTTP/2 flow control). */
  sentBytes: number;
  events: number;
}

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function frame(headers: Record<string, string>, body: unknown): Uint8Array {
  const formatted = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]));
  return codec.encode({ headers: formatted, body: Buffer.from(JSON.stringify(body)) });
}

function eventFrame(event: FakeEvent): Uint8Array {
  return frame(
    { ':message-type': 'event', ':event-type': 'SubscribeToShardEvent', ':content-type': 'application/json' },
    {
      Records: event.records.map((r) => ({
        SequenceNumber: r.sequenceNumber,
        Data: r.data.toString('base64'),
        PartitionKey: r.partitionKey ?? 'pk',
        ApproximateArrivalTimestamp: Date.now() / 1000,
      })),
      ...(event.continuation === undefined ? {} : { ContinuationSequenceNumber: event.continuation }),
      MillisBehindLatest: event.millisBehindLatest ?? 0,
      ...(event.childShards === undefined ? {} : { ChildShards: event.childShards }),
    },
  );
}

/**
 * A SubscribeToShard endpoint over cleartext HTTP/2 (node:http2), scripted per call: events of the test's choosing
 * (KCL-style ChildShards at a shard's end, the 5-minute end), refusals (ResourceInUseException,
 * LimitExceededException, ...) and broken connections (RST_STREAM, GOAWAY). Writes respect HTTP/2 flow control, and
 * the bytes each subscription managed to send are counted, so a test can see whether the client stopped reading.
 */
export class FakeSubscribeServer {
  readonly calls: FakeCall[] = [];
  readonly streams: StreamStats[] = [];
  private readonly server: http2.Http2Server;
  private readonly sessions = new Set<http2.ServerHttp2Session>();
  private readonly open = new Set<http2.ServerHttp2Stream>();

  constructor(private readonly reply: (call: FakeCall, index: number) => FakeReply) {
    this.server = http2.createServer();
    this.server.on('session', (session) => {
      this.sessions.add(session);
      session.on('close', () => this.sessions.delete(session));
      session.on('error', () => undefined);
    });
    this.server.on('stream', (stream, headers) => void this.onStream(stream, headers));
  }

  /** Listens on 127.0.0.1:`port`; returns the endpoint URL. */
  async listen(port: number): Promise<string> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => resolve());
    });
    return `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** Resets every subscription stream still open (RST_STREAM INTERNAL_ERROR). */
  resetOpenStreams(): void {
    for (const stream of this.open) stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
  }

  async close(): Promise<void> {
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private async onStream(stream: http2.ServerHttp2Stream, headers: http2.IncomingHttpHeaders): Promise<void> {
    stream.on('error', () => undefined);
    const chunks: Buffer[] = [];
    for await (const chunk of stream) chunks.push(chunk as Buffer);
    const target = String(headers['x-amz-target'] ?? '');
    if (!target.endsWith('.SubscribeToShard')) {
      stream.respond({ ':status': 400, 'content-type': 'application/x-amz-json-1.1' });
      stream.end(JSON.stringify({ __type: 'UnknownOperationException', message: `the fake serves SubscribeToShard only, not ${target}` }));
      return;
    }
    const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { ShardId: string; ConsumerARN: string; StartingPosition: FakeCall['startingPosition'] };
    const call: FakeCall = { shardId: body.ShardId, consumerArn: body.ConsumerARN, startingPosition: body.StartingPosition, at: Date.now() };
    this.calls.push(call);
    const reply = this.reply(call, this.calls.length - 1);
    stream.respond({ ':status': 200, 'content-type': 'application/vnd.amazon.eventstream' });
    if (reply.kind === 'refuse') {
      stream.end(frame({ ':message-type': 'exception', ':exception-type': reply.exception, ':content-type': 'application/json' }, { message: reply.message ?? reply.exception }));
      return;
    }
    this.open.add(stream);
    stream.on('close', () => this.open.delete(stream));
    const stats: StreamStats = { queuedBytes: 0, sentBytes: 0, events: 0 };
    this.streams.push(stats);
    for (const event of reply.events) {
      if (stream.destroyed || stream.closed) return;
      const bytes = eventFrame(event);
      stats.queuedBytes += bytes.byteLength;
      stats.events++;
      const flushed = stream.write(bytes, (error) => {
        if (error === undefined || error === null) stats.sentBytes += bytes.byteLength;
      });
      if (!flushed) await new Promise<void>((resolve) => {
        const done = (): void => {
          stream.off('drain', done);
          stream.off('close', done);
          resolve();
        };
        stream.on('drain', done);
        stream.on('close', done);
      });
      if (reply.eventDelayMs !== undefined) await new Promise((resolve) => setTimeout(resolve, reply.eventDelayMs));
    }
    if (stream.destroyed || stream.closed) return;
    if (reply.then === 'end') stream.end();
    else if (reply.then === 'reset') stream.close(http2.constants.NGHTTP2_INTERNAL_ERROR);
    else if (reply.then === 'goaway') {
      stream.session?.goaway(http2.constants.NGHTTP2_NO_ERROR);
      setTimeout(() => stream.session?.destroy(), 50);
    }
  }
}

/** A fake record: its JSON names `tag + index` (the collector's id), padded with spaces to `bytes`. */
export function fakeRecord(index: number, bytes = 32, tag = 'r'): FakeRecord {
  const json = Buffer.from(JSON.stringify({ id: `${tag}${index}`, key: 'k', n: index }));
  return { sequenceNumber: sequence(index), data: bytes > json.length ? Buffer.concat([json, Buffer.alloc(bytes - json.length, 0x20)]) : json };
}

/** `index` as a sequence number (fixed width, so that string and numeric order agree). */
export function sequence(index: number): string {
  return `4960000000000000000${String(index).padStart(6, '0')}`;
}
