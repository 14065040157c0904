import { DecryptCommand, InvalidCiphertextException, KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { KmsSecretProvider, KmsService, SecretResolutionError } from 'shardline';
import { createSecretProvider } from '../../../src/cli/secret-provider-factory';

const kmsMock = mockClient(KMSClient);
beforeEach(() => kmsMock.reset());

const service = (): KmsService => new KmsService({ client: new KMSClient({ region: 'us-east-1' }), retryBaseDelayMs: 1, retryMaxDelayMs: 1 });

describe('KmsSecretProvider', () => {
  it('decrypts kms: secrets with their encryption context', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: Buffer.from('redis.internal'), KeyId: 'arn' });
    const provider = new KmsSecretProvider(service());
    const ciphertext = Buffer.from('blob').toString('base64');
    await expect(provider.resolve({ scheme: 'kms', ref: `kms:${ciphertext}`, encryptionContext: { app: 'a' }, target: 'C.host' })).resolves.toBe('redis.internal');
    expect(kmsMock.commandCalls(DecryptCommand)[0]?.args[0].input.EncryptionContext).toEqual({ app: 'a' });
  });

  it('creates the KMS service only when the first secret is resolved', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: Buffer.from('v'), KeyId: 'arn' });
    const factory = jest.fn(service);
    const provider = new KmsSecretProvider(factory);
    expect(provider.schemes).toEqual(['kms', 'kms-file']);
    expect(factory).not.toHaveBeenCalled();
    await provider.resolve({ scheme: 'kms', ref: 'kms:AAAA', encryptionContext: undefined, target: 'C.a' });
    await provider.resolve({ scheme: 'kms', ref: 'kms:BBBB', encryptionContext: undefined, target: 'C.b' });
    expect(factory).toHaveBeenCalledTimes(1);
  });

  it('fails with a SecretResolutionError naming the property and the reason, never a value', async () => {
    kmsMock.on(DecryptCommand).rejects(new InvalidCiphertextException({ message: 'UnknownError', $metadata: {} }));
    const provider = new KmsSecretProvider(service());
    const error = (await provider.resolve({ scheme: 'kms', ref: 'kms:AAAA', encryptionContext: { app: 'x' }, target: 'Flights.redisHost' }).catch((e: unknown) => e)) as Error;
    expect(error).toBeInstanceOf(SecretResolutionError);
    expect(error.message).toMatch(/^cannot resolve secret Flights\.redisHost \(kms:\): KMS Decrypt failed: .*InvalidCiphertextException.*encryption context/);
    expect(error.message).not.toContain('\n');
  });

  it('says when a kms-file: secret file does not exist', async () => {
    const provider = new KmsSecretProvider(service());
    await expect(provider.resolve({ scheme: 'kms-file', ref: 'kms-file:does/not/exist.enc', encryptionContext: undefined, target: 'C.key' })).rejects.toThrow(
      /cannot resolve secret C\.key \(kms-file:\): cannot read .*does\/not\/exist\.enc: no such file/,
    );
  });
});

describe('createSecretProvider (shardline run)', () => {
  it('gives a KMS provider that builds no client until a kms secret is resolved', () => {
    const provider = createSecretProvider({ adapter: 'memory', shutdownTimeoutMs: 1000 }, {});
    expect(provider.schemes).toEqual(['kms', 'kms-file']);
  });
});
