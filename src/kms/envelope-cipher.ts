import { createReadStream, createWriteStream } from 'node:fs';
import { rename, rm, stat } from 'node:fs/promises';
import { Transform, type Duplex, type Readable, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { KmsKeyringNode, KmsKeyringNodeInput } from '@aws-crypto/client-node';
import { KmsError } from './kms-error';
import { toKmsError } from './kms-error-mapping';
import { assertContextMatches, userContext, type EncryptionContext } from './encryption-context';

/** The KMS calls the Encryption SDK's keyring makes (shaped as the SDK's aggregated `KMS` client). */
export type EnvelopeKmsClientProvider = NonNullable<KmsKeyringNodeInput['clientProvider']>;

/** Called while a file is encrypted or decrypted: bytes read from the input so far, and its size. */
export type ProgressListener = (bytesDone: number, bytesTotal: number) => void;

/** Options of a file operation. */
export interface EnvelopeFileOptions {
  /** Encryption context: bound to the message when encrypting, checked (all pairs must match) when decrypting. */
  readonly context?: EncryptionContext;
  /** Progress, at most once per chunk read. */
  readonly onProgress?: ProgressListener;
  /** Replace `output` when it exists. Default false: an existing output is an error. */
  readonly overwrite?: boolean;
}

/** What {@link EnvelopeCipher.decrypt} returns. */
export interface EnvelopeDecryptResult {
  readonly plaintext: Buffer;
  /** The caller's encryption context stored in the message. */
  readonly context: Readonly<Record<string, string>>;
}

/** Largest message {@link EnvelopeCipher.decrypt} takes in memory; larger ones must go through files or streams. */
const MAX_IN_MEMORY_BYTES = 64 * 1024 * 1024;

type EncryptionSdk = typeof import('@aws-crypto/client-node');
let sdk: { module: EncryptionSdk; client: ReturnType<EncryptionSdk['buildClient']> } | undefined;

/** The Encryption SDK, loaded on first use (it takes ~100 ms to load, and most processes never need it). */
function encryptionSdk(): NonNullable<typeof sdk> {
  if (sdk === undefined) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- lazy: only envelope operations need it
    const module = require('@aws-crypto/client-node') as EncryptionSdk;
    const client = module.buildClient({ commitmentPolicy: module.CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT, maxEncryptedDataKeys: 10 });
    sdk = { module, client };
  }
  return sdk;
}

/**
 * Envelope encryption with the AWS Encryption SDK message format: a fresh data key per message, wrapped by a KMS key;
 * AES-256-GCM with key commitment and an ECDSA signature; framed, so any size streams in bounded memory. Messages
 * can be decrypted by the Encryption SDK in any language (and the CLI `aws-encryption-cli`), and the reverse.
 */
export class EnvelopeCipher {
  constructor(
    private readonly clientProvider: (failures: unknown[]) => EnvelopeKmsClientProvider,
    private readonly frameLengthBytes: number,
  ) {}

  /** Encrypts a buffer into one Encryption SDK message. */
  async encrypt(keyId: string, plaintext: Uint8Array, context?: EncryptionContext): Promise<Buffer> {
    const failures: unknown[] = [];
    try {
      const { result } = await encryptionSdk().client.encrypt(this.encryptKeyring(keyId, failures), plaintext, {
        encryptionContext: { ...context },
        frameLength: this.frameLengthBytes,
      });
      return result;
    } catch (error) {
      throw this.mapError(error, failures, 'encrypt', keyId);
    }
  }

  /** Decrypts one Encryption SDK message held in memory (up to 64 MiB; use files or streams beyond). */
  async decrypt(message: Uint8Array, context?: EncryptionContext): Promise<EnvelopeDecryptResult> {
    const failures: unknown[] = [];
    let result: { plaintext: Buffer; messageHeader: { encryptionContext: Readonly<Record<string, string>> } };
    try {
      result = await encryptionSdk().client.decrypt(this.decryptKeyring(failures), message, { maxBodySize: MAX_IN_MEMORY_BYTES });
    } catch (error) {
      throw this.mapError(error, failures, 'decrypt', undefined);
    }
    assertContextMatches(context, result.messageHeader.encryptionContext);
    return { plaintext: result.plaintext, context: userContext(result.messageHeader.encryptionContext) };
  }

  /** Encrypts a file of any size into an Encryption SDK message, streaming (memory stays near the frame size). */
  async encryptFile(keyId: string, input: string, output: string, options: EnvelopeFileOptions = {}): Promise<void> {
    const failures: unknown[] = [];
    await this.transformFile(input, output, options, () =>
      encryptionSdk().client.encryptStream(this.encryptKeyring(keyId, failures), { encryptionContext: { ...options.context }, frameLength: this.frameLengthBytes }),
    ).catch((error: unknown) => {
      throw this.mapError(error, failures, 'encrypt', keyId);
    });
  }

  /**
   * Decrypts an Encryption SDK message file of any size, streaming. The encryption context is checked before any
   * plaintext is written, and `output` appears only once the whole message is authenticated (until then the
   * plaintext goes to a temporary file next to it, deleted on failure).
   */
  async decryptFile(input: string, output: string, options: EnvelopeFileOptions = {}): Promise<void> {
    const failures: unknown[] = [];
    await this.transformFile(input, output, options, () => {
      const stream = encryptionSdk().client.decryptStream(this.decryptKeyring(failures));
      stream.once('MessageHeader', (header: { encryptionContext: Readonly<Record<string, string>> }) => {
        try {
          assertContextMatches(options.context, header.encryptionContext);
        } catch (error) {
          stream.destroy(error as Error);
        }
      });
      return stream;
    }).catch((error: unknown) => {
      throw this.mapError(error, failures, 'decrypt', undefined);
    });
  }

  private async transformFile(input: string, output: string, options: EnvelopeFileOptions, makeStream: () => Duplex): Promise<void> {
    const size = await fileSize(input);
    if (options.overwrite !== true && (await exists(output))) {
      throw new KmsError(`${output} already exists: choose another output or pass --force to replace it`, { code: 'OutputExists' });
    }
    const partial = `${output}.partial-${process.pid}`;
    let done = 0;
    const progress = new Transform({
      transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
        done += chunk.length;
        options.onProgress?.(done, size);
        callback(null, chunk);
      },
    });
    try {
      await pipeline(createReadStream(input, { highWaterMark: 64 * 1024 }), progress, makeStream(), createWriteStream(partial, { mode: 0o600 }));
      await rename(partial, output);
    } catch (error) {
      await rm(partial, { force: true });
      throw error;
    }
  }

  private encryptKeyring(keyId: string, failures: unknown[]): KmsKeyringNode {
    return new (encryptionSdk().module.KmsKeyringNode)({ generatorKeyId: keyId, clientProvider: this.clientProvider(failures) });
  }

  private decryptKeyring(failures: unknown[]): KmsKeyringNode {
    return new (encryptionSdk().module.KmsKeyringNode)({ discovery: true, clientProvider: this.clientProvider(failures) });
  }

  private mapError(error: unknown, failures: readonly unknown[], operation: 'encrypt' | 'decrypt', keyId: string | undefined): KmsError {
    if (error instanceof KmsError) return error;
    const kmsFailure = failures[0];
    if (kmsFailure !== undefined) return toKmsError(kmsFailure, { operation: operation === 'encrypt' ? 'GenerateDataKey' : 'Decrypt', ...(keyId !== undefined ? { keyId } : {}) });
    const name = typeof error === 'object' && error !== null && 'name' in error ? String(error.name) : 'Error';
    if (name.endsWith('Exception') || name === 'CredentialsProviderError') {
      return toKmsError(error, { operation: operation === 'encrypt' ? 'GenerateDataKey' : 'Decrypt', ...(keyId !== undefined ? { keyId } : {}) });
    }
    const detail = error instanceof Error ? error.message : String(error);
    const code = typeof error === 'object' && error !== null && 'code' in error ? error.code : undefined;
    if (typeof code === 'string' && code.startsWith('E') && 'syscall' in (error as object)) {
      return new KmsError(`envelope ${operation} failed on a file: ${detail}`, { cause: error, code: 'FileError' });
    }
    if (operation === 'decrypt') {
      return new KmsError(
        `cannot decrypt the envelope message: it is not an AWS Encryption SDK message, or it is truncated or was altered (${detail}); check that it was made with 'shardline kms encrypt-file' or an Encryption SDK`,
        { cause: error, code: 'InvalidMessage' },
      );
    }
    return new KmsError(`envelope encryption failed: ${detail}`, { cause: error, code: 'EncryptFailed' });
  }
}

async function fileSize(path: string): Promise<number> {
  try {
    const info = await stat(path);
    if (!info.isFile()) throw new KmsError(`${path} is not a file`, { code: 'FileError' });
    return info.size;
  } catch (error) {
    if (error instanceof KmsError) throw error;
    throw new KmsError(`cannot read ${path}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (error as Error).message}`, {
      cause: error,
      code: 'FileError',
    });
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}

/** Reads a whole (small) stream into a buffer, refusing more than `limitBytes`. */
export async function readAll(stream: Readable, limitBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    total += buffer.length;
    if (total > limitBytes) throw new KmsError(`the input is larger than ${limitBytes} bytes`, { code: 'InputTooLarge' });
    chunks.push(buffer);
  }
  return Buffer.concat(chunks);
}
