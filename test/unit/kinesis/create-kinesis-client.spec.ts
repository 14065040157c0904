import { DescribeStreamSummaryCommand } from '@aws-sdk/client-kinesis';
import { createServer, type ServerResponse } from 'node:http';
import { type AddressInfo } from 'node:net';
import { createKinesisClient } from '../../../src/kinesis/create-kinesis-client';
import { outcomeAgainstSilentEndpoint } from '../../fixtures/silent-endpoint';

describe('createKinesisClient', () => {
  it('keeps more than the SDK default of 50 calls in flight to one endpoint (a process reading many shards)', async () => {
    const inFlight = 80;
    const held: ServerResponse[] = [];
    const sockets = new Set<unknown>();
    let answerAll: () => void = () => undefined;
    const allArrived = new Promise<void>((resolve) => (answerAll = resolve));
    const server = createServer((request, response) => {
      sockets.add(request.socket);
      request.resume();
      held.push(response);
      if (held.length === inFlight) answerAll();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = createKinesisClient({ endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, region: 'us-east-1', maxAttempts: 1 });
    try {
      const calls = Array.from({ length: inFlight }, () => client.send(new DescribeStreamSummaryCommand({ StreamName: 's' })).catch((error: unknown) => error));
      // With 50 sockets, the 51st call would wait for an answer that only comes once all 80 arrived: a deadlock.
      let timer: NodeJS.Timeout | undefined;
      const arrived = await Promise.race([allArrived.then(() => true), new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(false), 5_000)))]);
      clearTimeout(timer);
      expect({ arrived, requests: held.length }).toEqual({ arrived: true, requests: inFlight });
      expect(sockets.size).toBe(inFlight);
      for (const response of held) response.writeHead(400, { 'content-type': 'application/x-amz-json-1.1' }).end('{"__type":"ResourceNotFoundException","message":"no"}');
      await Promise.all(calls);
    } finally {
      for (const response of held) if (!response.writableEnded) response.destroy();
      client.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('fails a call that gets no answer within requestTimeoutMs instead of waiting for ever (a silent endpoint)', async () => {
    const clients: Array<{ destroy(): void }> = [];
    try {
      const { outcome, ms } = await outcomeAgainstSilentEndpoint((endpoint) => {
        const client = createKinesisClient({ endpoint, region: 'us-east-1', maxAttempts: 1, requestTimeoutMs: 300 });
        clients.push(client);
        return client.send(new DescribeStreamSummaryCommand({ StreamName: 's' }));
      });
      expect(outcome).toBe('TimeoutError');
      expect(ms).toBeLessThan(3_000);
    } finally {
      for (const client of clients) client.destroy();
    }
  });
});
