import Redis from 'ioredis';
import { type InjectionToken } from 'tsyringe';

/** The part of a Redis `MULTI` transaction the flights consumer uses (ioredis's `ChainableCommander` fits it). */
export interface FlightsRedisTransaction {
  incrby(key: string, increment: number): FlightsRedisTransaction;
  sadd(key: string, ...members: string[]): FlightsRedisTransaction;
  /** Runs the transaction: one `[error, result]` pair per command, or null when it was aborted. */
  exec(): Promise<[error: Error | null, result: unknown][] | null>;
}

/**
 * The part of a Redis client the flights consumer and the dashboard use. An ioredis `Redis` fits it; unit tests
 * pass a mock.
 */
export interface FlightsRedisClient {
  multi(): FlightsRedisTransaction;
  smembers(key: string): Promise<string[]>;
  mget(...keys: string[]): Promise<(string | null)[]>;
  /** Closes the connection after the replies in flight arrived. */
  quit(): Promise<unknown>;
  /** Closes the connection now and stops reconnecting. */
  disconnect(): void;
}

/** Makes a Redis client for a URL (`redis://host:6379/0`, `rediss://…` for TLS). */
export type RedisClientFactory = (url: string) => FlightsRedisClient;

/**
 * Injection token of the {@link RedisClientFactory} the flights consumer uses. Not registered by default (the
 * consumer then uses {@link createIoRedisClient}); tests register a factory that returns a mock:
 * `{ provide: REDIS_CLIENT_FACTORY, useValue: () => fakeRedis }`.
 */
export const REDIS_CLIENT_FACTORY: InjectionToken<RedisClientFactory> = Symbol.for('shardline-example:RedisClientFactory');

/**
 * The default factory: an ioredis client that connects at once, gives up a command after 3 reconnection attempts
 * (so a failing batch fails, is retried by shardline and is never checkpointed) and keeps reconnecting in the
 * background with a capped backoff.
 */
export function createIoRedisClient(url: string): Redis {
  return new Redis(url, {
    maxRetriesPerRequest: 3,
    connectTimeout: 10_000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 5_000),
    lazyConnect: false,
  });
}
