/**
 * The waits of one polling run (backoff sleeps, paced polls, events waiting for their ack), cancelled all at once
 * when the run stops.
 *
 * Each wait is kept in a set and removed when it settles, instead of adding an `abort` listener to one shared
 * `AbortSignal` per wait: with a dozen shards, listeners on a shared signal pile up past Node's limit of 10 and Node
 * prints `MaxListenersExceededWarning`, although nothing leaks. Here nothing accumulates: a settled wait leaves no trace.
 */
export class RunTimers {
  private cancelled = false;
  private readonly pending = new Set<() => void>();

  /** Whether {@link cancelAll} was called. */
  get isCancelled(): boolean {
    return this.cancelled;
  }

  /** Number of waits in progress (for tests: it must not grow). */
  get size(): number {
    return this.pending.size;
  }

  /** Waits `ms` milliseconds, or less if the run stops meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      if (this.cancelled) return resolve();
      const finish = (): void => {
        clearTimeout(timer);
        this.pending.delete(finish);
        resolve();
      };
      const timer = setTimeout(finish, Math.max(0, ms));
      this.pending.add(finish);
    });
  }

  /**
   * Runs `start` with a `settle` function and resolves with what `settle` is given, or with `onCancel()` if the run
   * stops first (used to wait for the runtime's ack of an event).
   */
  wait<T>(start: (settle: (value: T) => void) => void, onCancel: () => T): Promise<T> {
    return new Promise<T>((resolve) => {
      if (this.cancelled) return resolve(onCancel());
      let done = false;
      const cancel = (): void => settle(onCancel());
      const settle = (value: T): void => {
        if (done) return;
        done = true;
        this.pending.delete(cancel);
        resolve(value);
      };
      this.pending.add(cancel);
      start(settle);
    });
  }

  /**
   * An abort signal of its own for one reader's SDK calls (the SDK adds an `abort` listener per call in flight, so
   * one signal shared by every shard would collect one listener per shard), aborted by {@link cancelAll}. Call
   * `dispose` when the reader ends.
   */
  signal(): { readonly signal: AbortSignal; readonly dispose: () => void } {
    const controller = new AbortController();
    if (this.cancelled) controller.abort();
    const abort = (): void => controller.abort();
    this.pending.add(abort);
    return { signal: controller.signal, dispose: () => this.pending.delete(abort) };
  }

  /**
   * Settles as `work` does, or rejects with `timeout()` once the epoch-ms `deadline` passes first (for start-up steps
   * that must not wait for ever). Stopping the run clears the timer; the result is then `work`'s.
   */
  beforeDeadline<T>(work: Promise<T>, deadline: number, timeout: () => Error): Promise<T> {
    if (this.cancelled) return work;
    return new Promise<T>((resolve, reject) => {
      const finish = (): void => {
        clearTimeout(timer);
        this.pending.delete(finish);
      };
      const timer = setTimeout(() => {
        finish();
        reject(timeout());
      }, Math.max(0, deadline - Date.now()));
      this.pending.add(finish);
      work.then(resolve, reject).finally(finish);
    });
  }

  /** Ends every wait now (and aborts every signal); later waits end at once. */
  cancelAll(): void {
    this.cancelled = true;
    for (const cancel of [...this.pending]) cancel();
    this.pending.clear();
  }
}
