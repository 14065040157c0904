import { type LeaseClock, type LeaseTimer } from '../lease-clock';

interface Entry {
  readonly atMs: number;
  readonly seq: number;
  readonly callback: () => void;
  cancelled: boolean;
}

/** Lets every pending promise continuation run (they are all microtasks; setImmediate runs after them). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * Virtual time for the simulation: timers fire in (time, creation) order, and after each one every promise
 * continuation it caused runs before the next timer fires, so a run depends only on its inputs (and its seed).
 */
export class FakeClock implements LeaseClock {
  private nowMs = 0;
  private seq = 0;
  private readonly heap: Entry[] = [];

  now(): number {
    return this.nowMs;
  }

  setTimer(callback: () => void, delayMs: number): LeaseTimer {
    const entry: Entry = { atMs: this.nowMs + Math.max(0, delayMs), seq: this.seq++, callback, cancelled: false };
    this.push(entry);
    return {
      cancel: () => {
        entry.cancelled = true;
      },
    };
  }

  /** Fires every timer due up to `endMs` (and those they schedule), then sets the time to `endMs`. */
  async runUntil(endMs: number): Promise<void> {
    await flushMicrotasks();
    for (;;) {
      const top = this.heap[0];
      if (top === undefined || top.atMs > endMs) break;
      this.pop();
      if (top.cancelled) continue;
      this.nowMs = top.atMs;
      top.callback();
      await flushMicrotasks();
    }
    this.nowMs = Math.max(this.nowMs, endMs);
  }

  private push(entry: Entry): void {
    const heap = this.heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i] as Entry, heap[parent] as Entry)) break;
      [heap[i], heap[parent]] = [heap[parent] as Entry, heap[i] as Entry];
      i = parent;
    }
  }

  private pop(): void {
    const heap = this.heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    heap[0] = last;
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < heap.length && before(heap[l] as Entry, heap[m] as Entry)) m = l;
      if (r < heap.length && before(heap[r] as Entry, heap[m] as Entry)) m = r;
      if (m === i) break;
      [heap[i], heap[m]] = [heap[m] as Entry, heap[i] as Entry];
      i = m;
    }
  }
}

function before(a: Entry, b: Entry): boolean {
  return a.atMs < b.atMs || (a.atMs === b.atMs && a.seq < b.seq);
}
