/** Smallest buffer the pool hands out (and keeps). */
const MIN_CAPACITY_BYTES = 64 * 1024;

/**
 * Reusable buffers for GetRecords response bodies. A body is copied into one buffer as it arrives, decoded to text at
 * once and no longer needed: taking that buffer from a pool instead of allocating one per page (up to 10 MB each,
 * several a second per shard) spares the allocator and V8's external-memory accounting, which otherwise forces
 * garbage collections at high read rates. Buffers are sized in powers of two; at most `maxPooled` are kept, none over
 * `maxPooledBytes`.
 */
export class BodyBufferPool {
  private readonly free: Buffer[] = [];

  constructor(
    private readonly maxPooled = 16,
    private readonly maxPooledBytes = 16 * 1024 * 1024,
  ) {}

  /** A buffer of at least `length` bytes (its content is whatever it held before: write before reading). */
  take(length: number): Buffer {
    for (let i = 0; i < this.free.length; i++) {
      const buffer = this.free[i] as Buffer;
      if (buffer.length >= length) {
        this.free.splice(i, 1);
        return buffer;
      }
    }
    let capacity = MIN_CAPACITY_BYTES;
    while (capacity < length) capacity *= 2;
    return Buffer.allocUnsafeSlow(capacity > this.maxPooledBytes ? length : capacity);
  }

  /** Gives a buffer back once nothing refers to its bytes any more. */
  give(buffer: Buffer): void {
    if (buffer.length > this.maxPooledBytes || buffer.length < MIN_CAPACITY_BYTES) return;
    if (this.free.length >= this.maxPooled) return;
    this.free.push(buffer);
  }

  /** Buffers kept for reuse now. @internal for tests */
  get pooled(): number {
    return this.free.length;
  }
}
