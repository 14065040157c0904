import { InvalidDecoratorError } from '../core/errors';
import { appendMetadata } from './metadata';
import { SECRET_METADATA } from './metadata-keys';
import { describeMember } from './decorator-target';

/** Options of `@Secret`. */
export interface SecretOptions {
  /** The KMS encryption context the ciphertext was made with. */
  readonly encryptionContext?: Readonly<Record<string, string>>;
}

/** Schemes a `@Secret` reference may use. */
export const SECRET_SCHEMES = ['env', 'kms', 'kms-file'] as const;

/**
 * Injects a secret into a property before any lifecycle hook runs:
 * - `@Secret('env:REDIS_URL')`: an environment variable;
 * - `@Secret('kms:<base64 ciphertext>')`: decrypted with KMS (needs the KMS secret provider);
 * - `@Secret('kms-file:<path>')`: an envelope-encrypted file, decrypted with KMS.
 * Each secret is resolved once per process. Its value is masked in every log line and is not an enumerable
 * property, so it is never serialised with the consumer. An unresolved secret stops start-up with an error that
 * names the property, never the value.
 */
export function Secret(ref: string, options: SecretOptions = {}): PropertyDecorator {
  return (target: object, member: string | symbol, descriptor?: PropertyDescriptor) => {
    const where = describeMember(target, member);
    if (typeof target === 'function') throw new InvalidDecoratorError(`@Secret on ${where}: decorate an instance property, not a static one`);
    if (descriptor !== undefined) throw new InvalidDecoratorError(`@Secret on ${where}: decorate a property, not a method or accessor`);
    if (typeof member === 'symbol') throw new InvalidDecoratorError(`@Secret on ${where}: use a property with a string name`);
    if (typeof ref !== 'string') throw new InvalidDecoratorError(`@Secret on ${where}: the reference must be a string such as 'env:NAME' or 'kms:<ciphertext>'`);
    const colon = ref.indexOf(':');
    const scheme = colon > 0 ? ref.slice(0, colon) : '';
    const body = colon > 0 ? ref.slice(colon + 1) : '';
    if (!(SECRET_SCHEMES as readonly string[]).includes(scheme)) {
      throw new InvalidDecoratorError(
        `@Secret on ${where}: unknown scheme ${JSON.stringify(scheme || ref.slice(0, 12))}; use 'env:NAME', 'kms:<base64 ciphertext>' or 'kms-file:<path>'`,
      );
    }
    if (body.trim() === '') throw new InvalidDecoratorError(`@Secret on ${where}: '${scheme}:' needs a value after the colon`);
    if (scheme === 'env' && !/^[A-Za-z_][A-Za-z0-9_]*$/.test(body)) {
      throw new InvalidDecoratorError(`@Secret on ${where}: ${JSON.stringify(body)} is not an environment variable name`);
    }
    if (scheme === 'kms' && !/^[A-Za-z0-9+/]+={0,2}$/.test(body)) {
      throw new InvalidDecoratorError(`@Secret on ${where}: the text after 'kms:' must be base64 ciphertext (from 'shardline kms encrypt')`);
    }
    const context = options.encryptionContext;
    if (context !== undefined) {
      if (scheme === 'env') throw new InvalidDecoratorError(`@Secret on ${where}: encryptionContext applies to 'kms:' and 'kms-file:' secrets only`);
      for (const [key, value] of Object.entries(context)) {
        if (typeof value !== 'string') throw new InvalidDecoratorError(`@Secret on ${where}: encryptionContext.${key} must be a string`);
      }
    }
    appendMetadata(SECRET_METADATA, target, { propertyKey: member, scheme, ref, encryptionContext: context });
  };
}
