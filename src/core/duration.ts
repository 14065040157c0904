import { ShardlineError } from './errors';

/** A duration written as `'500ms' | '10s' | '1m' | '2h'`, or a number of milliseconds. */
export type Duration = number | `${number}${'ms' | 's' | 'm' | 'h'}`;

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };
const PATTERN = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)\s*$/;

/**
 * Parses a {@link Duration} into whole milliseconds.
 * @throws ShardlineError when the value is not a positive duration; the message shows the accepted forms.
 */
export function parseDuration(value: unknown): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value > 0) return Math.round(value);
    throw new ShardlineError(`invalid duration ${String(value)}: a number of milliseconds must be finite and greater than 0`);
  }
  if (typeof value === 'string') {
    const match = PATTERN.exec(value);
    if (match?.[1] !== undefined && match[2] !== undefined) {
      const ms = Math.round(Number(match[1]) * (UNIT_MS[match[2]] ?? Number.NaN));
      if (ms > 0) return ms;
    }
  }
  throw new ShardlineError(
    `invalid duration ${JSON.stringify(value)}: use a positive number of milliseconds or a string such as '500ms', '10s', '1m' or '2h'`,
  );
}
