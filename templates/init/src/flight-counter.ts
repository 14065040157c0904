import { Consumer, Every, OnInit, OnRecords, OnShutdown, ShardContext, type ShutdownReason } from 'shardline';
import { CounterStore } from './counter-store';

/** One record of the stream: a flight, as src/producer.ts writes it. */
export interface Flight {
  dest: string;
  carrier: string;
}

/** Counts flights per destination; one instance per shard. */
@Consumer({ streamName: 'flights', applicationName: 'flight-counter', checkpoint: 'batch' })
export class FlightCounter {
  constructor(
    private readonly store: CounterStore,
    private readonly shard: ShardContext,
  ) {}

  @OnInit()
  hello(): void {
    this.shard.logger.info('Hello');
  }

  @OnRecords({ decode: 'json' })
  count(flights: Flight[]): void {
    for (const f of flights) this.store.add(f.dest);
    this.shard.logger.info(`Received ${flights.length} records from Kinesis`);
  }

  @Every('10s')
  report(): void {
    this.shard.logger.info(`Top: ${JSON.stringify(this.store.top(3))}`);
  }

  @OnShutdown()
  bye(reason: ShutdownReason): void {
    this.shard.logger.info(`Bye (${reason})`);
  }
}
