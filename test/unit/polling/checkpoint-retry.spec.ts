import { ConditionalCheckFailedException, ProvisionedThroughputExceededException } from '@aws-sdk/client-dynamodb';
import { classifyCheckpointError, writeWithRetry } from '../../../src/adapters/polling/checkpoint-retry';
import { CheckpointError, LeaseLostError } from '../../../src/core/errors';

const throttle = (): CheckpointError =>
  new CheckpointError('checkpoint failed', { cause: new ProvisionedThroughputExceededException({ message: 'throttled', $metadata: {} }) });
const options = (delays: number[]) => ({ attempts: 4, baseMs: 10, capMs: 40, random: () => 1, sleep: (ms: number) => (delays.push(ms), Promise.resolve()), stopped: () => false });

describe('checkpoint write retries', () => {
  it('classifies throttles and network errors as retryable, a failed condition as a lost lease, the rest as fatal', () => {
    expect(classifyCheckpointError(throttle())).toBe('retryable');
    expect(classifyCheckpointError(new CheckpointError('x', { cause: Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' }) }))).toBe('retryable');
    expect(classifyCheckpointError(new CheckpointError('x', { cause: Object.assign(new Error('5xx'), { $metadata: { httpStatusCode: 503 } }) }))).toBe('retryable');
    expect(classifyCheckpointError(new LeaseLostError('taken'))).toBe('lease-lost');
    expect(classifyCheckpointError(new CheckpointError('x', { cause: new ConditionalCheckFailedException({ message: 'cond', $metadata: {} }) }))).toBe('lease-lost');
    expect(classifyCheckpointError(new CheckpointError('x', { cause: Object.assign(new Error('denied'), { name: 'AccessDeniedException' }) }))).toBe('fatal');
  });

  it('retries with capped exponential backoff until the write works', async () => {
    const delays: number[] = [];
    let calls = 0;
    await writeWithRetry(async () => {
      calls++;
      if (calls < 4) throw throttle();
    }, 'shard-0', options(delays));
    expect(calls).toBe(4);
    expect(delays).toEqual([10, 20, 40]);
  });

  it('gives up after the bound, and never retries a lost lease', async () => {
    let calls = 0;
    await expect(writeWithRetry(() => (calls++, Promise.reject(throttle())), 's', options([]))).rejects.toBeInstanceOf(CheckpointError);
    expect(calls).toBe(4);
    calls = 0;
    const lost = new CheckpointError('x', { cause: new ConditionalCheckFailedException({ message: 'cond', $metadata: {} }) });
    await expect(writeWithRetry(() => (calls++, Promise.reject(lost)), 's', options([]))).rejects.toBeInstanceOf(LeaseLostError);
    expect(calls).toBe(1);
  });
});
