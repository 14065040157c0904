import { KinesisProducer, createKinesisClient, type KinesisClientOptions } from 'shardline';

/** A flight as the first consumer (FlightCounter) reads it. */
export interface Flight {
  dest: string;
  carrier: string;
}

/**
 * Puts flights on a stream, keyed by destination (so one destination stays on one shard, in order), and resolves
 * once every record is stored or finally failed.
 */
export async function putFlights(flights: readonly Flight[], streamName = 'flights', client: KinesisClientOptions = { region: 'eu-west-1' }): Promise<number> {
  const producer = new KinesisProducer(createKinesisClient(client), { streamName });
  try {
    const result = await producer.putMany(flights.map((f) => ({ data: f, partitionKey: f.dest })));
    return result.failedCount; // 0 unless Kinesis refused records after every retry (see result.errors)
  } finally {
    await producer.close(); // delivers anything still queued, then releases the client
  }
}
