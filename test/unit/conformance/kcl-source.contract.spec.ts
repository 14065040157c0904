import { describeRecordSourceContract } from '../../../src/testing/record-source-contract';
import { ScriptedKclDaemon } from './scripted-kcl-daemon';

/**
 * The KCL child's record source against the RecordSource contract, driven by a scripted daemon over in-memory pipes
 * (the daemon keeps the shard's records and its checkpoint, and starts a new child conversation for each source).
 */
describeRecordSourceContract(
  'kcl (scripted daemon)',
  () => {
    const daemon = new ScriptedKclDaemon('shardId-000000000001');
    return {
      shardIds: [daemon.shardId],
      createSource: () => daemon.createSource(),
      put: (_shardId, payloads) => Promise.resolve(daemon.put(payloads)),
      endShard: () => Promise.resolve(daemon.endShard()),
      complete: () => Promise.resolve(daemon.complete()),
      storedCheckpoint: () => Promise.resolve(daemon.stored),
      dispose: () => Promise.resolve(daemon.complete()),
    };
  },
  {
    unsupported: { concurrentShards: 'a KCL child serves the one shard lease the daemon gave it' },
    failedAckEndsSource: true,
    quietMs: 300,
    deliveryTimeoutMs: 3_000,
  },
);
