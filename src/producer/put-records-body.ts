import { PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';

/**
 * What the producer sends per record: its bytes, partition key and optional explicit hash key, and the same as the
 * SDK's PutRecords entry (the producer's entries are both, through getters: nothing is copied).
 */
export interface PutRecordsBodyEntry extends PutRecordsRequestEntry {
  readonly data: Buffer;
  readonly partitionKey: string;
  readonly explicitHashKey: string | undefined;
}

/** The stream as the SDK's commands name it. */
export type StreamParams = { StreamName: string } | { StreamARN: string };

const EMPTY_RECORDS: [] = [];

/**
 * A PutRecords command whose request body shardline encodes itself, in one Buffer: the JSON the SDK would send
 * (`{"StreamName"|"StreamARN":..,"Records":[{"Data":base64,"PartitionKey":..,"ExplicitHashKey":..},..]}`) with the
 * base64 of each record's data written natively. The SDK's serializer walks every record member by member through
 * its schema and base64-encodes byte by byte in JavaScript; that is a third of a plain PutRecords loop's CPU per
 * record. Everything else is the SDK's, unchanged: endpoint, signing (over this body), retries of the call, the
 * response.
 *
 * The command's `input.Records` are the entries themselves (what fakes and logging middleware see); a serialize-step
 * middleware hands the SDK's serializer an empty list instead, and a build-step one puts this body in its place.
 */
export function createPutRecordsCommand(stream: StreamParams, entries: readonly PutRecordsBodyEntry[]): PutRecordsCommand {
  const command = new PutRecordsCommand({ ...stream, Records: entries as PutRecordsBodyEntry[] });
  command.middlewareStack.add(
    (next) => (args) => next({ ...args, input: { ...(args.input as object), Records: EMPTY_RECORDS } }),
    { step: 'serialize', priority: 'high', name: 'shardlinePutRecordsSkipSerializer' },
  );
  command.middlewareStack.add(
    (next) => (args) => {
      const request = args.request as { headers?: Record<string, string>; body?: unknown };
      if (request.headers !== undefined) {
        const body = encodePutRecordsBody(stream, entries);
        for (const name of Object.keys(request.headers)) if (name.toLowerCase() === 'content-length') delete request.headers[name];
        request.headers['content-length'] = String(body.length);
        request.body = body;
      }
      return next(args);
    },
    { step: 'build', priority: 'high', name: 'shardlinePutRecordsBody' },
  );
  return command;
}

/** Bytes of `"Data":"` + `","PartitionKey":` and the braces and comma around one record. */
const RECORD_FIXED_BYTES = '{"Data":"","PartitionKey":},'.length; // the key's quotes are counted with the key
const EXPLICIT_HASH_KEY_FIXED_BYTES = ',"ExplicitHashKey":""'.length;

/** The PutRecords request body for `entries` (exactly what `JSON.parse` of the SDK's body would equal). */
export function encodePutRecordsBody(stream: StreamParams, entries: readonly PutRecordsBodyEntry[]): Buffer {
  const head = `{${'StreamName' in stream ? `"StreamName":${JSON.stringify(stream.StreamName)}` : `"StreamARN":${JSON.stringify(stream.StreamARN)}`},"Records":[`;
  // Exact size first. Keys that need JSON escaping (rare) are encoded once here and kept; the others are written as is.
  let escapedKeys: (string | undefined)[] | undefined;
  let size = Buffer.byteLength(head, 'utf8') + 2;
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    const key = entry.partitionKey;
    if (isPlainAscii(key)) size += key.length + 2;
    else {
      escapedKeys ??= new Array<string | undefined>(entries.length);
      const escaped = JSON.stringify(key);
      escapedKeys[i] = escaped;
      size += Buffer.byteLength(escaped, 'utf8');
    }
    size += RECORD_FIXED_BYTES + base64Length(entry.data.length);
    if (entry.explicitHashKey !== undefined) size += EXPLICIT_HASH_KEY_FIXED_BYTES + entry.explicitHashKey.length;
  }
  if (entries.length > 0) size--; // no comma after the last record
  const body = Buffer.allocUnsafe(size);
  let pos = body.write(head, 0, 'utf8');
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    pos = writeAscii(body, pos, i === 0 ? '{"Data":"' : ',{"Data":"');
    pos = writeBase64(body, pos, entry.data);
    pos = writeAscii(body, pos, '","PartitionKey":');
    const escaped = escapedKeys?.[i];
    if (escaped !== undefined) pos += body.write(escaped, pos, 'utf8');
    else {
      body[pos++] = 0x22;
      pos = writeAscii(body, pos, entry.partitionKey);
      body[pos++] = 0x22;
    }
    if (entry.explicitHashKey !== undefined) {
      pos = writeAscii(body, pos, ',"ExplicitHashKey":"');
      pos = writeAscii(body, pos, entry.explicitHashKey); // decimal digits (validated by put)
      body[pos++] = 0x22;
    }
    body[pos++] = 0x7d;
  }
  body[pos++] = 0x5d;
  body[pos++] = 0x7d;
  if (pos !== size) throw new RangeError(`internal size mismatch encoding a PutRecords body: wrote ${pos} bytes, expected ${size}`);
  return body;
}

// Records are small (a few hundred bytes): byte loops in JavaScript beat a native call (and its argument checks)
// per field.

/** Writes an ASCII string byte by byte; returns the position after it. */
function writeAscii(body: Buffer, pos: number, text: string): number {
  for (let i = 0; i < text.length; i++) body[pos++] = text.charCodeAt(i);
  return pos;
}

const BASE64 = Uint8Array.from('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/', (c) => c.charCodeAt(0));
/** The two base64 characters of every 12-bit value, first character in the high byte. */
const BASE64_PAIRS = Uint16Array.from({ length: 4096 }, (_, v) => (BASE64[v >>> 6]! << 8) | BASE64[v & 63]!);

/** Above this many bytes (aggregates), one native call encodes faster than the loop. */
const NATIVE_BASE64_BYTES = 1024;

/** Writes `data` as standard padded base64; returns the position after it. */
function writeBase64(body: Buffer, pos: number, data: Buffer): number {
  // Measured in bench/producer: encoding aggregates with the loop too (no temporary string) saved no CPU.
  if (data.length > NATIVE_BASE64_BYTES) return pos + body.write(data.toString('base64'), pos, 'latin1');
  const whole = data.length - (data.length % 3);
  for (let i = 0; i < whole; i += 3) {
    // Three bytes are four characters: two look-ups of 12 bits, each giving two characters.
    const triple = (data[i]! << 16) | (data[i + 1]! << 8) | data[i + 2]!;
    const high = BASE64_PAIRS[triple >>> 12]!;
    const low = BASE64_PAIRS[triple & 4095]!;
    body[pos] = high >>> 8;
    body[pos + 1] = high & 255;
    body[pos + 2] = low >>> 8;
    body[pos + 3] = low & 255;
    pos += 4;
  }
  const rest = data.length - whole;
  if (rest === 1) {
    const byte = data[whole]!;
    body[pos++] = BASE64[byte >>> 2]!;
    body[pos++] = BASE64[(byte & 3) << 4]!;
    body[pos++] = 0x3d;
    body[pos++] = 0x3d;
  } else if (rest === 2) {
    const pair = (data[whole]! << 8) | data[whole + 1]!;
    body[pos++] = BASE64[pair >>> 10]!;
    body[pos++] = BASE64[(pair >>> 4) & 63]!;
    body[pos++] = BASE64[(pair & 15) << 2]!;
    body[pos++] = 0x3d;
  }
  return pos;
}

function base64Length(bytes: number): number {
  return Math.ceil(bytes / 3) * 4;
}

/** Whether `value` is printable ASCII without `"` or `\\`, i.e. its own JSON text once quoted. */
function isPlainAscii(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code > 0x7e || code === 0x22 || code === 0x5c) return false;
  }
  return true;
}
