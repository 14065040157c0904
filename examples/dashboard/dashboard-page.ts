/**
 * The dashboard's single page: a live treemap of flight destinations. Plain HTML, CSS and browser JavaScript with
 * no dependencies (the page must work with no internet access): the layout is computed by the server for the size
 * the browser reports, and the page refreshes it every `refreshMs`.
 */
export function dashboardPage(options: { readonly refreshMs: number; readonly title: string }): string {
  const title = escapeHtml(options.title);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="dark light">
<title>${title}</title>
<style>
  :root { --bg: #0f172a; --fg: #e2e8f0; --muted: #94a3b8; --gap: 2px; }
  * { box-sizing: border-box; }
  html, body { margin: 0; height: 100%; background: var(--bg); color: var(--fg);
    font: 15px/1.3 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
  body { display: flex; flex-direction: column; }
  header { display: flex; flex-wrap: wrap; align-items: baseline; gap: .25rem 1.25rem; padding: .6rem .9rem; }
  h1 { font-size: 1.15rem; margin: 0; font-weight: 650; }
  .stat { color: var(--muted); font-variant-numeric: tabular-nums; }
  .stat b { color: var(--fg); font-weight: 600; }
  #status::before { content: "●"; margin-right: .3rem; color: #22c55e; }
  #status.stale::before { color: #f59e0b; }
  main { position: relative; flex: 1; min-height: 240px; margin: 0 .5rem .5rem; }
  #treemap { position: absolute; inset: 0; overflow: hidden; }
  .tile { position: absolute; overflow: hidden; border-radius: 3px; padding: .35rem .45rem;
    transition: left .6s ease, top .6s ease, width .6s ease, height .6s ease, background-color .6s;
    color: #0b1020; box-shadow: inset 0 0 0 var(--gap) var(--bg); }
  .tile .code { font-weight: 750; font-size: 1.2rem; letter-spacing: .02em; line-height: 1.1; }
  .tile .name { font-size: .8rem; opacity: .85; overflow: hidden; text-overflow: ellipsis; }
  .tile .count { font-variant-numeric: tabular-nums; font-size: .85rem; font-weight: 600; }
  .tile.small .name, .tile.tiny .count { display: none; }
  .tile.tiny { padding: .1rem .2rem; }
  .tile.tiny .code { font-size: .65rem; }
  #empty[hidden] { display: none; }
  #empty { position: absolute; inset: 0; display: grid; place-items: center; color: var(--muted); text-align: center; padding: 1rem; }
  @media (max-width: 600px) { header { padding: .5rem .6rem; font-size: 13px; } main { margin: 0 .25rem .25rem; } }
</style>
</head>
<body>
<header>
  <h1>${title}</h1>
  <span class="stat"><b id="total">0</b> flights</span>
  <span class="stat"><b id="destinations">0</b> destinations</span>
  <span class="stat"><b id="invalid">0</b> invalid records</span>
  <span class="stat" id="status">connecting…</span>
</header>
<main>
  <div id="treemap" role="img" aria-label="Treemap of flights per destination"></div>
  <div id="empty" hidden>No flights counted yet: start the producer and the consumer.</div>
</main>
<script>
(function () {
  "use strict";
  var REFRESH_MS = ${String(options.refreshMs)};
  var box = document.getElementById("treemap");
  var empty = document.getElementById("empty");
  var status = document.getElementById("status");
  var tiles = {};
  var timer = null;
  var numberFormat = new Intl.NumberFormat();

  // A stable light colour per airport (dark text stays readable on every tile).
  function colour(code) {
    var hash = 0;
    for (var i = 0; i < code.length; i++) hash = (hash * 31 + code.charCodeAt(i)) % 360;
    return "hsl(" + hash + " 65% 72%)";
  }

  function render(data) {
    var seen = {};
    data.tiles.forEach(function (t) {
      seen[t.dest] = true;
      var el = tiles[t.dest];
      if (!el) {
        el = document.createElement("div");
        el.className = "tile";
        el.innerHTML = '<div class="code"></div><div class="name"></div><div class="count"></div>';
        el.dataset.dest = t.dest;
        box.appendChild(el);
        tiles[t.dest] = el;
      }
      el.style.left = t.x + "px";
      el.style.top = t.y + "px";
      el.style.width = t.width + "px";
      el.style.height = t.height + "px";
      el.style.backgroundColor = colour(t.dest);
      el.dataset.count = String(t.count);
      el.title = t.dest + " " + t.name + ": " + numberFormat.format(t.count) + " flights";
      el.classList.toggle("small", t.width < 90 || t.height < 56);
      el.classList.toggle("tiny", t.width < 44 || t.height < 30);
      var size = Math.max(11, Math.min(56, Math.sqrt(t.width * t.height) / 7));
      el.children[0].style.fontSize = size + "px";
      el.children[2].style.fontSize = Math.max(11, Math.min(28, size / 2)) + "px";
      el.children[0].textContent = t.dest;
      el.children[1].textContent = t.name;
      el.children[2].textContent = numberFormat.format(t.count);
    });
    Object.keys(tiles).forEach(function (dest) {
      if (!seen[dest]) { box.removeChild(tiles[dest]); delete tiles[dest]; }
    });
    empty.hidden = data.tiles.length > 0;
    document.getElementById("total").textContent = numberFormat.format(data.total);
    document.getElementById("destinations").textContent = numberFormat.format(data.tiles.length);
    document.getElementById("invalid").textContent = numberFormat.format(data.invalid);
    status.textContent = "updated " + new Date(data.updatedAt).toLocaleTimeString();
    status.className = "stat";
    document.body.dataset.updates = String(Number(document.body.dataset.updates || "0") + 1);
  }

  function refresh() {
    var width = Math.floor(box.clientWidth), height = Math.floor(box.clientHeight);
    fetch("api/treemap?width=" + width + "&height=" + height, { cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(render)
      .catch(function (error) {
        status.textContent = "cannot reach the counters (" + error.message + "), retrying";
        status.className = "stat stale";
      })
      .then(function () { clearTimeout(timer); timer = setTimeout(refresh, REFRESH_MS); });
  }

  var resizeTimer = null;
  window.addEventListener("resize", function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () { clearTimeout(timer); refresh(); }, 150);
  });
  refresh();
})();
</script>
</body>
</html>
`;
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
