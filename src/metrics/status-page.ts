import { createHash } from 'node:crypto';
import { ConfigurationError } from '../core/errors';
import { STATUS_PAGE_SCRIPT } from './status-page-script';

/** How often the status page fetches `status.json` unless told otherwise. */
export const DEFAULT_STATUS_PAGE_REFRESH_MS = 2_000;

/** Options of {@link renderStatusPage}. */
export interface StatusPageOptions {
  /** How often the page fetches `status.json`, in milliseconds (at least 100). Default 2000. */
  readonly refreshMs?: number;
}

const STYLE = `
:root { color-scheme: light dark; --bg: #f6f7f9; --card: #fff; --fg: #1d2330; --muted: #667085; --line: #d9dde5;
  --ok: #137333; --ok-bg: #e6f4ea; --bad: #b3261e; --bad-bg: #fce8e6; --closed: #5f6368; --closed-bg: #eceff1; --chart: #1a73e8; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #111418; --card: #1b2027; --fg: #e6e9ef; --muted: #98a2b3; --line: #2e3542;
    --ok: #81c995; --ok-bg: #1e3526; --bad: #f28b82; --bad-bg: #3c1f1d; --closed: #bdc1c6; --closed-bg: #2a2f36; --chart: #8ab4f8; }
}
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 14px; padding: 12px 16px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { font-size: 18px; margin: 0; }
#ready { font-weight: 600; padding: 2px 10px; border-radius: 999px; background: var(--closed-bg); color: var(--closed); }
#ready[data-status="ok"] { background: var(--ok-bg); color: var(--ok); }
#ready[data-status="error"] { background: var(--bad-bg); color: var(--bad); }
#updated { color: var(--muted); margin-left: auto; font-size: 13px; }
#ready-reasons { margin: 0; padding: 8px 16px 8px 34px; background: var(--bad-bg); color: var(--bad); border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
#banner { margin: 0; padding: 10px 16px; background: #b3261e; color: #fff; font-weight: 600; }
main { padding: 12px 16px 24px; max-width: 1400px; }
body[data-connection="disconnected"] main { opacity: 0.55; }
#empty { color: var(--muted); padding: 24px 16px; }
.app { background: var(--card); border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; margin-bottom: 16px; }
.app h2 { font-size: 16px; margin: 0 0 2px; overflow-wrap: anywhere; }
.source { font-size: 12px; font-weight: 500; margin-left: 8px; padding: 1px 7px; border-radius: 4px; background: var(--closed-bg); color: var(--muted); }
.summary { margin: 0 0 8px; color: var(--muted); }
.muted { color: var(--muted); }
figure { margin: 0 0 10px; }
figcaption { font-size: 12px; color: var(--muted); margin-bottom: 2px; }
.lag-chart { display: block; max-width: 100%; }
.lag-chart text { fill: var(--muted); font-size: 11px; font-family: inherit; }
.lag-chart .grid { stroke: var(--line); stroke-dasharray: 3 3; }
.lag-chart .axis, .lag-chart .tick { stroke: var(--muted); }
.lag-chart .line { fill: none; stroke: var(--chart); stroke-width: 2; stroke-linejoin: round; }
.lag-chart .area { fill: var(--chart); opacity: 0.12; }
.lag-chart .dot { fill: var(--chart); }
.table-box { overflow-x: auto; }
table.shards { border-collapse: collapse; width: 100%; }
.shards th, .shards td { text-align: left; vertical-align: top; padding: 6px 8px; border-top: 1px solid var(--line); }
.shards thead th { border-top: 0; font-size: 12px; color: var(--muted); font-weight: 600; white-space: nowrap; }
.shards .num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
.shards th[scope="row"] { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 500; white-space: nowrap; }
.shards code { font-size: 12px; word-break: break-all; display: inline-block; max-width: 24ch; }
.shards tr[data-state="stopped"] { background: var(--bad-bg); }
.state { font-weight: 600; padding: 1px 8px; border-radius: 999px; background: var(--closed-bg); color: var(--closed); }
.state[data-state="open"] { background: var(--ok-bg); color: var(--ok); }
.state[data-state="stopped"] { background: var(--bad); color: #fff; }
.reason { display: block; font-size: 12px; color: var(--muted); margin-top: 2px; }
td[data-field="lastError"] { min-width: 16ch; max-width: 48ch; overflow-wrap: anywhere; }
.error-message { color: var(--bad); }
@media (max-width: 640px) {
  header, main { padding-left: 10px; padding-right: 10px; }
  .app { padding: 10px; }
  .shards thead { display: none; }
  .shards, .shards tbody, .shards tr, .shards th, .shards td { display: block; width: 100%; }
  .shards tr { border: 1px solid var(--line); border-radius: 6px; margin-bottom: 8px; padding: 4px 0; }
  .shards th, .shards td { border-top: 0; padding: 3px 10px; text-align: left; max-width: none; }
  .shards .num { text-align: left; }
  .shards td::before { content: attr(data-label); display: inline-block; min-width: 10ch; color: var(--muted); font-size: 12px; }
  .shards code { max-width: none; display: inline; }
}
`;

function cspHash(text: string): string {
  return `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;
}

/**
 * The page's Content-Security-Policy (also in its `<meta http-equiv>`; a server may send it as a header too): only
 * the page's own script and style may run (by hash), and it may only talk to its own origin, so even if a string
 * from the snapshot were ever put in as markup, it could not run code or load anything.
 */
export const STATUS_PAGE_CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  `script-src ${cspHash(STATUS_PAGE_SCRIPT)}`,
  `style-src ${cspHash(STYLE)}`,
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

/**
 * The live status page served at `GET /`: one self-contained HTML document (inline CSS and script, no CDN) that fetches
 * `status.json`, relative to its own URL so it works behind a path prefix that ends with `/`, every `refreshMs`, and
 * shows a `StatusSnapshot` (status-snapshot.ts): readiness and its reasons, and per application a lag chart (inline SVG drawn by the
 * page) and a per-shard table. When `status.json` fails it shows a "disconnected, retrying" banner and keeps trying.
 *
 * Stable hooks for tests and scripts: `#ready[data-status="ok"|"error"]`, `#ready-reasons li`, `#banner` (hidden when
 * connected), `body[data-connection="ok"|"disconnected"]`, `body[data-updates]` (successful refreshes),
 * `section.app[data-application][data-stream][data-source]`, `tr[data-shard="shardId-…"][data-state]` with cells
 * `td[data-field="state"|"checkpoint"|"lag"|"recordsPerSecond"|"recordsTotal"|"lastBatchAt"|"lastError"]`
 * (`td[data-field="lag"][data-ms]` holds the raw value), `svg.lag-chart[data-points] polyline` (the first application's
 * chart also has `id="lag-chart"`, the next ones `lag-chart-1`, …), `#empty` (no application yet).
 *
 * @throws ConfigurationError when `refreshMs` is not a whole number of at least 100.
 */
export function renderStatusPage(options: StatusPageOptions = {}): string {
  const refreshMs = options.refreshMs ?? DEFAULT_STATUS_PAGE_REFRESH_MS;
  if (!Number.isSafeInteger(refreshMs) || refreshMs < 100) {
    throw new ConfigurationError(`status page refreshMs must be a whole number of milliseconds, at least 100; got ${String(refreshMs)}`);
  }
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${STATUS_PAGE_CONTENT_SECURITY_POLICY}">
<meta name="referrer" content="no-referrer">
<title>shardline status</title>
<style>${STYLE}</style>
</head>
<body data-refresh-ms="${refreshMs}" data-connection="connecting" data-updates="0">
<header>
<h1>shardline</h1>
<span id="ready" data-status="unknown">connecting\u2026</span>
<span id="updated">waiting for the first status</span>
</header>
<div id="banner" role="alert" hidden></div>
<ul id="ready-reasons" hidden></ul>
<main>
<div id="apps"></div>
<p id="empty" hidden>No consumer is running in this process yet.</p>
</main>
<script>${STATUS_PAGE_SCRIPT}</script>
</body>
</html>
`;
}
