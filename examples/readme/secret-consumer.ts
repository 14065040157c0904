import { Consumer, OnInit, OnRecords, Secret, ShardContext } from 'shardline';

/**
 * In production REDIS_URL_SECRET is `kms:<ciphertext>` (made once with `shardline kms encrypt`; a ciphertext is not
 * a secret, the KMS key is); on a laptop the URL itself can come from the environment.
 */
const REDIS_URL = process.env.REDIS_URL_SECRET ?? 'env:REDIS_URL';

@Consumer({ streamName: 'flights', applicationName: 'flight-alerts' })
export class FlightAlerts {
  @Secret(REDIS_URL) redisUrl!: string;
  @Secret('env:API_TOKEN') apiToken!: string;

  constructor(private readonly shard: ShardContext) {}

  @OnInit()
  connect(): void {
    // Both are decrypted here already (not yet in the constructor), and masked as **** in every log line.
    this.shard.logger.info(`Connecting to ${this.redisUrl} with token ${this.apiToken}`);
  }

  @OnRecords({ decode: 'json' })
  handle(flights: { dest: string }[]): void {
    this.shard.logger.info(`Received ${flights.length} records from Kinesis`);
  }
}
