import {
  DecryptCommand,
  type DecryptCommandInput,
  EncryptCommand,
  type EncryptCommandInput,
  GenerateDataKeyCommand,
  type GenerateDataKeyCommandInput,
  type KMSClient,
} from '@aws-sdk/client-kms';
import { inject, injectable } from 'tsyringe';
import { createKmsClient } from './kms-client-factory';
import { KmsError } from './kms-error';
import { toKmsError } from './kms-error-mapping';
import { KMS_SERVICE_OPTIONS, type KmsServiceOptions } from './kms-options';
import { withKmsRetry } from './kms-retry';
import { type EncryptionContext } from './encryption-context';
import { EnvelopeCipher, type EnvelopeDecryptResult, type EnvelopeFileOptions, type EnvelopeKmsClientProvider } from './envelope-cipher';

/** Most bytes KMS `Encrypt` takes; larger data needs envelope encryption. */
export const KMS_MAX_PLAINTEXT_BYTES = 4096;

/** A data key from {@link KmsService.generateDataKey}. */
export interface DataKey {
  /** The key ARN KMS used (even when asked by alias). */
  readonly keyId: string;
  /** The plaintext data key: use it, then forget it (`plaintext.fill(0)`). */
  readonly plaintext: Buffer;
  /** The data key encrypted under the KMS key, base64: store it next to the data. */
  readonly ciphertext: string;
}

/** Options of {@link KmsService.encryptFile} and {@link KmsService.decryptFile}. */
export type KmsFileOptions = EnvelopeFileOptions;

/**
 * KMS for consumers and the CLI: `encrypt`/`decrypt` of small secrets (up to 4,096 bytes), data keys, and envelope
 * encryption of data of any size in the AWS Encryption SDK format (`encryptData`, `encryptFile`, …). Key ids may be a
 * key id, key ARN, `alias/name` or alias ARN. Throttling and transient errors are retried with backoff; other
 * failures are {@link KmsError}s whose message says what to check.
 *
 * Inject it in a consumer (`constructor(private readonly kms: KmsService)`); register {@link KMS_SERVICE_OPTIONS} to
 * configure it, or a ready instance with `{ provide: KmsService, useValue: new KmsService({ … }) }`.
 *
 * @example
 * ```ts
 * const kms = new KmsService({ region: 'eu-west-1' });
 * const blob = await kms.encrypt('alias/app', 'redis.internal:6379', { app: 'flights' });
 * const host = (await kms.decrypt(blob, { app: 'flights' })).toString('utf8');
 * ```
 */
@injectable()
export class KmsService {
  /** The SDK client every call goes through. */
  readonly client: KMSClient;
  private readonly options: KmsServiceOptions;
  private readonly envelope: EnvelopeCipher;
  private readonly regionalClients = new Map<string, KMSClient>();

  constructor(@inject(KMS_SERVICE_OPTIONS, { isOptional: true }) options?: KmsServiceOptions) {
    this.options = options ?? {};
    this.client = this.options.client ?? createKmsClient(this.options);
    this.envelope = new EnvelopeCipher((failures) => this.envelopeClientProvider(failures), this.options.frameLengthBytes ?? 64 * 1024);
  }

  /**
   * Encrypts up to 4,096 bytes with a KMS key and returns the base64 ciphertext (ready for `@Secret('kms:…')`).
   * @throws KmsError when the plaintext is larger (use {@link encryptData} or {@link encryptFile}), or KMS refuses.
   */
  async encrypt(keyId: string, plaintext: string | Uint8Array, context?: EncryptionContext): Promise<string> {
    const bytes = typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext;
    if (bytes.length > KMS_MAX_PLAINTEXT_BYTES) {
      throw new KmsError(
        `the plaintext is ${bytes.length} bytes but KMS Encrypt takes at most ${KMS_MAX_PLAINTEXT_BYTES}: use envelope encryption instead (KmsService.encryptData/encryptFile, or 'shardline kms encrypt-file')`,
        { code: 'PlaintextTooLarge' },
      );
    }
    const input: EncryptCommandInput = { KeyId: keyId, Plaintext: bytes, ...(context !== undefined ? { EncryptionContext: { ...context } } : {}) };
    const output = await this.call('Encrypt', keyId, () => this.client.send(new EncryptCommand(input)));
    if (output.CiphertextBlob === undefined) throw new KmsError('KMS Encrypt returned no ciphertext', { code: 'MalformedResponse' });
    return Buffer.from(output.CiphertextBlob).toString('base64');
  }

  /**
   * Decrypts a KMS ciphertext (base64 string or bytes) made by {@link encrypt}; pass the same encryption context.
   * @throws KmsError saying what to check (InvalidCiphertextException: wrong context, corrupted, another account…).
   */
  async decrypt(ciphertext: string | Uint8Array, context?: EncryptionContext): Promise<Buffer> {
    const blob = typeof ciphertext === 'string' ? decodeBase64(ciphertext) : ciphertext;
    const input: DecryptCommandInput = { CiphertextBlob: blob, ...(context !== undefined ? { EncryptionContext: { ...context } } : {}) };
    const output = await this.call('Decrypt', undefined, () => this.client.send(new DecryptCommand(input)));
    if (output.Plaintext === undefined) throw new KmsError('KMS Decrypt returned no plaintext', { code: 'MalformedResponse' });
    return Buffer.from(output.Plaintext);
  }

  /** Decrypts like {@link decrypt} and returns UTF-8 text. */
  async decryptText(ciphertext: string | Uint8Array, context?: EncryptionContext): Promise<string> {
    return (await this.decrypt(ciphertext, context)).toString('utf8');
  }

  /**
   * Generates a data key: `'AES_256'` (32 bytes) or a number of bytes (1–1,024).
   * @throws KmsError for a bad size or a KMS failure.
   */
  async generateDataKey(keyId: string, size: number | 'AES_256' | 'AES_128' = 'AES_256', context?: EncryptionContext): Promise<DataKey> {
    if (typeof size === 'number' && (!Number.isInteger(size) || size < 1 || size > 1024)) {
      throw new KmsError(`a data key is 1 to 1024 bytes, not ${size}`, { code: 'BadKeySize' });
    }
    const input: GenerateDataKeyCommandInput = {
      KeyId: keyId,
      ...(typeof size === 'number' ? { NumberOfBytes: size } : { KeySpec: size }),
      ...(context !== undefined ? { EncryptionContext: { ...context } } : {}),
    };
    const output = await this.call('GenerateDataKey', keyId, () => this.client.send(new GenerateDataKeyCommand(input)));
    if (output.Plaintext === undefined || output.CiphertextBlob === undefined || output.KeyId === undefined) {
      throw new KmsError('KMS GenerateDataKey returned an incomplete answer', { code: 'MalformedResponse' });
    }
    return { keyId: output.KeyId, plaintext: Buffer.from(output.Plaintext), ciphertext: Buffer.from(output.CiphertextBlob).toString('base64') };
  }

  /**
   * Envelope-encrypts data of any size held in memory into an AWS Encryption SDK message (binary), under a data key
   * wrapped by `keyId`, with the encryption context bound to it.
   */
  encryptData(keyId: string, plaintext: string | Uint8Array, context?: EncryptionContext): Promise<Buffer> {
    return this.envelope.encrypt(keyId, typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext, context);
  }

  /**
   * Decrypts an AWS Encryption SDK message held in memory (up to 64 MiB). When `context` is given, every pair must be
   * in the message's context.
   */
  decryptData(message: Uint8Array, context?: EncryptionContext): Promise<EnvelopeDecryptResult> {
    return this.envelope.decrypt(message, context);
  }

  /** Envelope-encrypts a file of any size, streaming in bounded memory, into an AWS Encryption SDK message file. */
  encryptFile(keyId: string, input: string, output: string, options: KmsFileOptions = {}): Promise<void> {
    return this.envelope.encryptFile(keyId, input, output, options);
  }

  /** Decrypts an AWS Encryption SDK message file of any size, streaming; `output` appears only once authenticated. */
  decryptFile(input: string, output: string, options: KmsFileOptions = {}): Promise<void> {
    return this.envelope.decryptFile(input, output, options);
  }

  /** Runs one KMS call with retries and error mapping. */
  private async call<T>(operation: string, keyId: string | undefined, send: () => Promise<T>): Promise<T> {
    try {
      return await this.retry(send);
    } catch (error) {
      throw toKmsError(error, { operation, ...(keyId !== undefined ? { keyId } : {}), where: this.where() });
    }
  }

  private retry<T>(send: () => Promise<T>): Promise<T> {
    return withKmsRetry(send, {
      maxAttempts: this.options.maxAttempts ?? 5,
      baseDelayMs: this.options.retryBaseDelayMs ?? 100,
      maxDelayMs: this.options.retryMaxDelayMs ?? 5_000,
    });
  }

  private where(): string | undefined {
    if (this.options.client !== undefined) return undefined;
    if (this.options.endpoint !== undefined) return `endpoint ${this.options.endpoint}`;
    if (process.env.AWS_ENDPOINT_URL_KMS !== undefined && process.env.AWS_ENDPOINT_URL_KMS !== '') return `endpoint ${process.env.AWS_ENDPOINT_URL_KMS}`;
    const region = this.options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    return region === undefined ? undefined : `region ${region}`;
  }

  /**
   * The KMS client the Encryption SDK's keyring uses: the service's client (with retries), or, for a key ARN of
   * another region when no endpoint is set, a client of that region. Failures are recorded so that the error the
   * caller sees names the KMS error rather than the Encryption SDK's summary.
   */
  private envelopeClientProvider(failures: unknown[]): EnvelopeKmsClientProvider {
    return (region: string) => {
      const client = this.clientForRegion(region);
      const run = async <T>(send: () => Promise<T>): Promise<T> => {
        try {
          return await this.retry(send);
        } catch (error) {
          failures.push(error);
          throw error;
        }
      };
      return {
        encrypt: (args) => run(() => client.send(new EncryptCommand(args))),
        decrypt: (args) => run(() => client.send(new DecryptCommand(args))),
        generateDataKey: (args) => run(() => client.send(new GenerateDataKeyCommand(args))),
      };
    };
  }

  private clientForRegion(region: string): KMSClient {
    const own = this.options.region ?? process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    const pinned = this.options.client !== undefined || this.options.endpoint !== undefined || (process.env.AWS_ENDPOINT_URL_KMS ?? '') !== '';
    if (region === '' || pinned || region === own) return this.client;
    let client = this.regionalClients.get(region);
    if (client === undefined) {
      client = createKmsClient(this.options, region);
      this.regionalClients.set(region, client);
    }
    return client;
  }
}

function decodeBase64(text: string): Buffer {
  const trimmed = text.trim();
  if (trimmed === '' || !/^[A-Za-z0-9+/]+={0,2}$/.test(trimmed)) {
    throw new KmsError('the ciphertext is not base64: pass the text printed by `shardline kms encrypt` (or KmsService.encrypt)', { code: 'BadCiphertext' });
  }
  return Buffer.from(trimmed, 'base64');
}
