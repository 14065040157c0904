import { DecryptCommand, KMSClient } from '@aws-sdk/client-kms';
import { createHttpHandler } from '../../../src/core/http-handler';
import { outcomeAgainstSilentEndpoint } from '../../fixtures/silent-endpoint';

describe('createHttpHandler (the handler of every AWS client shardline creates)', () => {
  it('fails a call to an endpoint that accepts and never answers after requestTimeoutMs (KMS: a secret never hangs the start)', async () => {
    const clients: KMSClient[] = [];
    try {
      const { outcome, ms } = await outcomeAgainstSilentEndpoint((endpoint) => {
        const client = new KMSClient({
          region: 'us-east-1',
          endpoint,
          credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
          maxAttempts: 1,
          requestHandler: createHttpHandler({ connectionTimeoutMs: 1_000, requestTimeoutMs: 300 }),
        });
        clients.push(client);
        return client.send(new DecryptCommand({ CiphertextBlob: new Uint8Array([1, 2, 3]) }));
      });
      expect(outcome).toBe('TimeoutError');
      expect(ms).toBeLessThan(3_000);
    } finally {
      for (const client of clients) client.destroy();
    }
  });
});
