import { GetRecordsCommand, type GetRecordsCommandInput, type GetRecordsCommandOutput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Readable } from 'node:stream';
import { BodyBufferPool } from './body-buffer-pool';
import { jsonText } from './json-text';
import { type WireRecord } from './record-converter';

/** The buffers bodies are read into, shared by every GetRecords of the process (a body is decoded as soon as it arrived). */
const BODY_BUFFERS = new BodyBufferPool();

/** What {@link getRecordsRaw} returns: the SDK's output (with its other fields) and the records as the wire carried them. */
export interface RawGetRecordsResult {
  readonly output: GetRecordsCommandOutput;
  /** `Data` is still base64 text when the raw path was taken (decoded lazily by `KinesisRecord`), bytes otherwise. */
  readonly records: readonly WireRecord[];
}

interface HttpResponseLike {
  statusCode?: number;
  headers?: Record<string, string>;
  body?: unknown;
}

interface RawWireRecord {
  Data?: string;
  PartitionKey?: string;
  SequenceNumber?: string;
  ApproximateArrivalTimestamp?: number;
}

/** The `content-length` header, when the response has a valid one. */
function contentLength(headers: Record<string, string> | undefined): number | undefined {
  if (headers === undefined) return undefined;
  for (const [name, value] of Object.entries(headers)) {
    if (name.toLowerCase() !== 'content-length') continue;
    const length = Number(value);
    return Number.isSafeInteger(length) && length >= 0 ? length : undefined;
  }
  return undefined;
}

/**
 * The body as text. With a known length, each chunk is copied into one buffer as it arrives and dropped at once (a
 * page of up to 10 MB is then held once while it arrives, not twice as with collecting the chunks and concatenating).
 */
async function readBody(body: Readable, length: number | undefined): Promise<string> {
  if (length !== undefined) {
    const whole = BODY_BUFFERS.take(length);
    try {
      let offset = 0;
      let overflow: Buffer[] | undefined;
      for await (const piece of body) {
        const chunk = typeof piece === 'string' ? Buffer.from(piece) : (piece as Buffer);
        if (overflow === undefined && offset + chunk.length <= length) {
          chunk.copy(whole, offset);
          offset += chunk.length;
        } else {
          overflow ??= [Buffer.from(whole.subarray(0, offset))]; // the header lied: collect the rest instead
          overflow.push(chunk);
        }
      }
      return jsonText(overflow === undefined ? whole.subarray(0, offset) : Buffer.concat(overflow));
    } finally {
      BODY_BUFFERS.give(whole); // the text is a copy: nothing refers to these bytes any more
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return jsonText(Buffer.concat(chunks));
}

/**
 * GetRecords without the SDK's per-record work: a middleware placed just inside the SDK's deserializer takes the
 * `Records` array out of the JSON body (the SDK would validate each record's base64 with a regular expression and
 * decode it, which is about a third of a plain loop's CPU), and hands the SDK the rest of the body to deserialize as
 * usual (iterator, `MillisBehindLatest`, `ChildShards`, errors). Payloads stay base64 text until a handler reads them.
 * Falls back to the SDK's own records when the middleware did not run (a mocked client).
 */
export async function getRecordsRaw(client: KinesisClient, input: GetRecordsCommandInput, abortSignal?: AbortSignal): Promise<RawGetRecordsResult> {
  const command = new GetRecordsCommand(input);
  let raw: RawWireRecord[] | undefined;
  command.middlewareStack.add(
    (next) => async (args) => {
      const result = await next(args);
      const response = result.response as HttpResponseLike;
      if (response.statusCode !== 200 || !(response.body instanceof Readable)) return result;
      const text = await readBody(response.body, contentLength(response.headers));
      let rest = text;
      try {
        const parsed = JSON.parse(text) as { Records?: RawWireRecord[] };
        raw = parsed.Records ?? [];
        parsed.Records = [];
        rest = JSON.stringify(parsed);
      } catch {
        raw = undefined; // let the SDK report the bad body
      }
      response.body = Readable.from([Buffer.from(rest, 'utf8')]);
      if (response.headers !== undefined) {
        for (const name of Object.keys(response.headers)) if (name.toLowerCase() === 'content-length') delete response.headers[name];
      }
      return result;
    },
    { step: 'deserialize', name: 'shardlineRawGetRecords', priority: 'low' },
  );
  const output = await client.send(command, abortSignal === undefined ? {} : { abortSignal });
  if (raw === undefined) return { output, records: output.Records ?? [] };
  const records: WireRecord[] = new Array<WireRecord>(raw.length);
  for (let i = 0; i < raw.length; i++) {
    const r = raw[i] as RawWireRecord;
    records[i] = {
      Data: r.Data ?? '',
      PartitionKey: r.PartitionKey,
      SequenceNumber: r.SequenceNumber,
      ApproximateArrivalTimestamp: r.ApproximateArrivalTimestamp === undefined ? undefined : r.ApproximateArrivalTimestamp * 1000,
    };
  }
  return { output, records };
}
