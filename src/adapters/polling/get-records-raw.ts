import { GetRecordsCommand, type GetRecordsCommandInput, type GetRecordsCommandOutput, type KinesisClient } from '@aws-sdk/client-kinesis';
import { Readable } from 'node:stream';
import { type WireRecord } from './record-converter';

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
      const chunks: Buffer[] = [];
      for await (const chunk of response.body) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
      const text = Buffer.concat(chunks).toString('utf8');
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
