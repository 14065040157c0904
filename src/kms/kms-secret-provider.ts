import { readFile } from 'node:fs/promises';
import { resolve as resolvePath } from 'node:path';
import { SecretResolutionError } from '../core/errors';
import { type SecretProvider, type SecretRequest } from '../core/secret-provider';
import { KmsError } from './kms-error';
import { type KmsService } from './kms.service';

/** Largest `kms-file:` secret read into memory. */
const MAX_SECRET_FILE_BYTES = 1024 * 1024;

/**
 * Resolves `@Secret('kms:<base64 ciphertext>')` (KMS `Decrypt`, with the secret's encryption context) and
 * `@Secret('kms-file:<path>')` (an envelope-encrypted file, e.g. from `shardline kms encrypt-file`; a relative path is
 * relative to the working directory; one trailing newline is dropped). The KMS service is created on first use, so
 * an app with no KMS secret never builds a KMS client.
 *
 * @example
 * ```ts
 * await ShardlineApp.start({ consumer: FlightCounter, source, secretProvider: new KmsSecretProvider(() => new KmsService()) });
 * ```
 */
export class KmsSecretProvider implements SecretProvider {
  readonly schemes: readonly string[] = ['kms', 'kms-file'];
  private service: KmsService | undefined;

  /** @param kms a service, or a function that creates it when the first secret is resolved. */
  constructor(private readonly kms: KmsService | (() => KmsService)) {}

  async resolve(request: SecretRequest): Promise<string> {
    const body = request.ref.slice(request.scheme.length + 1);
    try {
      if (request.scheme === 'kms') return await this.kmsService().decryptText(body, request.encryptionContext);
      if (request.scheme === 'kms-file') return await this.resolveFile(body, request);
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new SecretResolutionError(`cannot resolve secret ${request.target} (${request.scheme}:): ${reason}`, { cause: error });
    }
    throw new SecretResolutionError(`cannot resolve secret ${request.target}: the KMS secret provider does not handle '${request.scheme}:'`);
  }

  private async resolveFile(path: string, request: SecretRequest): Promise<string> {
    const fullPath = resolvePath(path);
    let message: Buffer;
    try {
      message = await readFile(fullPath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      throw new KmsError(`cannot read ${fullPath}${code === 'ENOENT' ? ': no such file (paths are relative to the working directory)' : `: ${(error as Error).message}`}`, {
        cause: error,
        code: 'FileError',
      });
    }
    if (message.length > MAX_SECRET_FILE_BYTES) {
      throw new KmsError(`${fullPath} is ${message.length} bytes; a kms-file: secret is at most ${MAX_SECRET_FILE_BYTES} (decrypt larger files with KmsService.decryptFile)`, {
        code: 'InputTooLarge',
      });
    }
    const { plaintext } = await this.kmsService().decryptData(message, request.encryptionContext);
    return plaintext.toString('utf8').replace(/\r?\n$/, '');
  }

  private kmsService(): KmsService {
    this.service ??= typeof this.kms === 'function' ? this.kms() : this.kms;
    return this.service;
  }
}
