/** Smallest buffer the pool hands out (and keeps). */
const MIN_CAPACITY_BYTES = 64 * 1024;

/**
 * Reusable buffers for GetRecords response bodies. A body is copied into one buffer as it arrives, decoded to text at
 * once and no longer needed: taking that buffer from a pool instead of allocating one per page (several a second per
 * shard) spares the allocator and V8's external-memory accounting, which otherwise forces garbage collections at high
 * read rates. Buffers are sized in powers of two and handed out best fit (the smallest that holds the body); what is
 * kept is bounded in total (`maxPooledBytes`) and per buffer (`maxBufferBytes`: larger bodies, from records of
 * hundreds of KB, get a buffer of their own that is dropped after use), so the pool never holds more than a few MB.
 */
export class BodyBufferPool {
  private readonly free: Buffer[] = [];
  private pooledBytes = 0;

  constructor(
    private readonly maxPooledBytes = 16 * 1024 * 1024,
    private readonly maxBufferBytes = 4 * 1024 * 1024,
  ) {}

  /** A buffer of at least `length` bytes (its content is whatever it held before: write before reading). */
  take(length: number): Buffer {
    let best = -1;
    for (let i = 0; i < this.free.length; i++) {
      const size = (this.free[i] as Buffer).length;
      if (size >= length && (best < 0 || size < (this.free[best] as Buffer).length)) best = i;
    }
    if (best >= 0) {
      const [buffer] = this.free.splice(best, 1) as [Buffer];
      this.pooledBytes -= buffer.length;
      return buffer;
    }
    let capacity = MIN_CAPACITY_BYTES;
    while (capacity < length) capacity *= 2;
    return Buffer.allocUnsafeSlow(capacity > this.maxBufferBytes ? length : capacity);
  }

  /** Gives a buffer back once nothing refers to its bytes any more. */
  give(buffer: Buffer): void {
    if (buffer.length > this.maxBufferBytes || buffer.length < MIN_CAPACITY_BYTES) return;
    if (this.pooledBytes + buffer.length > this.maxPooledBytes) return;
    this.free.push(buffer);
    this.pooledBytes += buffer.length;
  }

  /** Buffers kept for reuse now. @internal for tests */
  get pooled(): number {
    return this.free.length;
  }

  /** Bytes kept for reuse now. @internal for tests */
  get bytes(): number {
    return this.pooledBytes;
  }
}
