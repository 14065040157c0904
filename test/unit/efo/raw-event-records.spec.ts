import { EventStreamCodec } from '@smithy/core/event-streams';
import { fromUtf8, toUtf8 } from '@smithy/core/serde';
import { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { RawEventRecords, RecordsSplitter } from '../../../src/adapters/efo/raw-event-records';
import { type WireRecord } from '../../../src/adapters/polling/record-converter';

const codec = new EventStreamCodec(toUtf8, fromUtf8);

function message(headers: Record<string, string>, body: unknown): Buffer {
  const formatted = Object.fromEntries(Object.entries(headers).map(([name, value]) => [name, { type: 'string' as const, value }]));
  return Buffer.from(codec.encode({ headers: formatted, body: Buffer.from(JSON.stringify(body)) }));
}

const EVENT = { ':message-type': 'event', ':event-type': 'SubscribeToShardEvent', ':content-type': 'application/json' };

function event(first: number, count: number, continuation: string): { bytes: Buffer; records: Array<Record<string, unknown>> } {
  const records = Array.from({ length: count }, (_, i) => ({
    SequenceNumber: String(1000 + first + i),
    Data: Buffer.from(`payload ${first + i} ✓`).toString('base64'),
    PartitionKey: i % 2 === 0 ? 'ключ' : 'pk',
    ApproximateArrivalTimestamp: 1764464361.123,
  }));
  return { bytes: message(EVENT, { Records: records, ContinuationSequenceNumber: continuation, MillisBehindLatest: 42 }), records };
}

/** Runs `input` through a splitter in chunks of `chunkBytes`; returns the output messages and the records it kept. */
async function split(input: Buffer, chunkBytes: number): Promise<{ messages: Buffer[]; kept: WireRecord[][] }> {
  const kept: WireRecord[][] = [];
  const splitter = new RecordsSplitter(crc32, (records) => kept.push(records));
  const chunks: Buffer[] = [];
  for (let at = 0; at < input.length; at += chunkBytes) chunks.push(input.subarray(at, at + chunkBytes));
  const out: Buffer[] = [];
  for await (const piece of Readable.from(chunks).pipe(splitter)) out.push(piece as Buffer);
  const whole = Buffer.concat(out);
  const messages: Buffer[] = [];
  for (let at = 0; at < whole.length; ) {
    const total = whole.readUInt32BE(at);
    messages.push(whole.subarray(at, at + total));
    at += total;
  }
  return { messages, kept };
}

describe('RecordsSplitter (the records of SubscribeToShard events, taken out before the SDK decodes them)', () => {
  const initial = message({ ':message-type': 'event', ':event-type': 'initial-response', ':content-type': 'application/json' }, {});
  const exception = message({ ':message-type': 'exception', ':exception-type': 'ResourceInUseException', ':content-type': 'application/json' }, { message: 'taken over' });

  it.each([7, 64, 100_000])('keeps each event’s records in order and hands on the event without them (chunks of %i bytes)', async (chunkBytes) => {
    const a = event(0, 3, '1002');
    const b = event(3, 0, '1002');
    const c = event(3, 2, '1004');
    const { messages, kept } = await split(Buffer.concat([initial, a.bytes, b.bytes, c.bytes, exception]), chunkBytes);
    expect(messages).toHaveLength(5);
    expect(messages[0]).toEqual(initial);
    expect(messages[4]).toEqual(exception);
    for (const [i, original] of [a, b, c].entries()) {
      const decoded = codec.decode(messages[i + 1] as Buffer); // throws on a bad CRC
      expect(decoded.headers[':event-type']?.value).toBe('SubscribeToShardEvent');
      const body = JSON.parse(Buffer.from(decoded.body).toString('utf8')) as Record<string, unknown>;
      expect(body).toEqual({ Records: [], ContinuationSequenceNumber: i === 2 ? '1004' : '1002', MillisBehindLatest: 42 });
      expect(kept[i]).toEqual(original.records.map((r) => ({ ...r, ApproximateArrivalTimestamp: 1764464361123 })));
    }
    expect(kept).toHaveLength(3);
    expect(Buffer.from(kept[0]?.[0]?.Data as string, 'base64').toString()).toBe('payload 0 ✓');
  });

  it('passes an event with a bad CRC on unchanged (the SDK rejects it) and keeps nothing for it', async () => {
    const bad = Buffer.from(event(0, 2, '1001').bytes);
    bad[bad.length - 10] = (bad[bad.length - 10] as number) ^ 0xff;
    const { messages, kept } = await split(bad, 50);
    expect(messages).toEqual([bad]);
    expect(kept).toEqual([]);
  });

  it('passes an event whose body is not a JSON object on unchanged, keeping nothing (no exception in the stream)', async () => {
    const odd = message(EVENT, null);
    const after = event(0, 2, '1001');
    const { messages, kept } = await split(Buffer.concat([odd, after.bytes]), 100_000);
    expect(messages[0]).toEqual(odd);
    expect(kept).toHaveLength(1); // the next event's records only
  });

  it('from a message whose headers it cannot read on, passes everything unchanged, also what came in the same chunk', async () => {
    // A header of a type the splitter does not know (99): the block cannot be read, so it stops taking records out.
    const headers = Buffer.concat([Buffer.from([5]), Buffer.from('weird'), Buffer.from([99, 0, 0])]);
    const body = Buffer.from('{}');
    const total = 12 + headers.length + body.length + 4;
    const odd = Buffer.alloc(total);
    odd.writeUInt32BE(total, 0);
    odd.writeUInt32BE(headers.length, 4);
    odd.writeUInt32BE(crc32(odd.subarray(0, 8)), 8);
    headers.copy(odd, 12);
    body.copy(odd, 12 + headers.length);
    odd.writeUInt32BE(crc32(odd.subarray(0, total - 4)), total - 4);
    const before = event(0, 1, '1000');
    const after = event(1, 2, '1002');
    const { messages, kept } = await split(Buffer.concat([before.bytes, odd, after.bytes]), 100_000); // one chunk
    expect(kept).toHaveLength(1); // only the event before it
    expect(messages[1]).toEqual(odd);
    expect(messages[2]).toEqual(after.bytes); // unchanged: the SDK decodes its records itself
  });

  it('pairs the kept records with the SDK’s events, and falls back to the SDK’s records when none were kept', () => {
    const raw = new RawEventRecords();
    const sdk: WireRecord[] = [{ Data: new Uint8Array([1]), SequenceNumber: '1' }];
    expect(raw.take(sdk)).toBe(sdk);
    expect(raw.take(undefined)).toEqual([]);
  });
});
