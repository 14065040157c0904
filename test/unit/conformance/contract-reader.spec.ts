import { Observable } from 'rxjs';
import { type RecordSource } from '../../../src/adapters/record-source';
import { KinesisRecord } from '../../../src/core/kinesis-record';
import { type ShardEvent } from '../../../src/core/shard-event';
import { ContractReader } from '../../../src/testing/contract-reader';
import { runContractCase } from '../../../src/testing/record-source-contract';

const SHARD = 'shardId-000000000000';
const ignore = (): void => undefined;
const checkpointer = { checkpoint: () => Promise.resolve() };

function record(n: number): KinesisRecord {
  return new KinesisRecord({ data: Buffer.from(`r-${n}`), partitionKey: 'k', sequenceNumber: String(1000 + n), shardId: SHARD });
}

const opened: ShardEvent = { type: 'opened', shardId: SHARD, lease: { streamName: 's', shardId: SHARD, checkpointer }, ack: ignore };
const batch = (...ns: number[]): ShardEvent => ({ type: 'records', shardId: SHARD, records: ns.map(record), ack: ignore });
const ended: ShardEvent = { type: 'shardEnded', shardId: SHARD, ack: ignore };

/** A source that emits `events` at once, without waiting for any acknowledgement (or, with `paced`, one per tick). */
function scripted(events: readonly ShardEvent[], paced = false): RecordSource {
  return {
    name: 'scripted',
    events: () =>
      new Observable<ShardEvent>((subscriber) => {
        if (!paced) for (const event of events) subscriber.next(event);
        else void (async () => {
          for (const event of events) {
            subscriber.next(event);
            await new Promise((resolve) => setTimeout(resolve, 5));
          }
        })();
      }),
  };
}

async function violationsOf(events: readonly ShardEvent[], paced = true): Promise<string[]> {
  const reader = new ContractReader(scripted(events, paced));
  await new Promise((resolve) => setTimeout(resolve, 20 + events.length * 10));
  reader.stop();
  return reader.violations;
}

/** The conformance kit's checks can fail: each breach of the contract is reported. */
describe('ContractReader', () => {
  it('sees nothing wrong in a well-behaved shard', async () => {
    expect(await violationsOf([opened, batch(1, 2), batch(3), ended])).toEqual([]);
  });

  it('reports an event sent before the previous one was acknowledged', async () => {
    expect(await violationsOf([opened, batch(1)], false)).toEqual([expect.stringContaining('before the previous event of the shard was acknowledged')]);
  });

  it("reports records before 'opened', a second 'opened', events after the closing one, and records out of order", async () => {
    expect(await violationsOf([batch(1)])).toEqual([expect.stringContaining("must be 'opened'")]);
    expect(await violationsOf([opened, opened])).toEqual([expect.stringContaining("'opened' must be the shard's first event only")]);
    expect(await violationsOf([opened, ended, batch(1)])).toEqual([expect.stringContaining("after the shard's closing event")]);
    expect(await violationsOf([opened, batch(2), batch(1)])).toEqual([expect.stringContaining('out of order or repeated')]);
  });

  it('reports an event after a failed acknowledgement', async () => {
    const reader = new ContractReader(scripted([opened, batch(1), batch(2)], true), (event) =>
      event.type === 'records' ? { status: 'failed', error: new Error('stop') } : { status: 'ok' },
    );
    await new Promise((resolve) => setTimeout(resolve, 60));
    reader.stop();
    expect(reader.violations).toEqual([expect.stringContaining('after an acknowledgement that failed')]);
  });
});

/** A kit case whose wait times out because of a violation names the violation, not only the timeout. */
describe('runContractCase (one case of describeRecordSourceContract)', () => {
  const harnessOf = (source: RecordSource) => ({
    shardIds: [SHARD],
    createSource: () => source,
    put: () => Promise.resolve(),
    dispose: jest.fn(() => Promise.resolve()),
  });
  const settings = { timeoutMs: 100, quietMs: 50, slowAckMs: 10 };

  it('adds the recorded violations to the message of a failed body, keeping its error as cause', async () => {
    const harness = harnessOf(scripted([batch(1)], true));
    const error = await runContractCase(() => harness, settings, async ({ read, timeoutMs }) => {
      await read().waitForRecords(SHARD, 2, timeoutMs);
    }).then(
      () => new Error('expected a failure'),
      (failure: unknown) => failure as Error,
    );
    expect(error.message).toContain(`waited 100 ms for 2 records of ${SHARD}`);
    expect(error.message).toContain("Meanwhile the source broke the RecordSource contract:\nrecords");
    expect(error.message).toContain("must be 'opened'");
    expect((error.cause as Error).message).toMatch(/^waited 100 ms for 2 records/);
    expect(harness.dispose).toHaveBeenCalledTimes(1);
  });

  it('rethrows a failed body unchanged when there is no violation, and fails a passing body that saw one', async () => {
    const original = new Error('assertion of the case');
    await expect(
      runContractCase(() => harnessOf(scripted([opened], true)), settings, async ({ read }) => {
        read();
        throw original;
      }),
    ).rejects.toBe(original);
    await expect(
      runContractCase(() => harnessOf(scripted([batch(1)], true)), settings, async ({ read, timeoutMs }) => {
        await read().waitForRecords(SHARD, 1, timeoutMs);
      }),
    ).rejects.toThrow("the source broke the RecordSource contract:\nrecords");
  });
});
