import { type ConsumerDefinition } from '../decorators/metadata-types';
import { SecretResolutionError } from './errors';
import { type SecretProvider } from './secret-provider';
import { secretMask } from './secret-mask';

/** Resolved secrets of one consumer class, by property name. */
export type ResolvedSecrets = ReadonlyMap<string, string>;

const cache = new Map<string, Promise<string>>();

function cacheKey(ref: string, context: Readonly<Record<string, string>> | undefined): string {
  return context === undefined ? ref : `${ref}#${JSON.stringify(Object.entries(context).sort())}`;
}

/**
 * Resolves every `@Secret` of a consumer, concurrently, once per process (later calls reuse the cached value).
 * Each value is registered with the log mask before it is returned.
 * @throws SecretResolutionError naming the first property that failed and why; never its value.
 */
export async function resolveSecrets(
  definition: ConsumerDefinition,
  provider: SecretProvider | undefined,
  env: NodeJS.ProcessEnv = process.env,
): Promise<ResolvedSecrets> {
  const entries = await Promise.all(
    definition.secrets.map(async (secret): Promise<[string, string]> => {
      const target = `${definition.name}.${secret.propertyKey}`;
      const key = cacheKey(secret.ref, secret.encryptionContext);
      let pending = cache.get(key);
      if (pending === undefined) {
        pending = resolveOne(secret.scheme, secret.ref, secret.encryptionContext, target, provider, env);
        cache.set(key, pending);
        pending.catch(() => cache.delete(key));
      }
      try {
        const value = await pending;
        secretMask.add(value);
        return [secret.propertyKey, value];
      } catch (error) {
        if (error instanceof SecretResolutionError) throw error;
        throw new SecretResolutionError(`cannot resolve secret ${target} (${secret.scheme}:): ${(error as Error).message}`, { cause: error });
      }
    }),
  );
  return new Map(entries);
}

async function resolveOne(
  scheme: string,
  ref: string,
  encryptionContext: Readonly<Record<string, string>> | undefined,
  target: string,
  provider: SecretProvider | undefined,
  env: NodeJS.ProcessEnv,
): Promise<string> {
  if (scheme === 'env') {
    const name = ref.slice('env:'.length);
    const value = env[name];
    if (value === undefined || value === '') {
      throw new SecretResolutionError(`cannot resolve secret ${target}: environment variable ${name} is not set; export it before starting`);
    }
    return value;
  }
  if (provider === undefined || !provider.schemes.includes(scheme)) {
    throw new SecretResolutionError(
      `cannot resolve secret ${target}: no provider for '${scheme}:' secrets is registered; pass the KMS secret provider to the app (see the README, "Secrets")`,
    );
  }
  return provider.resolve({ scheme, ref, encryptionContext, target });
}

/** Forgets cached secrets (for tests). */
export function clearSecretCache(): void {
  cache.clear();
}

/**
 * Puts resolved secrets on a consumer instance as read-only, non-enumerable properties, so that
 * `JSON.stringify(consumer)` and object spreads never carry them.
 */
export function injectSecrets(instance: object, secrets: ResolvedSecrets): void {
  for (const [property, value] of secrets) {
    Object.defineProperty(instance, property, { value, enumerable: false, writable: false, configurable: true });
  }
}
