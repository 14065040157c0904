import { parseDuration, type Duration } from '../core/duration';
import { InvalidDecoratorError } from '../core/errors';
import { appendMetadata } from './metadata';
import { EVERY_METADATA } from './metadata-keys';
import { describeMember, requireInstanceMethod } from './decorator-target';

/**
 * Runs the method on a real timer, per shard, while the shard is open: `@Every('10s')`, `@Every('1m')`,
 * `@Every(500)`. A run never overlaps the previous run of the same method (a tick that comes while it is still
 * running is skipped). A throwing run is logged and the timer goes on. Timers stop before the shutdown hooks run.
 */
export function Every(interval: Duration): MethodDecorator {
  return (target, member, descriptor) => {
    const methodKey = requireInstanceMethod('Every', target, member, descriptor);
    let intervalMs: number;
    try {
      intervalMs = parseDuration(interval);
    } catch (error) {
      throw new InvalidDecoratorError(`@Every on ${describeMember(target, member)}: ${(error as Error).message}`);
    }
    appendMetadata(EVERY_METADATA, target, { methodKey, intervalMs });
  };
}
