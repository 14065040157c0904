import { KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from '@aws-sdk/client-kinesis';
import { HttpResponse } from '@smithy/core/transport';
import { hash, randomBytes } from 'node:crypto';
import { Readable } from 'node:stream';
import { KinesisProducer, type ProducerRecord } from '../../../src/producer/kinesis-producer';
import { createPutRecordsCommand, encodePutRecordsBody, type PutRecordsBodyEntry } from '../../../src/producer/put-records-body';

interface WireRecord {
  Data: string;
  PartitionKey: string;
  ExplicitHashKey?: string;
}

/**
 * A real KinesisClient whose HTTP handler reads the request body off the wire (what a Kinesis endpoint would parse)
 * and answers with `answer`; every body it saw is kept.
 */
function wireClient(answer: (target: string, body: { Records?: WireRecord[] }) => unknown): { client: KinesisClient; bodies: string[] } {
  const bodies: string[] = [];
  const client = new KinesisClient({
    region: 'us-east-1',
    endpoint: 'http://127.0.0.1:1',
    credentials: { accessKeyId: 'a', secretAccessKey: 'b' },
    maxAttempts: 1,
    requestHandler: {
      handle: (request: { headers: Record<string, string>; body: Uint8Array | string }) => {
        const text = typeof request.body === 'string' ? request.body : Buffer.from(request.body.buffer, request.body.byteOffset, request.body.byteLength).toString('utf8');
        expect(Number(request.headers['content-length'])).toBe(Buffer.byteLength(text));
        bodies.push(text);
        const reply = JSON.stringify(answer(request.headers['x-amz-target'] ?? '', JSON.parse(text) as { Records?: WireRecord[] }));
        return Promise.resolve({ response: new HttpResponse({ statusCode: 200, headers: { 'content-type': 'application/x-amz-json-1.1' }, body: Readable.from([Buffer.from(reply)]) }) });
      },
      updateHttpClientConfig: () => undefined,
      httpHandlerConfigs: () => ({}),
    } as never,
  });
  return { client, bodies };
}

function entry(data: Buffer, partitionKey: string, explicitHashKey?: string): PutRecordsBodyEntry {
  return { data, partitionKey, explicitHashKey, Data: data, PartitionKey: partitionKey, ExplicitHashKey: explicitHashKey };
}

describe('encodePutRecordsBody', () => {
  const keys = ['k', 'plain-key_1.2', 'quote"back\\slash', 'tab\tnew\nline\u0001', 'café', '日本語', '😀 pair', 'lone \ud800', '~ !#$%&\'()*+,-./:;<=>?@[]^_`{|}'];

  it('is the JSON the SDK sends, for any key, data length and explicit hash key', async () => {
    const entries = keys.flatMap((key, i) => [entry(randomBytes(i), key), entry(randomBytes(200 + i), key, String(BigInt(`0x${hash('md5', key, 'hex')}`))), entry(randomBytes(3000 + i), key)]);
    const sdk = wireClient(() => ({ FailedRecordCount: 0, Records: [] }));
    for (const stream of [{ StreamName: 'flights' }, { StreamARN: 'arn:aws:kinesis:us-east-1:123456789012:stream/flights' }]) {
      await sdk.client.send(new PutRecordsCommand({ ...stream, Records: entries.map((e): PutRecordsRequestEntry => ({ Data: e.data, PartitionKey: e.partitionKey, ExplicitHashKey: e.explicitHashKey })) }));
      expect(JSON.parse(encodePutRecordsBody(stream, entries).toString('utf8'))).toEqual(JSON.parse(sdk.bodies.pop()!));
    }
  });

  it('is what createPutRecordsCommand puts on the wire (signed, with its length), while input.Records stay the entries', async () => {
    const entries = [entry(Buffer.from('hello'), 'k"é', '12'), entry(Buffer.alloc(0), 'k2')];
    const wire = wireClient(() => ({ FailedRecordCount: 0, Records: [{ SequenceNumber: '1', ShardId: 's' }, { SequenceNumber: '2', ShardId: 's' }] }));
    const command = createPutRecordsCommand({ StreamName: 's' }, entries);
    expect(command.input.Records).toBe(entries);
    const response = await wire.client.send(command);
    expect(response.Records).toEqual([{ SequenceNumber: '1', ShardId: 's' }, { SequenceNumber: '2', ShardId: 's' }]);
    expect(wire.bodies).toEqual([encodePutRecordsBody({ StreamName: 's' }, entries).toString('utf8')]);
    expect(JSON.parse(wire.bodies[0]!)).toEqual({ StreamName: 's', Records: [{ Data: 'aGVsbG8=', PartitionKey: 'k"é', ExplicitHashKey: '12' }, { Data: '', PartitionKey: 'k2' }] });
  });
});

describe('KinesisProducer over the encoded body', () => {
  const SHARDS = [0n, 1n].map((i) => ({ ShardId: `shardId-${i}`, HashKeyRange: { StartingHashKey: String(i << 127n), EndingHashKey: String(((i + 1n) << 127n) - 1n) }, SequenceNumberRange: { StartingSequenceNumber: '1' } }));

  /** A wire-level stream that fails every third entry of each call the first `failRounds` times it sees it. */
  function flakyStream(failRounds: number): { client: KinesisClient; stored: WireRecord[]; failures: () => number } {
    const stored: WireRecord[] = [];
    const seen = new Map<string, number>();
    let failures = 0;
    let sequence = 0;
    const { client } = wireClient((target, body) => {
      if (target.endsWith('ListShards')) return { Shards: SHARDS };
      const results = (body.Records ?? []).map((record, i) => {
        const times = (seen.get(record.Data) ?? 0) + 1;
        seen.set(record.Data, times);
        if (i % 3 === 0 && times <= failRounds) {
          failures++;
          return { ErrorCode: 'ProvisionedThroughputExceededException', ErrorMessage: 'slow down' };
        }
        stored.push(record);
        const hashKey = record.ExplicitHashKey !== undefined ? BigInt(record.ExplicitHashKey) : BigInt(`0x${hash('md5', record.PartitionKey, 'hex')}`);
        return { SequenceNumber: String(++sequence), ShardId: `shardId-${hashKey >> 127n}` };
      });
      return { FailedRecordCount: results.filter((r) => 'ErrorCode' in r).length, Records: results };
    });
    return { client, stored, failures: () => failures };
  }

  it('delivers every record of a putMany exactly once when entries fail in part (none dropped, none doubled)', async () => {
    const stream = flakyStream(2);
    const producer = new KinesisProducer(stream.client, { streamName: 's', lingerMs: 1, retryBaseMs: 1, retryCapMs: 2, maxAttempts: 5 });
    const texts = Array.from({ length: 1234 }, (_, i) => `record-${i}`);
    const records: ProducerRecord[] = texts.map((text, i) => ({ data: text, partitionKey: `key-${i % 50}` }));
    const result = await producer.putMany(records);
    await producer.close();
    expect(stream.failures()).toBeGreaterThan(0);
    expect(result).toMatchObject({ deliveredCount: 1234, failedCount: 0 });
    const delivered = stream.stored.map((record) => Buffer.from(record.Data, 'base64').toString()).sort();
    expect(delivered).toEqual([...texts].sort());
  });

  it('reports the records whose last attempt failed instead of dropping them', async () => {
    const stream = flakyStream(10);
    const producer = new KinesisProducer(stream.client, { streamName: 's', lingerMs: 1, retryBaseMs: 1, retryCapMs: 2, maxAttempts: 2 });
    const puts = Array.from({ length: 30 }, (_, i) => producer.put(`p${i}`, `k${i}`).then(() => 'ok', (error: Error) => error.message));
    const settled = await Promise.all(puts);
    await producer.close();
    const failed = settled.filter((outcome) => outcome !== 'ok');
    expect(failed.length).toBeGreaterThan(0);
    expect(failed.every((message) => message.includes('ProvisionedThroughputExceededException'))).toBe(true);
    expect(stream.stored.length + failed.length).toBe(30);
  });

  it('aggregates onto each key shard through the encoded body', async () => {
    const stream = flakyStream(1);
    const producer = new KinesisProducer(stream.client, { streamName: 's', aggregate: true, lingerMs: 1, retryBaseMs: 1, retryCapMs: 2 });
    const result = await producer.putMany(Array.from({ length: 500 }, (_, i) => ({ data: randomBytes(100), partitionKey: `key-${i}` })));
    await producer.close();
    expect(result).toMatchObject({ deliveredCount: 500, failedCount: 0 });
    for (let i = 0; i < 500; i++) expect(result.shardIds[i]).toBe(`shardId-${BigInt(`0x${hash('md5', `key-${i}`, 'hex')}`) >> 127n}`);
  });
});
