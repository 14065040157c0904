import { createServer, type Server } from 'node:http';
import { type AddressInfo } from 'node:net';
import { getRecordsRaw } from '../../../src/adapters/polling/get-records-raw';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';

/** A loopback server answering GetRecords with `bodies` in turn (with or without a content-length header). */
async function serve(bodies: readonly Buffer[], withLength: boolean): Promise<{ server: Server; endpoint: string }> {
  let calls = 0;
  const server = createServer((request, response) => {
    request.resume();
    request.on('end', () => {
      const body = bodies[calls++ % bodies.length] as Buffer;
      response.statusCode = 200;
      response.setHeader('content-type', 'application/x-amz-json-1.1');
      if (withLength) response.setHeader('content-length', String(body.length));
      // Several chunks, so that the body is assembled from pieces.
      const middle = Math.floor(body.length / 2);
      response.write(body.subarray(0, middle));
      setImmediate(() => response.end(body.subarray(middle)));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}` };
}

const page = (partitionKey: string, first = 'first', second = 'second'): Buffer =>
  Buffer.from(
    JSON.stringify({
      Records: [
        { SequenceNumber: '4960000000000000000001', Data: Buffer.from(first).toString('base64'), PartitionKey: partitionKey, ApproximateArrivalTimestamp: 1764480000.5 },
        { SequenceNumber: '4960000000000000000002', Data: Buffer.from(second).toString('base64'), PartitionKey: 'plain' },
      ],
      NextShardIterator: 'next-iterator',
      MillisBehindLatest: 1234,
    }),
    'utf8',
  );

describe('getRecordsRaw', () => {
  const cases: Array<[string, string, boolean]> = [
    ['an ASCII body with a content-length', 'key-1', true],
    ['an ASCII body without a content-length', 'key-1', false],
    // Kinesis may send a partition key's non-ASCII characters as raw UTF-8: the body is then not ASCII.
    ['a body with raw UTF-8 in a partition key', 'ключ-€-🙂', true],
    ['a body with raw UTF-8, without a content-length', 'ключ-€-🙂', false],
  ];

  it.each(cases)('reads %s: records as the wire carried them, the rest through the SDK', async (_name, partitionKey, withLength) => {
    const { server, endpoint } = await serve([page(partitionKey), page('other', 'FIRST', 'SECOND')], withLength);
    try {
      const client = createKinesisClient({ endpoint, region: 'us-east-1' });
      const { output, records } = await getRecordsRaw(client, { ShardIterator: 'it', Limit: 10 });
      expect(records.map((r) => [r.SequenceNumber, r.PartitionKey, Buffer.from(r.Data as string, 'base64').toString()])).toEqual([
        ['4960000000000000000001', partitionKey, 'first'],
        ['4960000000000000000002', 'plain', 'second'],
      ]);
      expect(typeof records[0]?.Data).toBe('string'); // still base64: decoded only when a handler reads it
      expect(records[0]?.ApproximateArrivalTimestamp).toBe(1764480000500);
      expect(output.NextShardIterator).toBe('next-iterator');
      expect(output.MillisBehindLatest).toBe(1234);
      expect(output.Records).toEqual([]);
      // Another page read into the same (pooled) buffer leaves the first page's records as they were.
      const again = await getRecordsRaw(client, { ShardIterator: 'it', Limit: 10 });
      expect(again.records.map((r) => [r.PartitionKey, Buffer.from(r.Data as string, 'base64').toString()])).toEqual([
        ['other', 'FIRST'],
        ['plain', 'SECOND'],
      ]);
      expect(records.map((r) => [r.PartitionKey, Buffer.from(r.Data as string, 'base64').toString()])).toEqual([
        [partitionKey, 'first'],
        ['plain', 'second'],
      ]);
      client.destroy();
    } finally {
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
