import { clearSecretCache, createTestApp } from 'shardline/testing';
import { type SecretProvider, type SecretRequest } from 'shardline';
import { type FlightsRedisClient } from '../../../examples/flights-redis/redis-client';
import { FakeRedis } from './fake-redis';

const CIPHERTEXT = 'AQICAHhFakeCiphertextForTheTest/+==';
const PLAINTEXT_URL = 'redis://:kms-only-password@redis.prod.internal:6379/0';

describe('FlightsRedisConsumer with a kms: secret', () => {
  it('decrypts FLIGHTS_REDIS_URL_SECRET=kms:… through the secret provider and connects with the plaintext', async () => {
    process.env.FLIGHTS_REDIS_URL_SECRET = `kms:${CIPHERTEXT}`;
    clearSecretCache();
    // The @Secret reference is read when the class is defined, so load the module after setting the variable.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const consumerModule = require('../../../examples/flights-redis/flights-redis') as typeof import('../../../examples/flights-redis/flights-redis');
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { REDIS_CLIENT_FACTORY } = require('../../../examples/flights-redis/redis-client') as typeof import('../../../examples/flights-redis/redis-client');
    expect(consumerModule.REDIS_URL_SECRET_REF).toBe(`kms:${CIPHERTEXT}`);

    const requests: SecretRequest[] = [];
    const kms: SecretProvider = {
      schemes: ['kms', 'kms-file'],
      resolve: async (request) => {
        requests.push(request);
        return PLAINTEXT_URL;
      },
    };
    const urls: string[] = [];
    const redis = new FakeRedis();
    const t = await createTestApp(consumerModule.FlightsRedisConsumer, {
      secretProvider: kms,
      providers: [
        {
          provide: REDIS_CLIENT_FACTORY,
          useValue: (url: string): FlightsRedisClient => {
            urls.push(url);
            return redis;
          },
        },
      ],
    });
    await t.push('shardId-000000000000', [{ dest: 'PDX' }]);
    await t.stop();
    expect(requests).toEqual([expect.objectContaining({ scheme: 'kms', ref: `kms:${CIPHERTEXT}`, target: 'FlightsRedisConsumer.redisUrl' })]);
    expect(urls).toEqual([PLAINTEXT_URL]);
    expect(redis.strings.get('flight:PDX')).toBe(1);
    expect(t.logs.join('\n')).toContain('Redis URL from its kms: secret');
    expect(t.logs.join('\n')).not.toContain('kms-only-password');
    delete process.env.FLIGHTS_REDIS_URL_SECRET;
  });
});
