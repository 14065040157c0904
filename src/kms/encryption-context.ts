import { KmsError } from './kms-error';

/** A KMS encryption context: non-secret key/value pairs bound to a ciphertext, needed again to decrypt it. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** Keys the Encryption SDK adds to a message's context itself (not the caller's). */
const RESERVED_PREFIX = 'aws-crypto-';

/**
 * Checks that a decrypted envelope message was made with (at least) the expected context: every expected pair must be
 * in the message's context with the same value. The Encryption SDK authenticates the context but leaves this check to
 * the caller.
 * @throws KmsError naming the keys that differ (context values are not secret).
 */
export function assertContextMatches(expected: EncryptionContext | undefined, actual: Readonly<Record<string, string>>): void {
  if (expected === undefined) return;
  const wrong = Object.entries(expected).filter(([key, value]) => actual[key] !== value);
  if (wrong.length === 0) return;
  const found = Object.entries(actual).filter(([key]) => !key.startsWith(RESERVED_PREFIX));
  throw new KmsError(
    `the encryption context does not match: expected ${formatContext(Object.fromEntries(wrong))}, the message was encrypted with ${
      found.length === 0 ? 'no context' : formatContext(Object.fromEntries(found))
    }; pass the context the data was encrypted with`,
    { code: 'EncryptionContextMismatch' },
  );
}

/** Removes the pairs the Encryption SDK adds itself, leaving the caller's context. */
export function userContext(context: Readonly<Record<string, string>>): Record<string, string> {
  return Object.fromEntries(Object.entries(context).filter(([key]) => !key.startsWith(RESERVED_PREFIX)));
}

/** `{a=1, b=2}` for messages. */
export function formatContext(context: EncryptionContext): string {
  return `{${Object.entries(context)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')}}`;
}

/**
 * Parses `key=value` pairs (as given to `--context`) into a context.
 * @throws KmsError when a pair has no `=` or an empty key, or a key is repeated with another value.
 */
export function parseContextPairs(pairs: readonly string[]): EncryptionContext | undefined {
  if (pairs.length === 0) return undefined;
  const context: Record<string, string> = {};
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new KmsError(`bad encryption context pair ${JSON.stringify(pair)}: write it as key=value`, { code: 'BadContext' });
    const key = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    if (context[key] !== undefined && context[key] !== value) throw new KmsError(`encryption context key ${key} is given twice with different values`, { code: 'BadContext' });
    context[key] = value;
  }
  return context;
}
