import 'reflect-metadata';
import { Command, InvalidArgumentError } from 'commander';
import { createKinesisClient, KinesisProducer } from 'shardline';
import { produce } from './flights-producer';

/**
 * Runs the flights producer on its own:
 * `node -r ./dist/cli/register.js examples/flights-producer/main.ts --stream flights --endpoint http://127.0.0.1:4568 --rate 50`
 */
async function main(argv: readonly string[]): Promise<void> {
  const positive = (value: string): number => {
    const n = Number(value);
    if (!(n > 0)) throw new InvalidArgumentError(`expected a number greater than 0, got "${value}"`);
    return n;
  };
  const options = new Command('flights-producer')
    .description('send random NYC flights to a Kinesis stream, partitioned by destination')
    .requiredOption('--stream <name>', 'stream to write to')
    .option('--endpoint <url>', 'Kinesis endpoint, e.g. http://127.0.0.1:4568')
    .option('--region <region>', 'AWS region')
    .option('--rate <records-per-second>', 'records per second', positive, 2)
    .option('--count <records>', 'stop after this many records', positive)
    .parse([...argv], { from: 'user' })
    .opts<{ stream: string; endpoint?: string; region?: string; rate: number; count?: number }>();

  const producer = new KinesisProducer(createKinesisClient({ endpoint: options.endpoint, region: options.region }), { streamName: options.stream, lingerMs: 50 });
  const abort = new AbortController();
  process.once('SIGINT', () => abort.abort());
  process.once('SIGTERM', () => abort.abort());
  let last = Date.now();
  const sent = await produce((data, key) => producer.put(data, key), abort.signal, {
    ratePerSecond: options.rate,
    ...(options.count !== undefined ? { count: options.count } : {}),
    onRecord: (flight) => {
      if (Date.now() - last >= 1000) {
        last = Date.now();
        process.stderr.write(`pushed ${producer.stats().deliveredRecords} flights, last ${flight.carrier}${flight.flight} ${flight.origin} -> ${flight.dest}\n`);
      }
    },
  });
  await producer.close();
  process.stderr.write(`sent ${sent} flights to ${options.stream}\n`);
}

main(process.argv.slice(2)).catch((error: unknown) => {
  process.stderr.write(`flights-producer: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
