import { BodyBufferPool } from '../../../src/adapters/polling/body-buffer-pool';

const KiB = 1024;
const MiB = 1024 * KiB;

describe('BodyBufferPool', () => {
  it('hands a given-back buffer out again for a body that fits, and allocates one for a body that does not', () => {
    const pool = new BodyBufferPool();
    const first = pool.take(100_000);
    expect(first.length).toBe(128 * KiB); // powers of two from 64 KiB
    pool.give(first);
    expect(pool.pooled).toBe(1);
    expect(pool.take(90_000)).toBe(first); // reused
    expect(pool.pooled).toBe(0);
    const bigger = pool.take(200_000);
    expect(bigger).not.toBe(first);
    expect(bigger.length).toBe(256 * KiB);
  });

  it('hands out the smallest buffer that holds the body, so a small body does not take a large buffer', () => {
    const pool = new BodyBufferPool();
    const large = pool.take(3 * MiB);
    const small = pool.take(100 * KiB);
    pool.give(large);
    pool.give(small);
    expect(pool.take(90 * KiB)).toBe(small);
    expect(pool.take(2 * MiB)).toBe(large);
  });

  it('keeps at most maxPooledBytes in total and no buffer over maxBufferBytes, and never hands one buffer to two takers', () => {
    const pool = new BodyBufferPool(1 * MiB, 512 * KiB);
    const buffers = [pool.take(400 * KiB), pool.take(400 * KiB), pool.take(400 * KiB)]; // 512 KiB each
    for (const buffer of buffers) pool.give(buffer);
    expect({ pooled: pool.pooled, bytes: pool.bytes }).toEqual({ pooled: 2, bytes: 1 * MiB });
    const a = pool.take(10);
    const b = pool.take(10);
    expect(a).not.toBe(b);
    const huge = pool.take(3 * MiB);
    expect(huge.length).toBe(3 * MiB); // exactly the body: not rounded up, not kept
    pool.give(huge);
    expect(pool.pooled).toBe(0);
  });
});
