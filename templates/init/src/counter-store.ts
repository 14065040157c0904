import { singleton } from 'shardline';

/**
 * Counts flights per destination. An injected service: every shard's consumer gets this one instance through its
 * constructor, and a test replaces it with a mock (test/flight-counter.spec.ts). Swap the Map for Redis or DynamoDB
 * in a real app.
 */
@singleton()
export class CounterStore {
  private readonly counts = new Map<string, number>();

  add(key: string, by = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + by);
  }

  /** The `n` largest counters, largest first. */
  top(n: number): Array<[string, number]> {
    return [...this.counts].sort((a, b) => b[1] - a[1]).slice(0, n);
  }
}
