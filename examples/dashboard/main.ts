/**
 * Runs the flights dashboard on its own, against the Redis the flights consumer writes to:
 *
 *   npm run build && node -r ./dist/cli/register.js examples/dashboard/main.ts --redis-url redis://127.0.0.1:6390/0 --port 8080
 *
 * (`examples/flights-redis/local.ts` starts it for you in the local demo.)
 */
import { Command, InvalidArgumentError } from 'commander';
import { airportName } from './airport-names';
import { startDashboard } from './dashboard-server';

function port(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw new InvalidArgumentError(`expected a port number (0-65535), got "${value}"`);
  return n;
}

function refresh(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 250) throw new InvalidArgumentError(`expected at least 250 milliseconds, got "${value}"`);
  return n;
}

async function main(argv: readonly string[]): Promise<void> {
  const options = new Command('flights-dashboard')
    .description('serve the live treemap of flight destinations from the flights consumer\'s Redis counters')
    .option('--redis-url <url>', 'the Redis the consumer writes to (default: FLIGHTS_REDIS_URL)')
    .option('--port <port>', 'port to listen on', port, 8080)
    .option('--host <address>', 'address to bind (0.0.0.0 to reach it from a phone on your network)', '127.0.0.1')
    .option('--refresh-ms <ms>', 'how often the page refreshes', refresh, 2000)
    .exitOverride()
    .parse([...argv], { from: 'user' })
    .opts<{ redisUrl?: string; port: number; host: string; refreshMs: number }>();
  const redisUrl = options.redisUrl ?? process.env.FLIGHTS_REDIS_URL;
  if (redisUrl === undefined || redisUrl === '') throw new Error('no Redis: pass --redis-url redis://host:6379/0 (or set FLIGHTS_REDIS_URL)');
  const dashboard = await startDashboard({ redis: redisUrl, port: options.port, host: options.host, refreshMs: options.refreshMs, airportName });
  process.stdout.write(`flights dashboard: ${dashboard.url}  (Ctrl-C to stop)\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await dashboard.close();
}

main(process.argv.slice(2)).catch((error: unknown) => {
  const code = (error as { code?: string }).code;
  if (code === 'commander.helpDisplayed') return;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    process.exitCode = 2;
    return;
  }
  process.stderr.write(`flights-dashboard: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
