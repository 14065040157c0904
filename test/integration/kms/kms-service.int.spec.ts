import { buildClient, CommitmentPolicy, getClient, KMS, KmsKeyringNode } from '@aws-crypto/client-node';
import { KmsError, KmsService } from 'shardline';
import { kmsEndpoint, TEST_CREDENTIALS, TEST_REGION } from '../../harness/endpoints';
import { createTestKey, type TestKey } from './kms-test-keys';

/** KmsService against the local KMS (moto server): real HTTP, real KMS wire protocol. */
describe('KmsService on a local KMS', () => {
  let key: TestKey;
  let kms: KmsService;

  beforeAll(async () => {
    key = await createTestKey('service');
    kms = new KmsService({ region: TEST_REGION, endpoint: kmsEndpoint(), credentials: TEST_CREDENTIALS });
  });

  afterAll(() => kms.client.destroy());

  it.each([
    ['alias', (k: TestKey) => k.alias],
    ['key ARN', (k: TestKey) => k.keyArn],
    ['alias ARN', (k: TestKey) => k.aliasArn],
    ['key id', (k: TestKey) => k.keyId],
  ])('round-trips a secret encrypted by %s', async (_name, pick) => {
    const ciphertext = await kms.encrypt(pick(key), 'redis.internal:6379', { app: 'flights' });
    expect(ciphertext).toMatch(/^[A-Za-z0-9+/]+={0,2}$/);
    expect(Buffer.from(ciphertext, 'base64').toString('latin1')).not.toContain('redis.internal');
    await expect(kms.decryptText(ciphertext, { app: 'flights' })).resolves.toBe('redis.internal:6379');
  });

  it('fails clearly when the encryption context is wrong or missing', async () => {
    const ciphertext = await kms.encrypt(key.alias, 'secret', { app: 'flights' });
    for (const context of [{ app: 'other' }, undefined]) {
      const error = (await kms.decrypt(ciphertext, context).catch((e: unknown) => e)) as KmsError;
      expect(error).toBeInstanceOf(KmsError);
      expect(error.code).toBe('InvalidCiphertextException');
      expect(error.message).toMatch(/encryption context is exactly the one it was encrypted with/);
    }
  });

  it('refuses 4,097 bytes, pointing at envelope encryption, and takes 4,096', async () => {
    await expect(kms.decrypt(await kms.encrypt(key.alias, Buffer.alloc(4096, 65)))).resolves.toEqual(Buffer.alloc(4096, 65));
    const error = (await kms.encrypt(key.alias, Buffer.alloc(4097, 65)).catch((e: unknown) => e)) as KmsError;
    expect(error).toBeInstanceOf(KmsError);
    expect(error.message).toMatch(/4097 bytes but KMS Encrypt takes at most 4096: use envelope encryption/);
  });

  it('says an unknown alias was not found, naming it', async () => {
    const error = (await kms.encrypt('alias/does-not-exist', 'x').catch((e: unknown) => e)) as KmsError;
    expect(error.code).toBe('NotFoundException');
    expect(error.message).toContain('key alias/does-not-exist was not found');
  });

  it('generates data keys that KMS can unwrap', async () => {
    const aes = await kms.generateDataKey(key.aliasArn, 'AES_256');
    expect(aes.plaintext).toHaveLength(32);
    expect(aes.keyId).toBe(key.keyArn);
    await expect(kms.decrypt(aes.ciphertext)).resolves.toEqual(aes.plaintext);
    const custom = await kms.generateDataKey(key.alias, 64);
    expect(custom.plaintext).toHaveLength(64);
  });

  it('envelope-encrypts data larger than 4 KB with an authenticated context', async () => {
    const data = Buffer.alloc(300_000, 'flight ');
    const message = await kms.encryptData(key.alias, data, { app: 'flights', purpose: 'test' });
    const { plaintext, context } = await kms.decryptData(message, { app: 'flights' });
    expect(plaintext.equals(data)).toBe(true);
    expect(context).toEqual({ app: 'flights', purpose: 'test' });
    await expect(kms.decryptData(message, { app: 'other' })).rejects.toThrow(/encryption context does not match: expected \{app=other\}/);
    const tampered = Buffer.from(message);
    tampered[tampered.length - 500] = (tampered[tampered.length - 500] ?? 0) ^ 1;
    await expect(kms.decryptData(tampered)).rejects.toThrow(KmsError);
  });

  describe('interoperability with the plain AWS Encryption SDK', () => {
    const sdkClientProvider = getClient(KMS, { region: TEST_REGION, endpoint: kmsEndpoint(), credentials: TEST_CREDENTIALS });
    const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);

    it('a message made by shardline decrypts with the Encryption SDK', async () => {
      const data = Buffer.alloc(100_000, 'shardline ');
      const message = await kms.encryptData(key.alias, data, { app: 'interop' });
      const keyring = new KmsKeyringNode({ keyIds: [key.keyArn], clientProvider: sdkClientProvider });
      const { plaintext, messageHeader } = await decrypt(keyring, message);
      expect(plaintext.equals(data)).toBe(true);
      expect(messageHeader.encryptionContext).toMatchObject({ app: 'interop' });
    });

    it('a message made by the Encryption SDK decrypts with shardline', async () => {
      const data = Buffer.alloc(100_000, 'esdk ');
      const keyring = new KmsKeyringNode({ generatorKeyId: key.keyArn, clientProvider: sdkClientProvider });
      const { result } = await encrypt(keyring, data, { encryptionContext: { app: 'interop' } });
      const { plaintext } = await kms.decryptData(result, { app: 'interop' });
      expect(plaintext.equals(data)).toBe(true);
    });
  });
});
