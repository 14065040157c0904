import { DecryptCommand, DisabledException, EncryptCommand, GenerateDataKeyCommand, InvalidCiphertextException, KMSClient, NotFoundException } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { container } from 'tsyringe';
import { KMS_SERVICE_OPTIONS, KmsError, KmsService } from 'shardline';

const kmsMock = mockClient(KMSClient);

function awsError(name: string, message: string, status = 400): Error {
  return Object.assign(new Error(message), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });
}

function service(maxAttempts = 4): KmsService {
  return new KmsService({ client: new KMSClient({ region: 'us-east-1' }), maxAttempts, retryBaseDelayMs: 1, retryMaxDelayMs: 2 });
}

beforeEach(() => kmsMock.reset());

describe('KmsService.encrypt', () => {
  it('sends the key, plaintext and context, and returns base64 ciphertext', async () => {
    kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('blob-bytes'), KeyId: 'arn:aws:kms:us-east-1:1:key/k' });
    const ciphertext = await service().encrypt('alias/app', 'redis:6379', { app: 'flights' });
    expect(Buffer.from(ciphertext, 'base64').toString()).toBe('blob-bytes');
    const input = kmsMock.commandCalls(EncryptCommand)[0]?.args[0].input;
    expect(input?.KeyId).toBe('alias/app');
    expect(Buffer.from(input?.Plaintext ?? []).toString()).toBe('redis:6379');
    expect(input?.EncryptionContext).toEqual({ app: 'flights' });
  });

  it('accepts 4,096 bytes and refuses 4,097 without calling KMS, pointing at envelope encryption', async () => {
    kmsMock.on(EncryptCommand).resolves({ CiphertextBlob: Buffer.from('x') });
    await expect(service().encrypt('alias/app', Buffer.alloc(4096, 1))).resolves.toBe(Buffer.from('x').toString('base64'));
    const error = await service().encrypt('alias/app', Buffer.alloc(4097, 1)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KmsError);
    expect((error as KmsError).code).toBe('PlaintextTooLarge');
    expect((error as KmsError).message).toMatch(/4097 bytes.*at most 4096.*envelope encryption.*encrypt-file/);
    expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(1);
  });

  it('retries throttling with backoff and then succeeds', async () => {
    kmsMock
      .on(EncryptCommand)
      .rejectsOnce(awsError('ThrottlingException', 'Rate exceeded'))
      .rejectsOnce(awsError('KMSInternalException', 'internal', 500))
      .resolves({ CiphertextBlob: Buffer.from('ok') });
    await expect(service().encrypt('alias/app', 'x')).resolves.toBe(Buffer.from('ok').toString('base64'));
    expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(3);
  });

  it('gives up after maxAttempts with a retryable KmsError that says KMS is throttling', async () => {
    kmsMock.on(EncryptCommand).rejects(awsError('ThrottlingException', 'Rate exceeded'));
    const error = (await service(3).encrypt('alias/app', 'x').catch((e: unknown) => e)) as KmsError;
    expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(3);
    expect(error).toBeInstanceOf(KmsError);
    expect(error.retryable).toBe(true);
    expect(error.code).toBe('ThrottlingException');
    expect(error.message).toMatch(/after retries.*throttling/);
  });

  it.each([
    ['NotFoundException', new NotFoundException({ message: 'Alias not found', $metadata: {} }), /alias\/app was not found.*check the key id, ARN or alias name and the region/],
    ['DisabledException', new DisabledException({ message: 'disabled', $metadata: {} }), /alias\/app is disabled.*enable-key/],
    ['AccessDeniedException', awsError('AccessDeniedException', 'not authorized'), /access to key alias\/app was denied.*kms:Encrypt/],
  ])('maps %s to a KmsError saying what to check, without retrying', async (code, error, message) => {
    kmsMock.on(EncryptCommand).rejects(error);
    const thrown = (await service().encrypt('alias/app', 'x').catch((e: unknown) => e)) as KmsError;
    expect(thrown).toBeInstanceOf(KmsError);
    expect(thrown.code).toBe(code);
    expect(thrown.retryable).toBe(false);
    expect(thrown.message).toMatch(message);
    expect(thrown.cause).toBe(error);
    expect(kmsMock.commandCalls(EncryptCommand)).toHaveLength(1);
  });
});

describe('KmsService.decrypt', () => {
  it('decodes base64, passes the context and returns the plaintext', async () => {
    kmsMock.on(DecryptCommand).resolves({ Plaintext: Buffer.from('secret'), KeyId: 'arn' });
    const plaintext = await service().decryptText(Buffer.from('blob').toString('base64'), { app: 'a' });
    expect(plaintext).toBe('secret');
    const input = kmsMock.commandCalls(DecryptCommand)[0]?.args[0].input;
    expect(Buffer.from(input?.CiphertextBlob ?? []).toString()).toBe('blob');
    expect(input?.EncryptionContext).toEqual({ app: 'a' });
  });

  it('maps InvalidCiphertextException to a message about the encryption context, and does not retry it', async () => {
    kmsMock.on(DecryptCommand).rejects(new InvalidCiphertextException({ message: 'UnknownError', $metadata: {} }));
    const error = (await service().decrypt('AAAA').catch((e: unknown) => e)) as KmsError;
    expect(error.code).toBe('InvalidCiphertextException');
    expect(error.message).toMatch(/not valid.*encryption context is exactly the one it was encrypted with/);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(1);
  });

  it('refuses text that is not base64 before calling KMS', async () => {
    await expect(service().decrypt('not base64!')).rejects.toThrow(/not base64/);
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(0);
  });

  it('retries network errors', async () => {
    kmsMock
      .on(DecryptCommand)
      .rejectsOnce(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
      .resolves({ Plaintext: Buffer.from('v') });
    await expect(service().decryptText('AAAA')).resolves.toBe('v');
    expect(kmsMock.commandCalls(DecryptCommand)).toHaveLength(2);
  });
});

describe('KmsService.generateDataKey', () => {
  it('asks for AES_256 or a number of bytes and returns the key with its wrapped copy', async () => {
    kmsMock.on(GenerateDataKeyCommand).resolves({ KeyId: 'arn:k', Plaintext: Buffer.alloc(32, 7), CiphertextBlob: Buffer.from('wrapped') });
    const key = await service().generateDataKey('alias/app', 'AES_256');
    expect(key).toEqual({ keyId: 'arn:k', plaintext: Buffer.alloc(32, 7), ciphertext: Buffer.from('wrapped').toString('base64') });
    await service().generateDataKey('alias/app', 64);
    expect(kmsMock.commandCalls(GenerateDataKeyCommand).map((c) => [c.args[0].input.KeySpec, c.args[0].input.NumberOfBytes])).toEqual([
      ['AES_256', undefined],
      [undefined, 64],
    ]);
  });

  it('refuses sizes KMS would refuse', async () => {
    await expect(service().generateDataKey('alias/app', 0)).rejects.toThrow(/1 to 1024 bytes/);
    await expect(service().generateDataKey('alias/app', 1025)).rejects.toThrow(/1 to 1024 bytes/);
    expect(kmsMock.commandCalls(GenerateDataKeyCommand)).toHaveLength(0);
  });
});

describe('KmsService in a container', () => {
  it('is injectable with or without KMS_SERVICE_OPTIONS', () => {
    const child = container.createChildContainer();
    expect(child.resolve(KmsService)).toBeInstanceOf(KmsService);
    const client = new KMSClient({ region: 'eu-west-1' });
    child.register(KMS_SERVICE_OPTIONS, { useValue: { client } });
    expect(child.resolve(KmsService).client).toBe(client);
  });
});
