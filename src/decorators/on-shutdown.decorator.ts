import { lifecycleHook } from './lifecycle-hook';

/** Runs when the shard closes, with the reason: `(reason: ShutdownReason) => void | Promise<void>` where the reason is `leaseLost | shardEnded | requested | stopped` (the R `shutdown`). */
export function OnShutdown(): MethodDecorator {
  return lifecycleHook('OnShutdown', 'shutdown');
}
