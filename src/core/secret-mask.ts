/**
 * Secrets at least this long are masked wherever they appear, even inside a word. Shorter ones (`'7'`, `'on'`) are
 * masked only as a whole value: bounded by characters that are not letters, digits or `_` (or the ends of the text),
 * so that `'7'` does not turn "17 records" into "1**** records". Eight characters: long enough that a value rarely
 * occurs by chance inside other text, short enough that real tokens and passwords are always masked anywhere.
 */
export const MASK_ANYWHERE_MIN_LENGTH = 8;

/**
 * The resolved secret values of this process, so that logging can mask them wherever they appear. Secrets are
 * resolved once per process, so one registry per process is the right scope.
 */
export class SecretMask {
  private readonly values = new Set<string>();
  private pattern: RegExp | undefined;

  /** Registers a value to mask (see {@link MASK_ANYWHERE_MIN_LENGTH} for how short values are masked). */
  add(value: string): void {
    if (value === '' || this.values.has(value)) return;
    this.values.add(value);
    const escape = (v: string): string => v.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const byLength = [...this.values].sort((a, b) => b.length - a.length);
    const anywhere = byLength.filter((v) => v.length >= MASK_ANYWHERE_MIN_LENGTH).map(escape);
    const whole = byLength.filter((v) => v.length < MASK_ANYWHERE_MIN_LENGTH).map(escape);
    const alternatives = [...anywhere];
    if (whole.length > 0) alternatives.push(`(?<![\\p{L}\\p{N}_])(?:${whole.join('|')})(?![\\p{L}\\p{N}_])`);
    this.pattern = new RegExp(alternatives.join('|'), 'gu');
  }

  /** True when there is nothing to mask. */
  get empty(): boolean {
    return this.values.size === 0;
  }

  /** Replaces every registered secret in `text` with `****`. */
  maskText(text: string): string {
    const pattern = this.pattern;
    return pattern === undefined ? text : text.replace(pattern, '****');
  }

  /** Masks strings anywhere inside a value (objects, arrays, errors), returning a copy when something changed. */
  maskValue(value: unknown, depth = 0): unknown {
    if (this.pattern === undefined || depth > 8) return value;
    if (typeof value === 'string') return this.maskText(value);
    if (value instanceof Error) {
      const copy = new Error(this.maskText(value.message));
      copy.name = value.name;
      if (value.stack !== undefined) copy.stack = this.maskText(value.stack);
      return copy;
    }
    if (Array.isArray(value)) return value.map((v) => this.maskValue(v, depth + 1));
    if (typeof value === 'object' && value !== null && !Buffer.isBuffer(value)) {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(value)) out[k] = this.maskValue(v, depth + 1);
      return out;
    }
    return value;
  }

  /** Forgets every value (for tests). */
  clear(): void {
    this.values.clear();
    this.pattern = undefined;
  }
}

/** The process-wide mask used by every shardline logger. */
export const secretMask = new SecretMask();
