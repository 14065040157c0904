import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { createHttpHandler } from '../../../src/core/http-handler';

describe('createHttpHandler (the handler of every AWS client shardline creates)', () => {
  it('fails a call to an endpoint that accepts and never answers after requestTimeoutMs (KMS: a secret never hangs the start)', async () => {
    const sockets = new Set<Socket>();
    const silent = createServer((socket) => void sockets.add(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const client = new KMSClient({
      region: 'us-east-1',
      endpoint: `http://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
      maxAttempts: 1,
      requestHandler: createHttpHandler({ connectionTimeoutMs: 1_000, requestTimeoutMs: 300 }),
    });
    try {
      const started = Date.now();
      const outcome = await Promise.race([
        client.send(new DecryptCommand({ CiphertextBlob: new Uint8Array([1, 2, 3]) })).then(
          () => 'answered',
          (error: unknown) => (error as Error).name,
        ),
        new Promise<string>((resolve) => setTimeout(() => resolve('still waiting after 4 s'), 4_000).unref()),
      ]);
      expect(outcome).toBe('TimeoutError');
      expect(Date.now() - started).toBeLessThan(3_000);
    } finally {
      client.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});
