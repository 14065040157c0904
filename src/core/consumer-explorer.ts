import { assertConstructorInjectable } from './constructor-injection-check';
import { ConfigurationError } from './errors';
import { readConsumerOptions, readMetadataList } from '../decorators/metadata';
import { EVERY_METADATA, HOOK_METADATA, RECORDS_HANDLER_METADATA, SECRET_METADATA } from '../decorators/metadata-keys';
import { type ConsumerDefinition } from '../decorators/metadata-types';

/** A class decorated with `@Consumer`. */
export type ConsumerClass<T extends object = object> = new (...args: never[]) => T;

/** True when the value is a class decorated with `@Consumer`. */
export function isConsumerClass(value: unknown): value is ConsumerClass {
  return typeof value === 'function' && readConsumerOptions(value as ConsumerClass) !== undefined;
}

/**
 * Reads everything the decorators recorded on a consumer class: the one place the runtime learns about a consumer.
 * @throws ConfigurationError when the class has no `@Consumer`, or a constructor parameter that the container cannot build.
 */
export function exploreConsumer(ctor: ConsumerClass): ConsumerDefinition {
  const options = readConsumerOptions(ctor);
  const recordsHandler = readMetadataList(RECORDS_HANDLER_METADATA, ctor)[0];
  if (options === undefined || recordsHandler === undefined) {
    throw new ConfigurationError(`${ctor.name} is not a consumer: decorate it with @Consumer({ streamName: '…' }) and give it an @OnRecords method`);
  }
  assertConstructorInjectable(ctor);
  return {
    name: ctor.name,
    options,
    recordsHandler,
    every: readMetadataList(EVERY_METADATA, ctor),
    secrets: readMetadataList(SECRET_METADATA, ctor),
    hooks: readMetadataList(HOOK_METADATA, ctor),
  };
}
