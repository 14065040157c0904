import { KclLineSplitter } from '../../../src/adapters/kcl/kcl-line-splitter';

describe('KclLineSplitter', () => {
  it('returns complete lines and keeps the rest', () => {
    const s = new KclLineSplitter();
    expect(s.push('a\nb')).toEqual(['a']);
    expect(s.push('c\n\nd\n')).toEqual(['bc', '', 'd']);
    expect(s.end()).toBeUndefined();
  });

  it('strips a trailing carriage return', () => {
    const s = new KclLineSplitter();
    expect(s.push(Buffer.from('{"a":1}\r\n{"b":2}\r'))).toEqual(['{"a":1}']);
    expect(s.push('\n')).toEqual(['{"b":2}']);
  });

  it('joins a multi-byte character split across chunks', () => {
    const bytes = Buffer.from('{"pk":"é€😀"}\n');
    const s = new KclLineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i++) lines.push(...s.push(bytes.subarray(i, i + 1)));
    expect(lines).toEqual(['{"pk":"é€😀"}']);
  });

  it('handles a 10 MiB line fed in 64 KiB chunks', () => {
    const big = `{"data":"${'QUJD'.repeat((10 * 1024 * 1024) / 4)}"}`;
    const bytes = Buffer.from(`${big}\nnext\n`);
    const s = new KclLineSplitter();
    const lines: string[] = [];
    for (let i = 0; i < bytes.length; i += 65_536) lines.push(...s.push(bytes.subarray(i, i + 65_536)));
    expect(lines).toHaveLength(2);
    expect(lines[0]).toBe(big);
    expect(lines[1]).toBe('next');
    expect(s.pendingLength).toBe(0);
  });

  it('returns an unterminated last line at the end', () => {
    const s = new KclLineSplitter();
    s.push('x\ny');
    expect(s.end()).toBe('y');
  });
});
