import { ConfigurationError } from '../core/errors';

/** A test body: may return a promise. */
export type TestBody = () => unknown;

/** The `it` of a test runner, as the kits use it. */
export interface TestFunction {
  (title: string, body: TestBody, timeoutMs?: number): void;
  skip(title: string, body: TestBody): void;
  /** jest's: passes when the body fails. */
  failing?: (title: string, body: TestBody, timeoutMs?: number) => void;
}

/** The runner globals the kits of shardline/testing use (jest, vitest with `globals: true`, mocha all have them). */
export interface TestGlobals {
  readonly describe: (title: string, body: () => void) => void;
  readonly it: TestFunction;
}

/**
 * The test runner's `describe` and `it`, read from the globals so that shardline/testing depends on no runner.
 * @throws ConfigurationError naming `kit` when they are missing (called outside a test file, or vitest without globals).
 */
export function testGlobals(kit: string): TestGlobals {
  const scope = globalThis as unknown as Partial<TestGlobals>;
  const { describe, it } = scope;
  if (typeof describe !== 'function' || typeof it !== 'function' || typeof it.skip !== 'function') {
    throw new ConfigurationError(`${kit} needs the describe/it globals of a test runner: call it at the top level of a jest or mocha test file (vitest: set globals: true)`);
  }
  return { describe: describe.bind(scope), it };
}
