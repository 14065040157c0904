import { type InjectionToken } from 'tsyringe';
import { type SecretMetadata } from '../decorators/metadata-types';

/** A secret to resolve: its scheme, reference and KMS encryption context, and the property it is for. */
export type SecretRequest = Pick<SecretMetadata, 'scheme' | 'ref' | 'encryptionContext'> & {
  /** `Class.property`, for error messages. */
  readonly target: string;
};

/**
 * Resolves `kms:` and `kms-file:` secrets (the KMS module provides one). Register it under {@link SECRET_PROVIDER}.
 * `env:` secrets are resolved by shardline itself.
 */
export interface SecretProvider {
  /** Schemes this provider resolves, e.g. `['kms', 'kms-file']`. */
  readonly schemes: readonly string[];
  /**
   * Returns the plaintext.
   * @throws an error whose message says why (never including the plaintext).
   */
  resolve(request: SecretRequest): Promise<string>;
}

/** Injection token of the {@link SecretProvider}. */
export const SECRET_PROVIDER: InjectionToken<SecretProvider> = Symbol.for('shardline:SecretProvider');
