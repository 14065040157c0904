/**
 * Runs the capacity stand-in on its own (to point `shardline run` or another reader at it by hand):
 *   node -r ./dist/cli/register.js bench/capacity/stand-in/main.ts [--shards 4] [--port 22600] [--stream capacity]
 *     [--bytes-per-second 2048000] [--calls-per-second 5] [--records-per-shard N] [--aggregate K]
 *     [--event-interval-ms 200] [--subscription-ms 300000] (enhanced fan-out)
 * Prints its endpoint, then every 5 s its counters, on stderr; stops on SIGINT/SIGTERM.
 */
import { KinesisStandIn } from './kinesis-stand-in';

function flag(name: string, fallback: string): string {
  const index = process.argv.indexOf(name);
  return index >= 0 ? (process.argv[index + 1] ?? fallback) : fallback;
}

async function main(): Promise<void> {
  const recordsPerShard = flag('--records-per-shard', '');
  const standIn = new KinesisStandIn({
    streamName: flag('--stream', 'capacity'),
    shardCount: Number(flag('--shards', '4')),
    port: Number(flag('--port', '22600')),
    bytesPerSecondPerShard: Number(flag('--bytes-per-second', '2048000')),
    getRecordsPerSecondPerShard: Number(flag('--calls-per-second', '5')),
    userRecordsPerRecord: Number(flag('--aggregate', '1')),
    eventIntervalMs: Number(flag('--event-interval-ms', '200')),
    subscriptionMs: Number(flag('--subscription-ms', '300000')),
    ...(recordsPerShard === '' ? {} : { recordsPerShard: Number(recordsPerShard) }),
    onUnknown: (operation) => process.stderr.write(`stand-in: unknown operation ${operation}\n`),
  });
  const endpoint = await standIn.start();
  process.stderr.write(`stand-in listening on ${endpoint}\n`);
  const timer = setInterval(() => process.stderr.write(`${JSON.stringify(standIn.stats())}\n`), 5_000);
  const stop = (): void => {
    clearInterval(timer);
    void standIn.stop();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

void main();
