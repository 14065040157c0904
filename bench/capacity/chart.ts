import { VARIANT_LABELS, type SummaryRow, type VariantName } from './measurement';

/** Each reader's colour: its CPU and RSS bars and its lag line (polling blue, fan-out orange). The floor is grey and its line dashed. */
const COLOUR: Record<VariantName, string> = {
  shardline: '#2f6db5',
  'shardline-5s': '#6fa8dc',
  'shardline-efo': '#e67e22',
  'shardline-efo-batch': '#a04000',
  library: '#38a169',
  floor: '#8a8a8a',
};
const ORDER: readonly VariantName[] = ['shardline', 'shardline-5s', 'shardline-efo', 'shardline-efo-batch', 'library', 'floor'];
const WIDTH = 1000;
const HEIGHT = 450;
const PANEL = { top: 95, bottom: 380 };

/** A "nice" axis maximum (1, 2 or 5 × 10^k) at or above `value`. */
function niceMax(value: number): number {
  if (!(value > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 2.5, 5, 10]) if (step * power >= value) return step * power;
  return 10 * power;
}

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

function text(x: number, y: number, content: string, attributes = ''): string {
  return `<text x="${x.toFixed(1)}" y="${y.toFixed(1)}" ${attributes}>${escape(content)}</text>`;
}

/** Ticks 0..max in 5 steps: grid line and label at `labelX` (anchored `anchor`). */
function axisTicks(max: number, left: number, right: number, labelX: number, anchor: 'start' | 'end', format: (v: number) => string, grid: boolean): string[] {
  const out: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const value = (max * i) / 5;
    const y = PANEL.bottom - ((PANEL.bottom - PANEL.top) * i) / 5;
    if (grid) out.push(`<line x1="${left}" x2="${right}" y1="${y.toFixed(1)}" y2="${y.toFixed(1)}" stroke="#e4e4e4"/>`);
    out.push(text(labelX, y + 4, format(value), `font-size="11" text-anchor="${anchor}" fill="#444"`));
  }
  return out;
}

/**
 * The capacity chart, hand-written SVG: left, CPU ms per MB as bars (shardline beside the floor) per shard count,
 * with the lag slope (ms of data per second) as lines on a right-hand axis; right, the peak RSS per shard count with
 * the 300 MB target.
 */
export function capacityChart(rows: readonly SummaryRow[], shardCounts: readonly number[]): string {
  const variants = ORDER.filter((v) => rows.some((r) => r.variant === v));
  const row = (variant: VariantName, shards: number): SummaryRow | undefined => rows.find((r) => r.variant === variant && r.shards === shards);
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="Helvetica, Arial, sans-serif">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#fff"/>`,
    text(20, 28, 'Capacity: every shard at 2 MB/s (2,000 × 1 KiB records/s; polling 5 GetRecords/s, fan-out pushed events)', 'font-size="16" font-weight="bold"'),
  ];

  // Left panel: CPU per MB (bars) and lag slope (lines).
  const left = { x0: 80, x1: 540 };
  const cpuMax = niceMax(Math.max(...rows.map((r) => r.cpuSecondsPerMb * 1000)) * 1.1);
  // 1000 ms/s = the reader falls behind by as much data as arrives (it reads nothing); slopes are drawn within [0, 1000].
  const lagMax = 1000;
  out.push(...axisTicks(cpuMax, left.x0, left.x1, left.x0 - 8, 'end', (v) => v.toFixed(cpuMax < 5 ? 1 : 0), true));
  out.push(...axisTicks(lagMax, left.x0, left.x1, left.x1 + 8, 'start', (v) => v.toFixed(0), false));
  out.push(text(22, (PANEL.top + PANEL.bottom) / 2, 'CPU ms per MB read (bars)', `font-size="12" text-anchor="middle" transform="rotate(-90 22 ${(PANEL.top + PANEL.bottom) / 2})"`));
  const rightLabelX = left.x1 + 48;
  out.push(
    text(rightLabelX, (PANEL.top + PANEL.bottom) / 2, 'lag slope, ms of data per s (lines, circles; 0 = keeps up)', `font-size="12" text-anchor="middle" transform="rotate(90 ${rightLabelX} ${(PANEL.top + PANEL.bottom) / 2})"`),
  );
  const slot = (left.x1 - left.x0) / shardCounts.length;
  const barWidth = Math.min(40, (slot * 0.7) / variants.length);
  const lagPoints: Record<VariantName, string[]> = { shardline: [], 'shardline-5s': [], 'shardline-efo': [], 'shardline-efo-batch': [], library: [], floor: [] };
  shardCounts.forEach((shards, i) => {
    const centre = left.x0 + slot * (i + 0.5);
    variants.forEach((variant, j) => {
      const r = row(variant, shards);
      if (r === undefined) return;
      const x = centre - (barWidth * variants.length) / 2 + j * barWidth;
      const height = ((r.cpuSecondsPerMb * 1000) / cpuMax) * (PANEL.bottom - PANEL.top);
      out.push(`<rect x="${x.toFixed(1)}" y="${(PANEL.bottom - height).toFixed(1)}" width="${(barWidth - 3).toFixed(1)}" height="${height.toFixed(1)}" fill="${COLOUR[variant]}"/>`);
      out.push(text(x + (barWidth - 3) / 2, PANEL.bottom - height - 4, (r.cpuSecondsPerMb * 1000).toFixed(1), 'font-size="10" text-anchor="middle" fill="#333"'));
      const lagY = PANEL.bottom - (Math.min(lagMax, Math.max(0, r.lagSlopeMsPerSecond)) / lagMax) * (PANEL.bottom - PANEL.top);
      lagPoints[variant].push(`${centre.toFixed(1)},${lagY.toFixed(1)}`);
    });
    out.push(text(centre, PANEL.bottom + 18, String(shards), 'font-size="12" text-anchor="middle"'));
  });
  for (const variant of variants) {
    const dash = variant === 'floor' ? ' stroke-dasharray="6 4"' : '';
    out.push(`<polyline points="${lagPoints[variant].join(' ')}" fill="none" stroke="${COLOUR[variant]}" stroke-width="2.5"${dash}/>`);
    for (const point of lagPoints[variant]) {
      const [x, y] = point.split(',');
      out.push(`<circle cx="${x}" cy="${y}" r="4.5" fill="#fff" stroke="${COLOUR[variant]}" stroke-width="2.5"/>`);
    }
  }
  out.push(`<line x1="${left.x0}" x2="${left.x1}" y1="${PANEL.bottom}" y2="${PANEL.bottom}" stroke="#333"/>`);
  out.push(text((left.x0 + left.x1) / 2, PANEL.bottom + 40, 'shards read by one process', 'font-size="12" text-anchor="middle"'));

  // Right panel: peak RSS.
  const rss = { x0: 720, x1: 980 };
  const rssMax = niceMax(Math.max(300, ...rows.map((r) => r.maxRssMb).filter((v) => !Number.isNaN(v))) * 1.1);
  out.push(...axisTicks(rssMax, rss.x0, rss.x1, rss.x0 - 8, 'end', (v) => v.toFixed(0), true));
  out.push(text(rss.x0 - 45, (PANEL.top + PANEL.bottom) / 2, 'peak RSS (MB)', `font-size="12" text-anchor="middle" transform="rotate(-90 ${rss.x0 - 45} ${(PANEL.top + PANEL.bottom) / 2})"`));
  const rssSlot = (rss.x1 - rss.x0) / shardCounts.length;
  const rssBar = Math.min(24, (rssSlot * 0.8) / variants.length);
  shardCounts.forEach((shards, i) => {
    const centre = rss.x0 + rssSlot * (i + 0.5);
    variants.forEach((variant, j) => {
      const r = row(variant, shards);
      if (r === undefined || Number.isNaN(r.maxRssMb)) return;
      const x = centre - (rssBar * variants.length) / 2 + j * rssBar;
      const height = (r.maxRssMb / rssMax) * (PANEL.bottom - PANEL.top);
      out.push(`<rect x="${x.toFixed(1)}" y="${(PANEL.bottom - height).toFixed(1)}" width="${(rssBar - 2).toFixed(1)}" height="${height.toFixed(1)}" fill="${COLOUR[variant]}"/>`);
    });
    out.push(text(centre, PANEL.bottom + 18, String(shards), 'font-size="12" text-anchor="middle"'));
  });
  const targetY = PANEL.bottom - (300 / rssMax) * (PANEL.bottom - PANEL.top);
  out.push(`<line x1="${rss.x0}" x2="${rss.x1}" y1="${targetY.toFixed(1)}" y2="${targetY.toFixed(1)}" stroke="#c0392b" stroke-dasharray="5 3"/>`);
  out.push(text(rss.x1, targetY - 5, 'target at 128 shards: 300 MB', 'font-size="10" text-anchor="end" fill="#c0392b"'));
  out.push(`<line x1="${rss.x0}" x2="${rss.x1}" y1="${PANEL.bottom}" y2="${PANEL.bottom}" stroke="#333"/>`);
  out.push(text((rss.x0 + rss.x1) / 2, PANEL.bottom + 40, 'shards', 'font-size="12" text-anchor="middle"'));

  // Legend: one entry per reader (its bars, and its lag line with circles).
  variants.forEach((variant, i) => {
    const lx = 20 + (i % 2) * 490;
    const ly = 52 + Math.floor(i / 2) * 18;
    const dash = variant === 'floor' ? ' stroke-dasharray="6 4"' : '';
    out.push(`<rect x="${lx}" y="${ly - 10}" width="12" height="12" fill="${COLOUR[variant]}"/>`);
    out.push(`<line x1="${lx + 16}" x2="${lx + 40}" y1="${ly - 4}" y2="${ly - 4}" stroke="${COLOUR[variant]}" stroke-width="2.5"${dash}/>`);
    out.push(text(lx + 46, ly, VARIANT_LABELS[variant], 'font-size="12"'));
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
