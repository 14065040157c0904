/**
 * The floor: a plain AWS SDK v3 loop reading every shard of the stream in parallel (GetRecords Limit 10,000, no
 * pause between calls), counting records. Prints one JSON line: { records, wallMs, cpuMs }.
 * Usage (child of run.ts): node -r ./dist/cli/register.js bench/polling/plain-sdk-loop.ts <endpoint> <stream> <expected>
 */
import { GetRecordsCommand, GetShardIteratorCommand, KinesisClient, ListShardsCommand } from '@aws-sdk/client-kinesis';
import { NodeHttpHandler } from '@smithy/node-http-handler';

async function main(): Promise<void> {
  const [endpoint = '', stream = '', expectedText = '0'] = process.argv.slice(2);
  const expected = Number(expectedText);
  const client = new KinesisClient({ endpoint, region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, requestHandler: new NodeHttpHandler() });
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const shards = (await client.send(new ListShardsCommand({ StreamName: stream }))).Shards ?? [];
  let total = 0;
  await Promise.all(
    shards.map(async (shard) => {
      let iterator = (await client.send(new GetShardIteratorCommand({ StreamName: stream, ShardId: shard.ShardId, ShardIteratorType: 'TRIM_HORIZON' }))).ShardIterator;
      while (iterator !== undefined && total < expected) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }));
        const records = page.Records ?? [];
        total += records.length;
        if (records.length === 0 && page.MillisBehindLatest === 0) break;
        iterator = page.NextShardIterator;
      }
    }),
  );
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  client.destroy();
  process.stdout.write(`${JSON.stringify({ records: total, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 })}\n`);
}

void main();
