import { lifecycleHook } from './lifecycle-hook';

/** Runs once per shard after secrets are injected and before the first batch (the R `initialize`). May be async; a throwing hook stops the shard. */
export function OnInit(): MethodDecorator {
  return lifecycleHook('OnInit', 'init');
}
