import { Consumer, OnRecords, OnShardEnded, ShardContext, type KinesisRecord } from 'shardline';

/** A consumer to try the file-lines adapter with: logs each line it gets, and each file it finished. */
@Consumer({ streamName: 'lines', applicationName: 'lines-app', checkpoint: 'batch' })
export class LinePrinter {
  constructor(private readonly shard: ShardContext) {}

  @OnRecords()
  print(records: readonly KinesisRecord[]): void {
    for (const record of records) this.shard.logger.info(`line ${record.sequenceNumber}: ${record.text()}`);
  }

  @OnShardEnded()
  finished(): void {
    this.shard.logger.info('end of file');
  }
}
