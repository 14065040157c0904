import { type FlightsRedisClient, type FlightsRedisTransaction } from '../../../examples/flights-redis/redis-client';

/**
 * An in-memory stand-in for the few Redis commands the flights example uses, with MULTI semantics (queued commands
 * apply together at EXEC, or not at all when EXEC fails). `failNextExecs` makes the next EXECs reject.
 */
export class FakeRedis implements FlightsRedisClient {
  readonly strings = new Map<string, number>();
  readonly sets = new Map<string, Set<string>>();
  readonly quit = jest.fn(async () => 'OK');
  readonly disconnect = jest.fn(() => undefined);
  readonly url: string;
  execCalls = 0;
  failNextExecs = 0;

  constructor(url = 'redis://fake') {
    this.url = url;
  }

  multi(): FlightsRedisTransaction {
    const queued: Array<() => unknown> = [];
    const tx: FlightsRedisTransaction = {
      incrby: (key, increment) => {
        queued.push(() => {
          const next = (this.strings.get(key) ?? 0) + increment;
          this.strings.set(key, next);
          return next;
        });
        return tx;
      },
      sadd: (key, ...members) => {
        queued.push(() => {
          const set = this.sets.get(key) ?? new Set<string>();
          const before = set.size;
          for (const m of members) set.add(m);
          this.sets.set(key, set);
          return set.size - before;
        });
        return tx;
      },
      exec: async () => {
        this.execCalls += 1;
        if (this.failNextExecs > 0) {
          this.failNextExecs -= 1;
          throw new Error('Connection is closed.');
        }
        return queued.map((apply): [Error | null, unknown] => [null, apply()]);
      },
    };
    return tx;
  }

  async smembers(key: string): Promise<string[]> {
    return [...(this.sets.get(key) ?? [])];
  }

  async mget(...keys: string[]): Promise<(string | null)[]> {
    return keys.map((k) => (this.strings.has(k) ? String(this.strings.get(k)) : null));
  }
}
