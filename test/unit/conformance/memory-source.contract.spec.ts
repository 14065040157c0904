import { InMemoryRecordSource } from '../../../src/adapters/memory/in-memory-record-source';
import { describeRecordSourceContract } from '../../../src/testing/record-source-contract';

/**
 * The in-memory source (the testing kit's and `--adapter memory`'s) against the RecordSource contract. It holds no
 * records of its own, so a restart cannot read anything again: those cases are skipped, with that reason.
 */
describeRecordSourceContract(
  'memory',
  () => {
    const source = new InMemoryRecordSource('contract-stream');
    const pending: Promise<unknown>[] = [];
    return {
      shardIds: ['shardId-000000000000', 'shardId-000000000001'],
      createSource: () => source,
      put: (shardId, payloads) => {
        // push resolves once the batch was acknowledged; the kit only needs it queued.
        pending.push(source.push(shardId, payloads.map((data) => ({ data }))));
        return Promise.resolve();
      },
      endShard: (shardId) => {
        pending.push(source.endShard(shardId));
        return Promise.resolve();
      },
      complete: () => {
        source.complete();
        return Promise.resolve();
      },
      storedCheckpoint: (shardId) => Promise.resolve(source.lastCheckpoint(shardId)?.sequenceNumber),
      dispose: () => Promise.resolve(),
    };
  },
  {
    unsupported: { restart: 'the in-memory source keeps no records: each batch is pushed into the running source by the test' },
    quietMs: 300,
    deliveryTimeoutMs: 3_000,
  },
);
