import { Consumer, Every, OnInit, OnRecords, OnShutdown, ShardContext, type KinesisRecord, type ShutdownReason } from 'shardline';

/**
 * The seed talk's demo consumer, in shardline: says Hello when a shard opens, logs how many records each batch
 * has, runs one updater every minute and one every 10 seconds, checkpoints after every batch, and says Bye.
 * Set SHARDLINE_DEMO_LOGFILE to also append the lines to a file (the R `logfile` option).
 */
@Consumer({
  streamName: process.env.SHARDLINE_DEMO_STREAM ?? 'demo_stream',
  applicationName: process.env.SHARDLINE_DEMO_APP ?? 'demo_app',
  checkpoint: 'batch',
  log: process.env.SHARDLINE_DEMO_LOGFILE ? { file: process.env.SHARDLINE_DEMO_LOGFILE, destination: 'stderr' } : {},
})
export class DemoApp {
  constructor(private readonly shard: ShardContext) {}

  @OnInit()
  hello(): void {
    this.shard.logger.info('Hello');
  }

  @OnRecords()
  received(records: readonly KinesisRecord[]): void {
    this.shard.logger.info(`Received ${records.length} records from Kinesis`);
  }

  @Every('1m')
  everyMinute(): void {
    this.shard.logger.info('Updating some data every minute');
  }

  @Every('10s')
  everyTenSeconds(): void {
    this.shard.logger.info('This is a high frequency updater call running every 10 seconds');
  }

  @OnShutdown()
  bye(reason: ShutdownReason): void {
    this.shard.logger.info(`Bye (${reason})`);
  }
}
