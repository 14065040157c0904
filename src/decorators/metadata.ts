import 'reflect-metadata';
import { type NormalizedConsumerOptions } from '../core/consumer-options';
import {
  CONSUMER_METADATA,
  EVERY_METADATA,
  HOOK_METADATA,
  RECORDS_HANDLER_METADATA,
  SECRET_METADATA,
} from './metadata-keys';
import {
  type EveryMetadata,
  type HookMetadata,
  type RecordsHandlerMetadata,
  type SecretMetadata,
} from './metadata-types';

/* The only module that calls Reflect.*: typed define/read functions over the metadata keys. */

type ClassLike = abstract new (...args: never[]) => unknown;
type ListKey = typeof RECORDS_HANDLER_METADATA | typeof EVERY_METADATA | typeof SECRET_METADATA | typeof HOOK_METADATA;

interface ListMetadata {
  [RECORDS_HANDLER_METADATA]: RecordsHandlerMetadata;
  [EVERY_METADATA]: EveryMetadata;
  [SECRET_METADATA]: SecretMetadata;
  [HOOK_METADATA]: HookMetadata;
}

/** Appends an entry to a class's own list without mutating lists inherited from a parent class. */
export function appendMetadata<K extends ListKey>(key: K, target: object, entry: ListMetadata[K]): void {
  const own = (Reflect.getOwnMetadata(key, target) as ListMetadata[K][] | undefined) ?? [];
  Reflect.defineMetadata(key, [...own, entry], target);
}

/** Reads a list along the prototype chain, parents first; a subclass entry for the same member replaces its parent's. */
export function readMetadataList<K extends ListKey>(key: K, ctor: ClassLike): ListMetadata[K][] {
  const chain: object[] = [];
  for (let proto: unknown = ctor.prototype; proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    chain.unshift(proto as object);
  }
  const byMember = new Map<string, ListMetadata[K]>();
  const result: ListMetadata[K][] = [];
  for (const proto of chain) {
    const own = (Reflect.getOwnMetadata(key, proto) as ListMetadata[K][] | undefined) ?? [];
    for (const entry of own) {
      const member = 'methodKey' in entry ? `${entry.methodKey}:${'hook' in entry ? entry.hook : ''}` : entry.propertyKey;
      const previous = byMember.get(member);
      if (previous !== undefined) result.splice(result.indexOf(previous), 1);
      byMember.set(member, entry);
      result.push(entry);
    }
  }
  return result;
}

/** Stores a consumer's validated options on its class. */
export function defineConsumerOptions(ctor: ClassLike, options: NormalizedConsumerOptions): void {
  Reflect.defineMetadata(CONSUMER_METADATA, options, ctor);
}

/** A consumer's options, or undefined when the class has no `@Consumer`. */
export function readConsumerOptions(ctor: ClassLike): NormalizedConsumerOptions | undefined {
  return Reflect.getOwnMetadata(CONSUMER_METADATA, ctor) as NormalizedConsumerOptions | undefined;
}

/** TypeScript's (or swc's) record of a class's constructor parameter types; undefined when it was compiled without decorator metadata. */
export function readConstructorParamTypes(ctor: ClassLike): readonly unknown[] | undefined {
  return Reflect.getOwnMetadata('design:paramtypes', ctor) as readonly unknown[] | undefined;
}

/** tsyringe's `@inject(TOKEN)` tokens of a class's constructor, by parameter index (its own metadata key). */
export function readInjectionTokens(ctor: ClassLike): ReadonlyMap<number, unknown> {
  const tokens = (Reflect.getOwnMetadata('injectionTokens', ctor) as Record<string, unknown> | undefined) ?? {};
  return new Map(Object.entries(tokens).map(([index, token]) => [Number(index), token]));
}
