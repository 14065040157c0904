import { inject } from 'tsyringe';
import { Consumer, Every, OnInit, OnRecords, OnShutdown, Secret, ShardContext, type KinesisRecord, type ShutdownReason } from 'shardline';
import { parseFlight } from './flight-record';
import { createIoRedisClient, REDIS_CLIENT_FACTORY, type FlightsRedisClient, type RedisClientFactory } from './redis-client';
import { addCounts } from './redis-keys';
import { readCounters } from './read-counters';

/**
 * Where the Redis URL comes from, as a `@Secret` reference. In production this is the KMS ciphertext of the URL
 * (`FLIGHTS_REDIS_URL_SECRET=kms:AQICAH…`, made with `shardline kms encrypt`; the ciphertext is not a secret, the key
 * is), so the task definition carries no plaintext host or password. Unset, the URL is read from the
 * `FLIGHTS_REDIS_URL` environment variable, the local fallback when no KMS is at hand.
 */
export const REDIS_URL_SECRET_REF = process.env.FLIGHTS_REDIS_URL_SECRET ?? 'env:FLIGHTS_REDIS_URL';

/** At most this many invalid records of one batch are logged one by one; the rest are summed up in one line. */
const MAX_INVALID_LOGGED_PER_BATCH = 10;

/** Longest wait for Redis to acknowledge QUIT at shutdown. */
const QUIT_TIMEOUT_MS = 2_000;

/** How many destinations the 10-second report names. */
const REPORT_TOP = 10;

/**
 * The seed talk's production consumer: counts flights per destination in Redis.
 *
 * - The Redis URL is a `@Secret` (KMS-encrypted in production), decrypted once at start-up and masked in every log line.
 * - Each batch becomes one Redis `MULTI` transaction: `INCRBY flight:<dest> n` per destination, the destination
 *   added to `flights:destinations`, and the totals. The transaction is atomic, so a failed batch adds nothing; it is
 *   retried by shardline and never checkpointed past.
 * - Records that are not flights (not JSON, no `dest`) are counted in `flights:invalid` and logged; they never fail
 *   the batch or stop the shard.
 * - Every 10 seconds it logs the top destinations; on shutdown it closes its Redis connection.
 */
@Consumer({
  streamName: process.env.FLIGHTS_STREAM ?? 'flights',
  applicationName: process.env.FLIGHTS_APP ?? 'flights-redis',
  checkpoint: 'batch',
  errors: { maxRetries: 5, initialBackoffMs: 500, maxBackoffMs: 10_000, onFailure: 'stop' },
})
export class FlightsRedisConsumer {
  @Secret(REDIS_URL_SECRET_REF)
  private readonly redisUrl!: string;

  private redis: FlightsRedisClient | undefined;
  private counted = 0;
  private invalid = 0;
  private readonly createClient: RedisClientFactory;

  constructor(
    private readonly shard: ShardContext,
    @inject(REDIS_CLIENT_FACTORY, { isOptional: true }) createClient?: RedisClientFactory,
  ) {
    this.createClient = createClient ?? createIoRedisClient;
  }

  @OnInit()
  connect(): void {
    const scheme = REDIS_URL_SECRET_REF.slice(0, REDIS_URL_SECRET_REF.indexOf(':'));
    this.redis = this.createClient(this.redisUrl);
    this.shard.logger.info(`Counting flights per destination in Redis (Redis URL from its ${scheme}: secret)`);
  }

  @OnRecords()
  async count(records: readonly KinesisRecord[]): Promise<void> {
    const perDestination = new Map<string, number>();
    let invalid = 0;
    for (const record of records) {
      const flight = parseFlight(record);
      if (flight.ok) {
        perDestination.set(flight.dest, (perDestination.get(flight.dest) ?? 0) + 1);
        continue;
      }
      invalid += 1;
      if (invalid <= MAX_INVALID_LOGGED_PER_BATCH) {
        this.shard.logger.warn(`Skipping record ${record.sequenceNumber}: ${flight.reason}`);
      }
    }
    if (invalid > MAX_INVALID_LOGGED_PER_BATCH) {
      this.shard.logger.warn(`Skipped ${invalid} records that are not flights in this batch (${invalid - MAX_INVALID_LOGGED_PER_BATCH} not listed)`);
    }
    const valid = records.length - invalid;
    if (records.length === 0) return;
    const replies = await addCounts(this.client().multi(), perDestination, invalid).exec();
    if (replies === null) throw new Error('the Redis transaction was aborted; the batch will be retried');
    const failed = replies.find(([error]) => error !== null);
    if (failed?.[0]) throw new Error(`Redis refused a command of the batch's transaction: ${failed[0].message}`);
    this.counted += valid;
    this.invalid += invalid;
    this.shard.logger.info(`Received ${records.length} records from Kinesis: ${valid} flights to ${perDestination.size} destinations${invalid > 0 ? `, ${invalid} invalid` : ''}`);
  }

  @Every('10s')
  async report(): Promise<void> {
    const counters = await readCounters(this.client());
    const top = counters.destinations
      .slice(0, REPORT_TOP)
      .map((d) => `${d.dest} ${d.count}`)
      .join(', ');
    this.shard.logger.info(
      `Flights counted: ${counters.total} in Redis (${counters.destinations.length} destinations, ${counters.invalid} invalid records); this shard: ${this.counted} (${this.invalid} invalid). Top: ${top || 'none yet'}`,
    );
  }

  @OnShutdown()
  async close(reason: ShutdownReason): Promise<void> {
    const redis = this.redis;
    this.redis = undefined;
    if (redis !== undefined) {
      try {
        // QUIT waits for the replies in flight; a connection that is down would keep it waiting, so bound it.
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise<void>((resolve) => {
          timer = setTimeout(resolve, QUIT_TIMEOUT_MS);
        });
        await Promise.race([redis.quit(), timeout]).finally(() => clearTimeout(timer));
      } catch (error) {
        this.shard.logger.warn(`Closing the Redis connection failed: ${(error as Error).message}`);
      } finally {
        redis.disconnect();
      }
    }
    this.shard.logger.info(`Bye (${reason}): ${this.counted} flights and ${this.invalid} invalid records counted on this shard`);
  }

  private client(): FlightsRedisClient {
    if (this.redis === undefined) throw new Error('the Redis client is not open (the shard was not initialised, or was already shut down)');
    return this.redis;
  }
}
