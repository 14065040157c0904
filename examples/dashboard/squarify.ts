/** A rectangle in pixels (or any unit). */
export interface Rect {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
}

/** An item to lay out: its size is proportional to `value`. */
export interface TreemapItem<T> {
  readonly value: number;
  readonly data: T;
}

/** An item and the rectangle it got. */
export interface TreemapTile<T> extends Rect {
  readonly value: number;
  readonly data: T;
}

/** The worst aspect ratio of a row of areas laid along a side of length `side` (Bruls, Huizing, van Wijk 2000). */
function worstRatio(areas: readonly number[], side: number): number {
  let sum = 0;
  let max = 0;
  let min = Infinity;
  for (const a of areas) {
    sum += a;
    if (a > max) max = a;
    if (a < min) min = a;
  }
  if (sum === 0 || side === 0) return Infinity;
  const s2 = sum * sum;
  const w2 = side * side;
  return Math.max((w2 * max) / s2, s2 / (w2 * min));
}

/**
 * Squarified treemap layout: rectangles whose areas are proportional to the values and whose aspect ratios stay
 * close to 1, filling `bounds` exactly. Items with a value ≤ 0 get no tile. The result is sorted by value, largest
 * first (ties keep the input order).
 */
export function squarify<T>(items: readonly TreemapItem<T>[], bounds: Rect): TreemapTile<T>[] {
  const positive = items
    .map((item, index) => ({ item, index }))
    .filter(({ item }) => item.value > 0 && Number.isFinite(item.value))
    .sort((a, b) => b.item.value - a.item.value || a.index - b.index)
    .map(({ item }) => item);
  const total = positive.reduce((sum, item) => sum + item.value, 0);
  if (total === 0 || bounds.width <= 0 || bounds.height <= 0) return [];
  const scale = (bounds.width * bounds.height) / total;
  const areas = positive.map((item) => item.value * scale);

  const tiles: TreemapTile<T>[] = [];
  let free: Rect = bounds;
  let start = 0;
  while (start < positive.length) {
    const side = Math.min(free.width, free.height);
    let end = start + 1;
    let row = [areas[start] as number];
    while (end < positive.length) {
      const candidate = [...row, areas[end] as number];
      if (worstRatio(candidate, side) > worstRatio(row, side)) break;
      row = candidate;
      end += 1;
    }
    free = layoutRow(positive.slice(start, end), row, free, tiles, end === positive.length);
    start = end;
  }
  return tiles;
}

/** Lays one row along the shorter side of `free` and returns what is left. The last row fills `free` exactly. */
function layoutRow<T>(items: readonly TreemapItem<T>[], areas: readonly number[], free: Rect, out: TreemapTile<T>[], last: boolean): Rect {
  const rowArea = areas.reduce((a, b) => a + b, 0);
  if (free.width >= free.height) {
    // A column on the left, as tall as the free space.
    const columnWidth = last ? free.width : Math.min(free.width, rowArea / free.height);
    let y = free.y;
    items.forEach((item, i) => {
      const height = i === items.length - 1 ? free.y + free.height - y : (areas[i] as number) / columnWidth;
      out.push({ x: free.x, y, width: columnWidth, height, value: item.value, data: item.data });
      y += height;
    });
    return { x: free.x + columnWidth, y: free.y, width: free.width - columnWidth, height: free.height };
  }
  // A row on top, as wide as the free space.
  const rowHeight = last ? free.height : Math.min(free.height, rowArea / free.width);
  let x = free.x;
  items.forEach((item, i) => {
    const width = i === items.length - 1 ? free.x + free.width - x : (areas[i] as number) / rowHeight;
    out.push({ x, y: free.y, width, height: rowHeight, value: item.value, data: item.data });
    x += width;
  });
  return { x: free.x, y: free.y + rowHeight, width: free.width, height: free.height - rowHeight };
}
