import 'reflect-metadata';
import { Consumer, OnInit, OnRecords, Secret } from '../../../src/decorators';
import { ShardContext } from '../../../src/core/shard-context';
import { SecretResolutionError } from '../../../src/core/errors';
import { type SecretProvider, type SecretRequest } from '../../../src/core/secret-provider';
import { createLogger } from '../../../src/core/logger';
import { clearSecretCache, createTestApp, secretMask } from '../../../src/testing';

const SHARD = 'shardId-000000000000';
const TOKEN = 's3cr3t-Token-Value-42';

async function failure(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a failure');
}

describe('@Secret', () => {
  beforeEach(() => {
    clearSecretCache();
    secretMask.clear();
    process.env.SHARDLINE_TEST_TOKEN = TOKEN;
    delete process.env.SHARDLINE_TEST_MISSING;
  });
  afterAll(() => {
    delete process.env.SHARDLINE_TEST_TOKEN;
    clearSecretCache();
    secretMask.clear();
  });

  it('resolves env: secrets before @OnInit runs', async () => {
    let seenInInit: string | undefined;
    @Consumer({ streamName: 's', applicationName: 'secret-env' })
    class EnvSecret {
      @Secret('env:SHARDLINE_TEST_TOKEN') readonly token!: string;
      @OnInit() init(): void {
        seenInInit = this.token;
      }
      @OnRecords() handle(): void {}
    }
    const t = await createTestApp(EnvSecret);
    await t.openShard(SHARD);
    expect(seenInInit).toBe(TOKEN);
    await t.stop();
  });

  it('a missing env variable stops start-up with a SecretResolutionError naming Class.property, and no hook runs', async () => {
    const init = jest.fn();
    @Consumer({ streamName: 's', applicationName: 'secret-missing' })
    class MissingSecret {
      @Secret('env:SHARDLINE_TEST_TOKEN') readonly token!: string;
      @Secret('env:SHARDLINE_TEST_MISSING') readonly password!: string;
      @OnInit() init(): void {
        init();
      }
      @OnRecords() handle(): void {}
    }
    const error = await failure(createTestApp(MissingSecret));
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect(error.message).toBe(
      'cannot resolve secret MissingSecret.password: environment variable SHARDLINE_TEST_MISSING is not set; export it before starting',
    );
    expect(error.message).not.toContain(TOKEN);
    expect(init).not.toHaveBeenCalled();
  });

  it('kms: without a provider gives a clear error saying what to do', async () => {
    @Consumer({ streamName: 's', applicationName: 'secret-kms-none' })
    class KmsNoProvider {
      @Secret('kms:AQICAHhzZWNyZXQ=') readonly apiKey!: string;
      @OnRecords() handle(): void {}
    }
    const error = await failure(createTestApp(KmsNoProvider));
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect(error.message).toMatch(/^cannot resolve secret KmsNoProvider\.apiKey: no provider for 'kms:' secrets is registered; pass the KMS secret provider/);
  });

  it('kms: secrets go through a SecretProvider given to createTestApp, with their encryption context', async () => {
    const requests: SecretRequest[] = [];
    const provider: SecretProvider = {
      schemes: ['kms', 'kms-file'],
      resolve: async (request) => {
        requests.push(request);
        return `plain(${request.ref.slice(4)})`;
      },
    };
    let value: string | undefined;
    @Consumer({ streamName: 's', applicationName: 'secret-kms' })
    class KmsSecret {
      @Secret('kms:Y2lwaGVy', { encryptionContext: { app: 'orders' } }) readonly apiKey!: string;
      @OnInit() init(): void {
        value = this.apiKey;
      }
      @OnRecords() handle(): void {}
    }
    const t = await createTestApp(KmsSecret, { secretProvider: provider });
    await t.openShard(SHARD);
    await t.openShard('shardId-000000000001');
    expect(value).toBe('plain(Y2lwaGVy)');
    expect(requests).toEqual([{ scheme: 'kms', ref: 'kms:Y2lwaGVy', encryptionContext: { app: 'orders' }, target: 'KmsSecret.apiKey' }]);
    await t.stop();
  });

  it('a failing provider gives a SecretResolutionError naming the property', async () => {
    const provider: SecretProvider = { schemes: ['kms'], resolve: () => Promise.reject(new Error('AccessDeniedException: not allowed to decrypt')) };
    @Consumer({ streamName: 's', applicationName: 'secret-kms-fail' })
    class KmsFails {
      @Secret('kms:Y2lwaGVy') readonly apiKey!: string;
      @OnRecords() handle(): void {}
    }
    const error = await failure(createTestApp(KmsFails, { secretProvider: provider }));
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect(error.message).toBe('cannot resolve secret KmsFails.apiKey (kms:): AccessDeniedException: not allowed to decrypt');
  });

  it('masks the value in log lines and log metadata, even when the consumer logs it itself', async () => {
    @Consumer({ streamName: 's', applicationName: 'secret-leaky' })
    class Leaky {
      @Secret('env:SHARDLINE_TEST_TOKEN') readonly token!: string;
      constructor(private readonly shard: ShardContext) {}
      @OnRecords() handle(): void {
        this.shard.logger.info(`connecting with ${this.token}`, { token: this.token, nested: { list: [`Bearer ${this.token}`] } });
        this.shard.logger.error('failed', { error: new Error(`bad token ${this.token}`) });
      }
    }
    const t = await createTestApp(Leaky);
    await t.push(SHARD, ['x']);
    const text = t.logs.join('\n');
    expect(text).toContain('connecting with ****');
    expect(text).toContain('Bearer ****');
    expect(text).toContain('bad token ****');
    expect(text).not.toContain(TOKEN);
    await t.stop();

    const jsonLines: string[] = [];
    const json = createLogger({ format: 'json', destination: 'none' }, { sink: (l) => jsonLines.push(l) });
    json.child({ shardId: SHARD }).warn(`token=${TOKEN}`, { token: TOKEN });
    await json.close();
    expect(jsonLines).toHaveLength(1);
    expect(jsonLines[0]).not.toContain(TOKEN);
    expect(JSON.parse(jsonLines[0]!)).toMatchObject({ message: 'token=****', token: '****', shardId: SHARD });
  });

  it('the value is not in JSON.stringify(instance), in object spreads or Object.keys, and cannot be overwritten', async () => {
    let instance: Record<string, unknown> | undefined;
    @Consumer({ streamName: 's', applicationName: 'secret-json' })
    class Serialised {
      @Secret('env:SHARDLINE_TEST_TOKEN') readonly token!: string;
      readonly name = 'orders';
      @OnInit() init(): void {
        instance = this as unknown as Record<string, unknown>;
      }
      @OnRecords() handle(): void {}
    }
    const t = await createTestApp(Serialised);
    await t.openShard(SHARD);
    expect(instance?.token).toBe(TOKEN);
    expect(JSON.stringify(instance)).toBe('{"name":"orders"}');
    expect({ ...instance }).toEqual({ name: 'orders' });
    expect(Object.keys(instance!)).toEqual(['name']);
    expect(() => {
      (instance as { token: string }).token = 'other';
    }).toThrow(TypeError);
    await t.stop();
  });
});
