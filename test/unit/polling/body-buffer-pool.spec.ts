import { BodyBufferPool } from '../../../src/adapters/polling/body-buffer-pool';

describe('BodyBufferPool', () => {
  it('hands a given-back buffer out again for a body that fits, and allocates one for a body that does not', () => {
    const pool = new BodyBufferPool(2, 1024 * 1024);
    const first = pool.take(100_000);
    expect(first.length).toBe(131_072); // powers of two from 64 KiB
    pool.give(first);
    expect(pool.pooled).toBe(1);
    expect(pool.take(90_000)).toBe(first); // reused
    expect(pool.pooled).toBe(0);
    const bigger = pool.take(200_000);
    expect(bigger).not.toBe(first);
    expect(bigger.length).toBe(262_144);
  });

  it('keeps at most maxPooled buffers, none over maxPooledBytes, and never hands one buffer to two takers', () => {
    const pool = new BodyBufferPool(2, 1024 * 1024);
    const buffers = [pool.take(10), pool.take(10), pool.take(10)];
    for (const buffer of buffers) pool.give(buffer);
    expect(pool.pooled).toBe(2);
    const a = pool.take(10);
    const b = pool.take(10);
    expect(a).not.toBe(b);
    const huge = pool.take(3 * 1024 * 1024);
    expect(huge.length).toBe(3 * 1024 * 1024); // exactly the body: not rounded up, not kept
    pool.give(huge);
    expect(pool.pooled).toBe(0);
  });
});
