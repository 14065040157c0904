import { squarify, type Rect, type TreemapTile } from '../../../examples/dashboard/squarify';

const area = (r: Rect): number => r.width * r.height;
const overlaps = (a: Rect, b: Rect): boolean =>
  a.x < b.x + b.width - 1e-6 && b.x < a.x + a.width - 1e-6 && a.y < b.y + b.height - 1e-6 && b.y < a.y + a.height - 1e-6;

function checkPartition(tiles: readonly TreemapTile<unknown>[], bounds: Rect, values: readonly number[]): void {
  const total = values.reduce((a, b) => a + b, 0);
  expect(tiles).toHaveLength(values.filter((v) => v > 0).length);
  for (const t of tiles) {
    expect(t.x).toBeGreaterThanOrEqual(bounds.x - 1e-6);
    expect(t.y).toBeGreaterThanOrEqual(bounds.y - 1e-6);
    expect(t.x + t.width).toBeLessThanOrEqual(bounds.x + bounds.width + 1e-6);
    expect(t.y + t.height).toBeLessThanOrEqual(bounds.y + bounds.height + 1e-6);
    expect(area(t)).toBeCloseTo((t.value / total) * area(bounds), 3);
  }
  for (let i = 0; i < tiles.length; i++) for (let j = i + 1; j < tiles.length; j++) expect(overlaps(tiles[i]!, tiles[j]!)).toBe(false);
  expect(tiles.reduce((s, t) => s + area(t), 0)).toBeCloseTo(area(bounds), 3);
}

describe('squarify', () => {
  it('lays out the example of Bruls et al. (6,6,4,3,2,2,1 in a 6x4 rectangle) as in the paper', () => {
    const values = [6, 6, 4, 3, 2, 2, 1];
    const bounds = { x: 0, y: 0, width: 6, height: 4 };
    const tiles = squarify(values.map((value, i) => ({ value, data: i })), bounds);
    checkPartition(tiles, bounds, values);
    // The paper's result: the two 6s form the first column (width 3), 4 and 3 the next row on top of the rest.
    expect(tiles[0]).toMatchObject({ x: 0, y: 0, width: 3, height: 2 });
    expect(tiles[1]).toMatchObject({ x: 0, y: 2, width: 3, height: 2 });
    expect(tiles[2]!.y).toBe(0);
    expect(tiles[3]!.y).toBe(0);
    expect(tiles[2]!.height).toBeCloseTo(7 / 3, 6);
    const worst = Math.max(...tiles.map((t) => Math.max(t.width / t.height, t.height / t.width)));
    expect(worst).toBeLessThan(3);
  });

  it('partitions any rectangle exactly, for many random inputs', () => {
    let seed = 7;
    const random = (): number => {
      seed = (seed * 48271) % 2147483647;
      return seed / 2147483647;
    };
    for (let run = 0; run < 50; run++) {
      const values = Array.from({ length: 1 + Math.floor(random() * 40) }, () => Math.floor(random() * 1000));
      const bounds = { x: 10, y: 20, width: 50 + random() * 1200, height: 50 + random() * 900 };
      checkPartition(squarify(values.map((value) => ({ value, data: value })), bounds), bounds, values);
    }
  });

  it('keeps tiles near-square for a skewed distribution on a phone-shaped screen', () => {
    const values = [5000, 3000, 1200, 800, 500, 300, 120, 90, 60, 30, 10, 5];
    const bounds = { x: 0, y: 0, width: 390, height: 700 };
    const tiles = squarify(values.map((value) => ({ value, data: value })), bounds);
    checkPartition(tiles, bounds, values);
    const ratios = tiles.slice(0, 6).map((t) => Math.max(t.width / t.height, t.height / t.width));
    expect(Math.max(...ratios)).toBeLessThan(3);
  });

  it('returns largest first, skips zero and negative values, and handles empty input and an empty box', () => {
    const tiles = squarify(
      [
        { value: 1, data: 'a' },
        { value: 0, data: 'zero' },
        { value: 5, data: 'b' },
        { value: -3, data: 'neg' },
      ],
      { x: 0, y: 0, width: 100, height: 100 },
    );
    expect(tiles.map((t) => t.data)).toEqual(['b', 'a']);
    expect(squarify([], { x: 0, y: 0, width: 10, height: 10 })).toEqual([]);
    expect(squarify([{ value: 3, data: 1 }], { x: 0, y: 0, width: 0, height: 10 })).toEqual([]);
    expect(squarify([{ value: 3, data: 1 }], { x: 5, y: 6, width: 7, height: 8 })).toEqual([{ x: 5, y: 6, width: 7, height: 8, value: 3, data: 1 }]);
  });
});
