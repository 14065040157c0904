import { PollingRecordSource, KmsSecretProvider, KmsService, MemoryCheckpointStore, ShardlineApp, createLogger } from 'shardline';
import { clearSecretCache, createTestApp } from 'shardline/testing';
import { CounterStore } from '../../templates/init/src/counter-store';
import { FlightCounter } from '../../templates/init/src/flight-counter';
import { createTestKey, localKmsClient } from '../../test/integration/kms/kms-test-keys';
import { createStream, localKinesis, uniqueName } from '../../test/integration/polling/polling-test-kit';
import { kinesisEndpoint } from '../../test/harness/endpoints';
import { putFlights, type Flight } from './put-flights';

/* The README's snippets, run for real: the producer snippet writes what the first consumer counts, through
   kinesis-local; the secrets snippet decrypts a kms: secret on the local KMS and masks it in its log lines. */

describe('README snippets against local servers', () => {
  it('putFlights (Producing records) writes flights that FlightCounter (A first consumer) counts per destination', async () => {
    const stream = uniqueName('readme-flights');
    const client = localKinesis();
    await createStream(client, stream, 2);
    const flights: Flight[] = Array.from({ length: 60 }, (_, i) => ({ dest: ['LAX', 'SFO', 'BOS'][i % 3]!, carrier: i % 2 === 0 ? 'AA' : 'UA' }));
    expect(await putFlights(flights, stream, { endpoint: kinesisEndpoint(), region: 'us-east-1' })).toBe(0);

    const store = new CounterStore();
    const logger = createLogger({ level: 'warn' });
    const source = new PollingRecordSource({ streamName: stream, client, checkpointStore: new MemoryCheckpointStore(), logger, idlePollIntervalMs: 200 });
    const app = await ShardlineApp.start({ consumer: FlightCounter, source, logger, providers: [{ provide: CounterStore, useValue: store }] });
    try {
      const deadline = Date.now() + 30_000;
      while (store.top(3).reduce((n, [, c]) => n + c, 0) < 60 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(store.top(3)).toEqual(expect.arrayContaining([['LAX', 20], ['SFO', 20], ['BOS', 20]]));
    } finally {
      await app.stop();
      client.destroy();
    }
  });

  it('FlightAlerts (Secrets) gets a kms: secret decrypted before @OnInit and masked in its log line', async () => {
    const key = await createTestKey('readme-secret');
    const kms = new KmsService({ client: localKmsClient() });
    const url = 'redis://:s3cret-pass@redis.internal:6379';
    process.env.REDIS_URL_SECRET = `kms:${await kms.encrypt(key.alias, url)}`;
    process.env.API_TOKEN = 'token-123456';
    clearSecretCache();
    try {
      // The @Secret reference is read when the class is defined: load the module after setting the variable.
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const { FlightAlerts } = require('./secret-consumer') as typeof import('./secret-consumer');
      const t = await createTestApp(FlightAlerts, { secretProvider: new KmsSecretProvider(kms) });
      await t.push('shardId-000000000000', [{ dest: 'LAX' }]);
      const line = t.logs.find((l) => l.includes('Connecting to'));
      expect(line).toMatch(/Connecting to \*\*\*\* with token \*\*\*\*$/);
      expect(t.logs.join('\n')).not.toContain('s3cret-pass');
      expect(t.logs.join('\n')).not.toContain('token-123456');
      await t.stop();
    } finally {
      delete process.env.REDIS_URL_SECRET;
      delete process.env.API_TOKEN;
    }
  });
});
