import { Observable } from 'rxjs';
import {
  type CheckpointPosition,
  Consumer,
  KinesisRecord,
  OnRecords,
  OnShutdown,
  type RecordSource,
  type ShardEvent,
  ShardlineApp,
  createLogger,
} from 'shardline';

/**
 * A source that behaves like the polling adapter: as soon as a batch is acked it sends the next one, and when an
 * event is refused it releases the shard, after which its store refuses checkpoints.
 */
class EagerSource implements RecordSource {
  readonly name = 'eager';
  readonly stored: CheckpointPosition[] = [];
  released = false;
  private sequence = 100n;

  events(): Observable<ShardEvent> {
    return new Observable<ShardEvent>((subscriber) => {
      const shardId = 'shardId-000000000000';
      const sendBatch = (): void => {
        const records = [0, 1].map(
          () => new KinesisRecord({ data: 'x', partitionKey: 'k', sequenceNumber: String(this.sequence++), shardId }),
        );
        subscriber.next({
          type: 'records',
          shardId,
          records,
          ack: (outcome) => {
            if (outcome.status === 'ok') sendBatch();
            else this.released = true;
          },
        });
      };
      subscriber.next({
        type: 'opened',
        shardId,
        lease: {
          streamName: 's',
          shardId,
          checkpointer: {
            checkpoint: (position) => {
              if (this.released) return Promise.reject(new Error('this process does not hold its lease'));
              this.stored.push(position);
              return Promise.resolve();
            },
          },
        },
        ack: () => sendBatch(),
      });
    });
  }
}

@Consumer({ streamName: 's', applicationName: 'graceful-stop', checkpoint: { everyRecords: 1000 } })
class SlowShutdown {
  handled = 0;
  @OnRecords()
  async handle(records: readonly KinesisRecord[]): Promise<void> {
    this.handled += records.length;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  @OnShutdown()
  async bye(): Promise<void> {
    // A shutdown hook that takes a while: the source must not give the shard up meanwhile.
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('graceful stop with a source that keeps sending', () => {
  it('stores the final checkpoint before the shard is given up', async () => {
    const source = new EagerSource();
    const app = await ShardlineApp.start({ consumer: SlowShutdown, source, logger: createLogger({ destination: 'none' }) });
    await new Promise((resolve) => setTimeout(resolve, 60));
    await app.stop();
    expect(source.stored).toHaveLength(1);
    const last = source.stored[0];
    // The final checkpoint is the last record handled, and the shard was released only after it.
    expect(Number(last?.sequenceNumber)).toBeGreaterThan(100);
    expect(source.released).toBe(true);
  });
});
