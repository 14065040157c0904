import { createHash } from 'node:crypto';
import { ConfigurationError } from '../../../src/core/errors';
import { renderStatusPage, STATUS_PAGE_CONTENT_SECURITY_POLICY } from '../../../src/metrics/status-page';

const between = (html: string, open: string, close: string): string => {
  const start = html.indexOf(open);
  return html.slice(start + open.length, html.indexOf(close, start));
};
const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

describe('renderStatusPage', () => {
  it('is one self-contained document: no external script, style, image or font, and it fetches status.json relative to itself', () => {
    const html = renderStatusPage();
    expect(html.startsWith('<!doctype html>')).toBe(true);
    expect(html).not.toMatch(/<(script|link|img|iframe)[^>]+(src|href)=/i);
    expect(html).not.toMatch(/@import|url\(/);
    // The only absolute URL is the SVG namespace (an identifier, never fetched).
    expect(html.match(/https?:\/\/[^\s'"]+/g)).toEqual(['http://www.w3.org/2000/svg']);
    expect(html).toContain("fetch('status.json'");
    expect(html).toContain('data-refresh-ms="2000"');
  });

  it('allows only its own inline script and style (by hash) and connections to its own origin', () => {
    const html = renderStatusPage({ refreshMs: 750 });
    const csp = between(html, '<meta http-equiv="Content-Security-Policy" content="', '">');
    expect(csp).toBe(STATUS_PAGE_CONTENT_SECURITY_POLICY);
    expect(csp).toContain("default-src 'none'");
    expect(csp).toContain(`script-src ${sha256(between(html, '<script>', '</script>'))}`);
    expect(csp).toContain(`style-src ${sha256(between(html, '<style>', '</style>'))}`);
    expect(csp).toContain("connect-src 'self'");
    expect(html).toContain('data-refresh-ms="750"');
  });

  it('refuses a refresh interval that is not a whole number of at least 100 ms', () => {
    for (const refreshMs of [0, 99, 1.5, Number.NaN, -2000]) {
      expect(() => renderStatusPage({ refreshMs })).toThrow(ConfigurationError);
    }
    expect(() => renderStatusPage({ refreshMs: 99 })).toThrow(/at least 100; got 99/);
  });
});
