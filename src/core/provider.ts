import { type DependencyContainer, type InjectionToken } from 'tsyringe';
import { ConfigurationError } from './errors';

type Constructor<T> = new (...args: never[]) => T;

/**
 * A service for the consumer's container, registered (or replacing a registration) before any instance is built:
 * `{ provide: RedisClient, useValue: fakeRedis }`, `{ provide: TOKEN, useClass: Impl }`,
 * `{ provide: TOKEN, useFactory: (c) => … }`.
 */
export type Provider<T = unknown> =
  | { readonly provide: InjectionToken<T>; readonly useValue: T }
  | { readonly provide: InjectionToken<T>; readonly useClass: Constructor<T> }
  | { readonly provide: InjectionToken<T>; readonly useFactory: (container: DependencyContainer) => T };

/** Registers providers in a container; later entries win. */
export function registerProviders(container: DependencyContainer, providers: readonly Provider[]): void {
  for (const provider of providers) {
    if ('useValue' in provider) container.register(provider.provide, { useValue: provider.useValue });
    else if ('useClass' in provider) container.register(provider.provide, { useClass: provider.useClass });
    else if ('useFactory' in provider) container.register(provider.provide, { useFactory: provider.useFactory });
    else throw new ConfigurationError(`a provider needs useValue, useClass or useFactory (token ${String((provider as { provide: unknown }).provide)})`);
  }
}
