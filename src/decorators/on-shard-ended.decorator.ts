import { lifecycleHook } from './lifecycle-hook';

/** Runs when the shard was read to its end (after a split or merge), before `@OnShutdown('shardEnded')`. The adapter then checkpoints the shard's end so its children can start. */
export function OnShardEnded(): MethodDecorator {
  return lifecycleHook('OnShardEnded', 'shardEnded');
}
