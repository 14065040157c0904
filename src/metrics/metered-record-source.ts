import { map, type Observable } from 'rxjs';
import { type RecordSource } from '../adapters/record-source';
import { formatPosition } from '../core/checkpoint-position';
import { type Checkpointer } from '../core/checkpointer';
import { type Ack, type EventOutcome, type ShardEvent } from '../core/shard-event';
import { type AppRef, type MetricsRecorder, type ShardRef } from './metrics-recorder';

/**
 * Measures a record source from the outside, through the `RecordSource` contract alone: batches and their bytes and
 * lag as they arrive, the time until the runtime acknowledges them, checkpoint writes, and each shard's life
 * (opened, closed, stopped). Works the same for every adapter, built-in or plug-in.
 */
export class MeteredRecordSource implements RecordSource {
  readonly name: string;
  private stopping = false;

  constructor(
    private readonly inner: RecordSource,
    private readonly recorder: MetricsRecorder,
    private readonly app: AppRef,
  ) {
    this.name = inner.name;
  }

  /** From now on failed acknowledgements are the app refusing work while it stops, not stopped shards. */
  markStopping(): void {
    this.stopping = true;
  }

  events(): Observable<ShardEvent> {
    return this.inner.events().pipe(map((event) => this.instrument(event)));
  }

  private instrument(event: ShardEvent): ShardEvent {
    const shard: ShardRef = { ...this.app, shardId: event.shardId };
    const recorder = this.recorder;
    switch (event.type) {
      case 'opened':
        return {
          ...event,
          lease: { ...event.lease, checkpointer: this.timedCheckpointer(event.lease.checkpointer, shard) },
          ack: this.wrapAck(event.ack, (outcome) => {
            if (outcome.status === 'ok') recorder.shardOpened?.(shard);
            else if (!this.stopping) recorder.shardStopped?.(shard, outcome.error);
          }),
        };
      case 'records': {
        const started = performance.now();
        let bytes = 0;
        for (const record of event.records) bytes += record.byteLength;
        recorder.batchReceived?.(shard, {
          records: event.records.length,
          bytes,
          ...(event.millisBehindLatest !== undefined ? { millisBehindLatest: event.millisBehindLatest } : {}),
        });
        return {
          ...event,
          ack: this.wrapAck(event.ack, (outcome) => {
            if (this.stopping && outcome.status === 'failed') return;
            recorder.batchHandled?.(shard, { durationMs: performance.now() - started, ok: outcome.status === 'ok' });
            if (outcome.status === 'failed') recorder.shardStopped?.(shard, outcome.error);
          }),
        };
      }
      default:
        return { ...event, ack: this.wrapAck(event.ack, () => recorder.shardClosed?.(shard, event.type)) };
    }
  }

  private wrapAck(ack: Ack, observe: (outcome: EventOutcome) => void): Ack {
    return (outcome) => {
      try {
        observe(outcome);
      } catch {
        // Measuring must never keep an acknowledgement from the adapter.
      }
      ack(outcome);
    };
  }

  private timedCheckpointer(inner: Checkpointer, shard: ShardRef): Checkpointer {
    const recorder = this.recorder;
    return {
      async checkpoint(position) {
        const started = performance.now();
        let ok = false;
        try {
          await inner.checkpoint(position);
          ok = true;
        } finally {
          recorder.checkpointWritten?.(shard, { durationMs: performance.now() - started, ok, position: formatPosition(position) });
        }
      },
    };
  }
}
