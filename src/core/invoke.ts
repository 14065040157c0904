import { isObservable, lastValueFrom } from 'rxjs';

/** Calls a method that may return nothing, a Promise or an Observable, and waits for it to finish. */
export async function invokeAndSettle(fn: (...args: never[]) => unknown, self: object, args: readonly unknown[]): Promise<unknown> {
  const result = (fn as (...a: unknown[]) => unknown).apply(self, [...args]);
  if (isObservable(result)) return lastValueFrom(result, { defaultValue: undefined });
  return await result;
}
