import { DescribeStreamSummaryCommand, KinesisClient } from '@aws-sdk/client-kinesis';
import { mockClient } from 'aws-sdk-client-mock';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { container } from 'tsyringe';
import { DEFAULT_MAX_BUFFERED_BYTES } from '../../../src/adapters/polling/memory-budget';
import { type PollingRecordSource } from '../../../src/adapters/polling/polling-record-source';
import { pollingCliAdapter } from '../../../src/cli/adapters/polling.cli-adapter';
import { type RunOptions } from '../../../src/cli/cli-adapter';
import { createLogger } from '../../../src/core/logger';
import { type ConsumerDefinition } from '../../../src/decorators/metadata-types';

const kinesis = mockClient(KinesisClient);

/** The parts of a consumer definition the polling adapter reads. */
function definition(name: string, applicationName: string): ConsumerDefinition {
  return { name, options: { applicationName, streamName: 'orders' } } as unknown as ConsumerDefinition;
}

async function budgets(options: Partial<RunOptions>): Promise<Array<PollingRecordSource['memoryBudget']>> {
  kinesis.reset();
  kinesis.on(DescribeStreamSummaryCommand).resolves({ StreamDescriptionSummary: undefined });
  const setup = await pollingCliAdapter.setup([definition('A', 'app-a'), definition('B', 'app-b')], {
    adapter: 'polling',
    endpoint: 'http://127.0.0.1:1',
    checkpoints: `file:${mkdtempSync(join(tmpdir(), 'cli-budget-'))}`,
    shutdownTimeoutMs: 1_000,
    ...options,
  }, { logger: createLogger({ destination: 'none' }), container });
  try {
    return setup.sources.map((source) => (source as PollingRecordSource).memoryBudget);
  } finally {
    await setup.dispose?.();
  }
}

describe('shardline run --adapter polling --max-buffered-bytes (issue 11, defect 10)', () => {
  it('gives every consumer of the process one shared budget of --max-buffered-bytes', async () => {
    const [a, b] = await budgets({ maxBufferedBytes: 123_456 });
    expect(a?.maxBytes).toBe(123_456); // before: the option was parsed and never read
    expect(b).toBe(a);
  });

  it('uses the default budget without the option', async () => {
    const [a, b] = await budgets({});
    expect(a?.maxBytes).toBe(DEFAULT_MAX_BUFFERED_BYTES);
    expect(b).toBe(a);
  });
});
