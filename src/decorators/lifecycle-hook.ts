import { appendMetadata } from './metadata';
import { HOOK_METADATA } from './metadata-keys';
import { type LifecycleHook } from './metadata-types';
import { requireInstanceMethod } from './decorator-target';

/** Builds a lifecycle method decorator that records `hook` for the decorated method. */
export function lifecycleHook(decorator: string, hook: LifecycleHook): MethodDecorator {
  return (target, member, descriptor) => {
    const methodKey = requireInstanceMethod(decorator, target, member, descriptor);
    appendMetadata(HOOK_METADATA, target, { hook, methodKey });
  };
}
