import { CLEAR_SCREEN, watchLag, type LagReport, type WatchLagOptions } from '../../../src/cli/commands/lag.command';
import { ConfigurationError, SourceError } from '../../../src/core/errors';

/*
 * `shardline lag --watch`: the loop with a fake measurement (the real one runs against kinesalite in
 * test/integration/polling/lag-watch.int.spec.ts).
 */

function report(recordsBehind: number, storedShards = 1): LagReport {
  return {
    app: 'orders-app',
    stream: 'orders',
    store: 'file /tmp/x',
    storedShards,
    shards: [
      {
        shardId: 'shardId-000000000000',
        checkpoint: { sequenceNumber: '4965', subSequenceNumber: 0 },
        status: 'reading',
        recordsBehind,
        recordsBehindIsLowerBound: false,
        millisBehind: 1_500,
      },
    ],
  };
}

interface Run {
  out: string;
  err: string;
  calls: number;
  done: Promise<void>;
  stop: AbortController;
}

/** Runs watchLag with `results` as successive rounds (a function throws) and stops it after `rounds` measurements. */
function run(results: ReadonlyArray<LagReport | (() => never)>, options: Partial<WatchLagOptions> = {}, rounds = results.length): Run {
  const stop = new AbortController();
  const state: Run = { out: '', err: '', calls: 0, done: Promise.resolve(), stop };
  const measure = async (): Promise<LagReport> => {
    const result = results[Math.min(state.calls, results.length - 1)]!;
    state.calls++;
    if (state.calls > rounds) stop.abort();
    await Promise.resolve();
    return typeof result === 'function' ? result() : result;
  };
  state.done = watchLag(measure, {
    intervalMs: 10,
    json: false,
    tty: false,
    signal: stop.signal,
    out: (text) => (state.out += text),
    err: (text) => (state.err += text),
    ...options,
  });
  return state;
}

describe('shardline lag --watch (watchLag)', () => {
  it('piped: prints a timestamp line and the table each round, measuring again each time', async () => {
    const r = run([report(15), report(3)]);
    await r.done;
    const blocks = r.out.split(/^--- /m).filter(Boolean);
    expect(blocks).toHaveLength(2);
    expect(blocks[0]).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\nSHARD\s+STATUS/);
    expect(blocks[0]).toMatch(/shardId-000000000000\s+reading\s+4965\s+15\s/);
    expect(blocks[1]).toMatch(/shardId-000000000000\s+reading\s+4965\s+3\s/);
    expect(r.out).not.toContain('\u001b');
    expect(r.err).toBe('');
  });

  it('on a terminal: clears the screen and redraws the table under a header each round', async () => {
    const r = run([report(15), report(3)], { tty: true, intervalMs: 5_000 }, 1);
    // The second round would come in 5 s: stop while it waits.
    while (r.calls < 1 || !r.out.includes('SHARD')) await new Promise((resolve) => setTimeout(resolve, 5));
    r.stop.abort();
    await r.done;
    expect(r.out.startsWith(CLEAR_SCREEN)).toBe(true);
    expect(r.out.split(CLEAR_SCREEN)).toHaveLength(2);
    expect(r.out.slice(CLEAR_SCREEN.length)).toMatch(/^every 5 s · .+ · orders-app on orders · Ctrl-C to stop\n\nSHARD/);
  });

  it('with --json: one JSON line per round, with its time', async () => {
    const r = run([report(15), report(3)], { json: true, tty: true });
    await r.done;
    const lines = r.out.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    const rounds = lines.map((l) => JSON.parse(l) as { at: string; app: string; shards: Array<{ recordsBehind: number; checkpoint: string }> });
    expect(rounds.map((x) => x.shards[0]?.recordsBehind)).toEqual([15, 3]);
    expect(rounds[0]).toMatchObject({ app: 'orders-app', stream: 'orders', shards: [{ checkpoint: '4965' }] });
    expect(Date.parse(rounds[1]!.at)).toBeGreaterThanOrEqual(Date.parse(rounds[0]!.at));
    expect(r.out).not.toContain(CLEAR_SCREEN);
  });

  it('a failed round is reported with "retrying in …" and the next round goes on', async () => {
    const fail = (): never => {
      throw new SourceError('cannot list the shards of orders: connect ECONNREFUSED');
    };
    const r = run([report(15), fail, report(2)], { intervalMs: 200 });
    await r.done;
    expect(r.err).toMatch(/^shardline: lag round at \S+Z failed: cannot list the shards of orders: connect ECONNREFUSED; retrying in (\d+ ms|1 s)\n$/);
    expect(r.out.match(/^--- /gm)).toHaveLength(2);
    expect(r.out).toMatch(/reading\s+4965\s+2\s/);
  });

  it('a failure in the first round ends the watch with that error (a wrong stream or store)', async () => {
    const r = run([
      () => {
        throw new ConfigurationError('cannot list the shards of nope: Stream nope not found; check --stream');
      },
    ]);
    await expect(r.done).rejects.toThrow(/Stream nope not found/);
    expect(r.out).toBe('');
  });

  it('stops at once when aborted in the middle of a slow round', async () => {
    const stop = new AbortController();
    let out = '';
    const done = watchLag(() => new Promise<LagReport>((_, reject) => setTimeout(() => reject(new Error('late')), 60_000).unref()), {
      intervalMs: 1_000,
      json: false,
      tty: false,
      signal: stop.signal,
      out: (text) => (out += text),
      err: (text) => (out += text),
    });
    setTimeout(() => stop.abort(), 20);
    const started = Date.now();
    await done;
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(out).toBe('');
  });

  it('says once, when piped, that the application has no checkpoints', async () => {
    const r = run([report(15, 0), report(15, 0), report(15, 0)]);
    await r.done;
    expect(r.err).toBe('shardline: no checkpoints for orders-app in file /tmp/x\n');
  });
});
