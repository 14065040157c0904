/**
 * The floor: the cheapest reasonable reader, a hand-written GetRecords loop per shard with the same SDK client as
 * shardline's (createKinesisClient), from LATEST, Limit 10,000, at most one call per 200 ms per shard (Kinesis allows
 * 5 per second), counting records. No checkpoints, no memory bound. Reports to run.ts over IPC (probe.ts).
 *
 * Usage (child of run.ts): node bench/capacity/floor-reader.js… via `node -r ./dist/cli/register.js bench/capacity/floor-reader.ts <endpoint> <stream>`
 */
import { GetRecordsCommand, GetShardIteratorCommand, ListShardsCommand, type ListShardsCommandOutput } from '@aws-sdk/client-kinesis';
import { createKinesisClient } from '../../dist';
import { startProbe } from './probe';

const MIN_POLL_MS = 200;
let total = 0;
startProbe(() => total);

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function main(): Promise<void> {
  const [endpoint = '', stream = ''] = process.argv.slice(2);
  const client = createKinesisClient({ endpoint, region: 'us-east-1' });
  const shardIds: string[] = [];
  let token: string | undefined;
  do {
    const page: ListShardsCommandOutput = await client.send(new ListShardsCommand(token === undefined ? { StreamName: stream } : { NextToken: token }));
    for (const shard of page.Shards ?? []) if (shard.ShardId !== undefined) shardIds.push(shard.ShardId);
    token = page.NextToken;
  } while (token !== undefined);
  await Promise.all(
    shardIds.map(async (shardId) => {
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shardId, ShardIteratorType: 'LATEST' }))).ShardIterator;
      while (iterator !== undefined) {
        const startedAt = Date.now();
        try {
          const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
          total += page.Records?.length ?? 0;
          iterator = page.NextShardIterator;
        } catch (error) {
          if ((error as Error).name !== 'ProvisionedThroughputExceededException') throw error;
        }
        await sleep(MIN_POLL_MS - (Date.now() - startedAt));
      }
    }),
  );
}

void main().catch((error: unknown) => {
  process.stderr.write(`floor reader failed: ${(error as Error).message}\n`);
  process.exitCode = 1;
});
