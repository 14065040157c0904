import { injectable } from 'tsyringe';
import { normalizeConsumerOptions, type ConsumerOptions } from '../core/consumer-options';
import { InvalidDecoratorError } from '../core/errors';
import { defineConsumerOptions, readMetadataList } from './metadata';
import { HOOK_METADATA, RECORDS_HANDLER_METADATA } from './metadata-keys';

type ConsumerClass = new (...args: never[]) => object;

/**
 * Declares a Kinesis consumer class: one instance per shard, built by the dependency-injection container (so its
 * constructor may ask for a {@link ShardContext}, a {@link ShardCheckpointer} or any registered service).
 * Options are validated here, when the class is defined; a mistake throws {@link InvalidDecoratorError} naming the class.
 *
 * @example
 * ```ts
 * @Consumer({ streamName: 'flights', checkpoint: 'batch' })
 * export class FlightCounter {
 *   @OnRecords({ decode: 'json' })
 *   handle(flights: Flight[]) { … }
 * }
 * ```
 */
export function Consumer(options: ConsumerOptions): <T extends ConsumerClass>(target: T) => T {
  return <T extends ConsumerClass>(target: T): T => {
    const { options: normalized, problems } = normalizeConsumerOptions(target.name, options);
    const handlers = readMetadataList(RECORDS_HANDLER_METADATA, target);
    if (handlers.length === 0) {
      problems.push('it has no @OnRecords method: add one that receives each batch of records');
    } else if (handlers.length > 1) {
      problems.push(`it has ${handlers.length} @OnRecords methods (${handlers.map((h) => h.methodKey).join(', ')}): keep exactly one`);
    }
    const hooks = readMetadataList(HOOK_METADATA, target);
    if (normalized?.errors.onFailure === 'dead-letter' && !hooks.some((h) => h.hook === 'deadLetter')) {
      problems.push("errors.onFailure is 'dead-letter' but no method has @OnDeadLetter");
    }
    for (const hook of ['init', 'deadLetter'] as const) {
      const count = hooks.filter((h) => h.hook === hook).length;
      if (count > 1) problems.push(`more than one @${hook === 'init' ? 'OnInit' : 'OnDeadLetter'} method: keep one`);
    }
    if (problems.length > 0 || normalized === undefined) {
      throw new InvalidDecoratorError(`@Consumer on ${target.name}: ${problems.join('; ')}`);
    }
    defineConsumerOptions(target, normalized);
    injectable()(target);
    return target;
  };
}
