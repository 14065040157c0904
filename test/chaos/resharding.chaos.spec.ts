import { MergeShardsCommand, SplitShardCommand } from '@aws-sdk/client-kinesis';
import { listShards, waitActive } from '../integration/polling/polling-test-kit';
import { ChaosProducer } from './harness/chaos-producer';
import { requireBuiltCli } from './harness/consumer-process';
import { assertDelivery, checkDelivery } from './harness/delivery-checker';
import { readHandledLog } from './harness/handled-log';
import { crashAndRestart, pollingScenario, printSummary, shardParents, sleep, waitForIds, waitForWorkBy, scenarioRuns } from './harness/scenario';
import { scenarioSeed, seededRandom } from './harness/seeded-random';

jest.setTimeout(150_000);

const SEED = scenarioSeed(11_002);
const RECORDS = 2_400;

describe('chaos: split and merge mid-stream with kill -9 between (kinesalite)', () => {
  it(`reads every parent before its children and loses nothing (seed ${SEED})`, async () => {
    requireBuiltCli();
    const random = seededRandom(SEED);
    const s = await pollingScenario('chaos-reshard', 2);
    const runs = scenarioRuns(s);
    const producer = new ChaosProducer(s.client, s.stream);
    const context = `split + merge (seed ${SEED}, files in ${s.dir})`;
    const producing = producer.put({ from: 0, count: RECORDS, chunk: 40, pauseMs: 100 });
    try {
      const first = runs.start();
      await waitForWorkBy(s.log, first.pid, 30_000, () => `${context}\n${runs.stderrTail()}`);
      await sleep(random.int(200, 1_200));

      // Split shard 0 at a seeded hash key while records arrive, then crash.
      const parent = (await listShards(s.client, s.stream)).find((x) => x.ShardId === 'shardId-000000000000');
      const low = BigInt(parent?.HashKeyRange?.StartingHashKey ?? '0');
      const high = BigInt(parent?.HashKeyRange?.EndingHashKey ?? '0');
      const splitAt = low + ((high - low) * BigInt(random.int(25, 75))) / 100n;
      await s.client.send(new SplitShardCommand({ StreamName: s.stream, ShardToSplit: 'shardId-000000000000', NewStartingHashKey: splitAt.toString() }));
      await waitActive(s.client, s.stream);
      await crashAndRestart(runs, s.log, random, context);

      // Merge the two children back into one, then crash again.
      await sleep(random.int(500, 1_500));
      const children = (await listShards(s.client, s.stream))
        .filter((x) => x.ParentShardId === 'shardId-000000000000')
        .sort((a, b) => (BigInt(a.HashKeyRange?.StartingHashKey ?? '0') < BigInt(b.HashKeyRange?.StartingHashKey ?? '0') ? -1 : 1));
      expect(children).toHaveLength(2);
      await s.client.send(new MergeShardsCommand({ StreamName: s.stream, ShardToMerge: children[0]?.ShardId, AdjacentShardToMerge: children[1]?.ShardId }));
      await waitActive(s.client, s.stream);
      await crashAndRestart(runs, s.log, random, context);

      await producing;
      await waitForIds(s.log, RECORDS, 90_000, () => `${context}\n${runs.stderrTail()}`, runs);
      expect(await runs.terminate()).toBe(0);

      const parents = await shardParents(s.client, s.stream);
      const report = checkDelivery({ puts: producer.positions, handled: readHandledLog(s.log).records, parents, endings: runs.endings });
      printSummary('polling split + merge', SEED, report, runs.crashes, s.startedAt);
      assertDelivery(report, context);
      // The scenario did reshard under load: records landed on the parent, both children and the merged shard.
      const merged = [...parents].find(([, p]) => p.length === 2)?.[0];
      const used = new Set([...producer.positions.values()].map((p) => p.shard));
      for (const shard of ['shardId-000000000000', ...children.map((c) => c.ShardId ?? ''), merged ?? 'no merged shard']) expect(used).toContain(shard);
    } finally {
      await runs.cleanup();
      await producer.close();
      await producing.catch(() => undefined);
      s.client.destroy();
    }
  });
});
