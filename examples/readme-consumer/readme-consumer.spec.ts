import { createTestApp } from 'shardline/testing';
import { BigOrderAlerts, NOTIFIER } from './readme-consumer';

describe('BigOrderAlerts', () => {
  it('notifies big orders through the injected Notifier', async () => {
    const notifier = { notify: jest.fn().mockResolvedValue(undefined) };
    const t = await createTestApp(BigOrderAlerts, { providers: [{ provide: NOTIFIER, useValue: notifier }] });

    await t.push('shardId-000000000000', [{ id: 'a', amount: 5 }, { id: 'b', amount: 2500 }]);

    expect(notifier.notify).toHaveBeenCalledTimes(1);
    expect(notifier.notify).toHaveBeenCalledWith('Big order b: 2500');
    expect(t.checkpoints('shardId-000000000000')).toHaveLength(1);
    await t.stop();
  });

  it('does not checkpoint a batch whose notification failed', async () => {
    const notifier = { notify: jest.fn().mockRejectedValue(new Error('webhook down')) };
    const t = await createTestApp(BigOrderAlerts, { providers: [{ provide: NOTIFIER, useValue: notifier }] });
    jest.useFakeTimers();
    const outcome = t.push('shardId-000000000000', [{ id: 'c', amount: 9000 }]);
    await jest.advanceTimersByTimeAsync(5_000); // the default policy retries 3 times with backoff
    expect((await outcome).status).toBe('failed');
    jest.useRealTimers();
    expect(notifier.notify).toHaveBeenCalledTimes(4);
    expect(t.checkpoints('shardId-000000000000')).toEqual([]);
    await t.stop();
  });
});
