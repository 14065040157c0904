import { lifecycleHook } from './lifecycle-hook';

/** Runs when another worker took the shard's lease, before `@OnShutdown('leaseLost')`. No checkpoint is possible any more. */
export function OnLeaseLost(): MethodDecorator {
  return lifecycleHook('OnLeaseLost', 'leaseLost');
}
