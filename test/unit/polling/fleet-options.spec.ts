import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { container } from 'tsyringe';
import { fleetWorkerId } from '../../../src/adapters/polling/leased-shard-assignment';
import { pollingCliAdapter } from '../../../src/cli/adapters/polling.cli-adapter';
import { type RunOptions } from '../../../src/cli/cli-adapter';
import { UsageError } from '../../../src/cli/usage-error';
import { createLogger } from '../../../src/core/logger';
import { type ConsumerDefinition } from '../../../src/decorators/metadata-types';
import { isShardlineWorkerId } from '../../../src/leases/worker-id';

const kinesis = mockClient(KinesisClient);

function setup(options: Partial<RunOptions>): Promise<unknown> {
  kinesis.reset();
  kinesis.on(DescribeStreamSummaryCommand).resolves({ StreamDescriptionSummary: undefined });
  const definition = { name: 'A', options: { applicationName: 'app-a', streamName: 'orders' } } as unknown as ConsumerDefinition;
  return pollingCliAdapter.setup([definition], { adapter: 'polling', endpoint: 'http://127.0.0.1:1', shutdownTimeoutMs: 1_000, ...options }, {
    logger: createLogger({ destination: 'none' }),
    container,
  });
}

describe('polling fleet options (--failover-time-ms, --lease-renewal-interval-ms, --lease-taker-interval-ms, --worker-id)', () => {
  it('refuses lease flags without --checkpoints dynamodb: (a file store serves one process): a usage error, exit 2', async () => {
    await expect(setup({ failoverTimeMs: 3_000 })).rejects.toThrow(UsageError);
    await expect(setup({ workerId: 'a', checkpoints: 'file:/tmp/x' })).rejects.toThrow(/need --checkpoints dynamodb:TABLE \(a file store serves one process\)/);
  });

  it('refuses a lease timing that breaks the safety invariant, naming the rule', async () => {
    await expect(setup({ checkpoints: 'dynamodb:leases', failoverTimeMs: 3_000, leaseRenewalIntervalMs: 2_900 })).rejects.toThrow(
      /^lease flags: leaseRenewalIntervalMs \(2900\) \+ leaseSafetyMarginMs \(300\) must be below failoverTimeMs \(3000\)/,
    );
    await expect(setup({ checkpoints: 'dynamodb:leases', failoverTimeMs: 3_000, leaseRenewalIntervalMs: 2_900 })).rejects.toBeInstanceOf(UsageError);
  });

  it('gives the worker id the shardline prefix, so that other fleet members do not take it for a foreign KCL worker', () => {
    expect(fleetWorkerId('w1')).toBe('shardline:w1');
    expect(fleetWorkerId('shardline:w1')).toBe('shardline:w1');
    expect(isShardlineWorkerId(fleetWorkerId(undefined))).toBe(true);
    expect(fleetWorkerId(undefined)).not.toBe(fleetWorkerId(undefined));
  });
});
