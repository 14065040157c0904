/**
 * The browser code of the status page (see {@link renderStatusPage}): plain ES2020 run by the page itself, kept as a
 * string so the page is one self-contained document. It fetches `status.json` (relative to the page) every
 * `data-refresh-ms` milliseconds and rebuilds the view from it.
 *
 * Every string from the snapshot reaches the page through `textContent` or `setAttribute`, never through markup, so
 * a `<` in an error message stays text. The script is written without template literals so it can live in this one.
 */
export const STATUS_PAGE_SCRIPT = `
(function () {
  'use strict';
  var REFRESH_MS = Number(document.body.getAttribute('data-refresh-ms')) || 2000;
  var SVG_NS = 'http://www.w3.org/2000/svg';
  var updates = 0;
  var lastSnapshot = null;
  var clockOffsetMs = 0;
  var lastSuccessAt = 0;

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function svgEl(tag, attrs, text) {
    var node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }
  function setAttrs(node, attrs) {
    if (!attrs) return;
    Object.keys(attrs).forEach(function (key) {
      var value = attrs[key];
      if (value !== undefined && value !== null && value !== false) node.setAttribute(key, String(value));
    });
  }
  function isNumber(x) {
    return typeof x === 'number' && isFinite(x);
  }
  function short(x) {
    return x < 10 ? x.toFixed(1).replace(/\\.0$/, '') : String(Math.round(x));
  }
  /** 850 ms, 3.2 s, 14 s, 2.5 min, 1.2 h */
  function formatLag(ms) {
    if (!isNumber(ms)) return '\\u2013';
    if (ms < 1000) return Math.round(ms) + ' ms';
    if (ms < 60000) return short(ms / 1000) + ' s';
    if (ms < 3600000) return short(ms / 60000) + ' min';
    return short(ms / 3600000) + ' h';
  }
  function formatAgo(ms) {
    if (!isNumber(ms)) return '';
    if (ms < 1000) return 'just now';
    var s = Math.round(ms / 1000);
    if (s < 60) return s + ' s ago';
    var m = Math.floor(s / 60);
    if (m < 60) return m + ' min ago';
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' h ago';
    return Math.floor(h / 24) + ' d ago';
  }
  function formatRate(r) {
    if (!isNumber(r)) return '\\u2013';
    if (r === 0) return '0';
    return r < 10 ? r.toFixed(1) : Math.round(r).toLocaleString('en-US');
  }
  function formatCount(n) {
    return isNumber(n) ? n.toLocaleString('en-US') : '\\u2013';
  }
  /** The server's clock now, so relative times do not depend on the browser's clock. */
  function serverNow() {
    return Date.now() - clockOffsetMs;
  }
  function ago(iso) {
    var t = Date.parse(iso);
    return isNaN(t) ? '' : formatAgo(Math.max(0, serverNow() - t));
  }

  function renderReady(ready) {
    var badge = document.getElementById('ready');
    var reasons = document.getElementById('ready-reasons');
    var ok = ready && ready.status === 'ok';
    badge.setAttribute('data-status', ok ? 'ok' : 'error');
    badge.textContent = ok ? 'ready' : 'not ready';
    var items = [];
    if (!ok && ready && Array.isArray(ready.reasons)) {
      ready.reasons.forEach(function (reason) {
        items.push(el('li', null, reason));
      });
    }
    reasons.replaceChildren.apply(reasons, items);
    reasons.hidden = items.length === 0;
    document.title = (ok ? 'ready' : 'NOT READY') + ' \\u00b7 shardline status';
  }

  function stateCell(shard) {
    var td = el('td', { 'data-field': 'state', 'data-label': 'state' });
    td.appendChild(el('span', { class: 'state', 'data-state': shard.state }, shard.state));
    if (shard.closedReason) td.appendChild(el('span', { class: 'reason' }, shard.closedReason));
    return td;
  }
  function errorCell(shard) {
    var td = el('td', { 'data-field': 'lastError', 'data-label': 'last error' });
    if (shard.lastError) {
      td.appendChild(el('div', { class: 'error-message' }, shard.lastError.message));
      td.appendChild(el('div', { class: 'muted', title: shard.lastError.at }, ago(shard.lastError.at)));
    } else {
      td.appendChild(el('span', { class: 'muted' }, 'none'));
    }
    return td;
  }
  function shardRow(shard) {
    var tr = el('tr', { 'data-shard': shard.shardId, 'data-state': shard.state });
    tr.appendChild(el('th', { scope: 'row', 'data-field': 'shardId', 'data-label': 'shard' }, shard.shardId));
    tr.appendChild(stateCell(shard));
    var checkpoint = el('td', { 'data-field': 'checkpoint', 'data-label': 'checkpoint' });
    checkpoint.appendChild(shard.checkpoint ? el('code', null, shard.checkpoint) : el('span', { class: 'muted' }, 'none'));
    tr.appendChild(checkpoint);
    tr.appendChild(el('td', { 'data-field': 'lag', 'data-label': 'lag', 'data-ms': shard.millisBehindLatest, class: 'num' }, formatLag(shard.millisBehindLatest)));
    tr.appendChild(el('td', { 'data-field': 'recordsPerSecond', 'data-label': 'records/s', class: 'num' }, formatRate(shard.recordsPerSecond)));
    tr.appendChild(el('td', { 'data-field': 'recordsTotal', 'data-label': 'records', class: 'num' }, formatCount(shard.recordsTotal)));
    tr.appendChild(el('td', { 'data-field': 'lastBatchAt', 'data-label': 'last batch', title: shard.lastBatchAt }, shard.lastBatchAt ? ago(shard.lastBatchAt) : 'never'));
    tr.appendChild(errorCell(shard));
    return tr;
  }
  function shardTable(shards) {
    var table = el('table', { class: 'shards' });
    var head = el('tr');
    ['shard', 'state', 'checkpoint', 'lag', 'records/s', 'records', 'last batch', 'last error'].forEach(function (title, i) {
      head.appendChild(el('th', { scope: 'col', class: i >= 3 && i <= 5 ? 'num' : null }, title));
    });
    table.appendChild(el('thead')).appendChild(head);
    var body = table.appendChild(el('tbody'));
    shards.forEach(function (shard) {
      body.appendChild(shardRow(shard));
    });
    if (shards.length === 0) body.appendChild(el('tr')).appendChild(el('td', { colspan: 8, class: 'muted' }, 'no shards yet'));
    return table;
  }
  function summary(app) {
    var counts = { open: 0, closed: 0, stopped: 0 };
    var maxLag = null;
    app.shards.forEach(function (s) {
      counts[s.state] = (counts[s.state] || 0) + 1;
      if (s.state === 'open' && isNumber(s.millisBehindLatest)) maxLag = Math.max(maxLag === null ? 0 : maxLag, s.millisBehindLatest);
    });
    var parts = [app.shards.length + (app.shards.length === 1 ? ' shard' : ' shards')];
    ['open', 'closed', 'stopped'].forEach(function (state) {
      if (counts[state] > 0) parts.push(counts[state] + ' ' + state);
    });
    parts.push('max lag ' + (maxLag === null ? '\\u2013' : formatLag(maxLag)));
    return parts.join(' \\u00b7 ');
  }
  function appSection(app, index) {
    var section = el('section', { class: 'app', 'data-application': app.application, 'data-stream': app.stream, 'data-source': app.source });
    var h2 = section.appendChild(el('h2'));
    h2.appendChild(el('span', { class: 'app-name' }, app.application));
    h2.appendChild(el('span', { class: 'muted' }, ' on '));
    h2.appendChild(el('span', { class: 'stream' }, app.stream));
    h2.appendChild(el('span', { class: 'source' }, app.source));
    section.appendChild(el('p', { class: 'summary' }, summary(app)));
    var figure = section.appendChild(el('figure', { class: 'chart-box' }));
    figure.appendChild(el('figcaption', null, 'Max lag (millisBehindLatest) over the open shards'));
    var chart = figure.appendChild(svgEl('svg', { class: 'lag-chart', id: index === 0 ? 'lag-chart' : 'lag-chart-' + index, role: 'img' }));
    var box = section.appendChild(el('div', { class: 'table-box' }));
    box.appendChild(shardTable(app.shards));
    return { section: section, chart: chart, history: app.lagHistory };
  }

  var TIME_STEPS_MS = [5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5];
  var LAG_STEPS_MS = [1, 2, 5, 10, 20, 50, 100, 200, 250, 500, 1e3, 2e3, 5e3, 1e4, 15e3, 3e4, 6e4, 12e4, 3e5, 6e5, 9e5, 18e5, 36e5, 72e5, 144e5, 288e5, 864e5];
  function pickStep(steps, span, maxTicks) {
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= maxTicks) return steps[i];
    return steps[steps.length - 1] * Math.ceil(span / maxTicks / steps[steps.length - 1]);
  }
  function formatSpan(ms) {
    return ms < 60000 ? Math.round(ms / 1000) + ' s' : short(ms / 60000) + ' min';
  }
  /** Draws the lag history as a line chart sized to its box (so its text stays readable on a phone). */
  function drawChart(chart, history, boxWidth) {
    var samples = (Array.isArray(history) ? history : []).filter(function (s) {
      return s && isNumber(s.t) && isNumber(s.maxMillisBehindLatest);
    });
    var width = Math.max(240, Math.floor(boxWidth || 600));
    var height = width < 520 ? 170 : 220;
    var m = { left: 58, right: 14, top: 12, bottom: 30 };
    var plotW = width - m.left - m.right;
    var plotH = height - m.top - m.bottom;
    chart.setAttribute('width', width);
    chart.setAttribute('height', height);
    chart.setAttribute('viewBox', '0 0 ' + width + ' ' + height);
    chart.setAttribute('data-points', samples.length);
    var children = [svgEl('title', null, 'Max lag over time, ' + samples.length + ' samples')];
    var end = serverNow();
    if (samples.length > 0) end = Math.max(end, samples[samples.length - 1].t);
    var start = samples.length > 0 ? Math.min(samples[0].t, end - 60000) : end - 60000;
    var span = Math.max(1, end - start);
    var maxLag = 0;
    samples.forEach(function (s) {
      maxLag = Math.max(maxLag, s.maxMillisBehindLatest);
    });
    var yStep = maxLag > 0 ? pickStep(LAG_STEPS_MS, maxLag, 4) : 250;
    var yTop = maxLag > 0 ? Math.ceil(maxLag / yStep) * yStep : 1000;
    var x = function (t) {
      return m.left + ((t - start) / span) * plotW;
    };
    var y = function (lag) {
      return m.top + plotH - (Math.min(lag, yTop) / yTop) * plotH;
    };
    for (var v = 0; v <= yTop + 1e-9; v += yStep) {
      children.push(svgEl('line', { class: v === 0 ? 'axis' : 'grid', x1: m.left, x2: m.left + plotW, y1: y(v).toFixed(1), y2: y(v).toFixed(1) }));
      children.push(svgEl('text', { class: 'y-label', x: m.left - 6, y: (y(v) + 4).toFixed(1), 'text-anchor': 'end' }, formatLag(v)));
    }
    var xStep = pickStep(TIME_STEPS_MS, span, width < 520 ? 3 : 6);
    for (var k = 0; end - k * xStep >= start - 1; k++) {
      var tx = x(end - k * xStep);
      children.push(svgEl('line', { class: 'tick', x1: tx.toFixed(1), x2: tx.toFixed(1), y1: m.top + plotH, y2: m.top + plotH + 5 }));
      var anchor = k === 0 ? 'end' : 'middle';
      children.push(svgEl('text', { class: 'x-label', x: tx.toFixed(1), y: height - 8, 'text-anchor': anchor }, k === 0 ? 'now' : '\\u2212' + formatSpan(k * xStep)));
    }
    children.push(svgEl('line', { class: 'axis', x1: m.left, x2: m.left, y1: m.top, y2: m.top + plotH }));
    if (samples.length === 0) {
      children.push(svgEl('text', { class: 'no-data', x: m.left + plotW / 2, y: m.top + plotH / 2, 'text-anchor': 'middle' }, 'no lag samples yet'));
    } else {
      var points = samples.map(function (s) {
        return x(s.t).toFixed(1) + ',' + y(s.maxMillisBehindLatest).toFixed(1);
      });
      var baseline = (m.top + plotH).toFixed(1);
      var first = x(samples[0].t).toFixed(1);
      var lastX = x(samples[samples.length - 1].t).toFixed(1);
      children.push(svgEl('polygon', { class: 'area', points: first + ',' + baseline + ' ' + points.join(' ') + ' ' + lastX + ',' + baseline }));
      children.push(svgEl('polyline', { class: 'line', points: points.join(' ') }));
      var lastSample = samples[samples.length - 1];
      children.push(svgEl('circle', { class: 'dot', cx: lastX, cy: y(lastSample.maxMillisBehindLatest).toFixed(1), r: 3.5 }));
    }
    chart.setAttribute('aria-label', 'Max lag over the last ' + formatSpan(span) + (samples.length > 0 ? ', now ' + formatLag(samples[samples.length - 1].maxMillisBehindLatest) : ''));
    chart.replaceChildren.apply(chart, children);
  }

  /**
   * Makes the live node "from" look like the freshly built "to", touching only what differs, so a refresh
   * keeps the text a reader has selected (a checkpoint to copy) and the scroll position of the tables.
   */
  function morph(from, to) {
    if (from.nodeType !== to.nodeType || from.nodeName !== to.nodeName) {
      from.parentNode.replaceChild(to, from);
      return;
    }
    if (from.nodeType !== 1) {
      if (from.nodeValue !== to.nodeValue) from.nodeValue = to.nodeValue;
      return;
    }
    Array.prototype.slice.call(from.attributes).forEach(function (a) {
      if (!to.hasAttribute(a.name)) from.removeAttribute(a.name);
    });
    Array.prototype.slice.call(to.attributes).forEach(function (a) {
      if (from.getAttribute(a.name) !== a.value) from.setAttribute(a.name, a.value);
    });
    var wanted = Array.prototype.slice.call(to.childNodes);
    wanted.forEach(function (child, i) {
      var current = from.childNodes[i];
      if (current) morph(current, child);
      else from.appendChild(child);
    });
    while (from.childNodes.length > wanted.length) from.removeChild(from.lastChild);
  }

  function render(snapshot) {
    renderReady(snapshot.ready);
    var apps = document.getElementById('apps');
    var next = el('div', { id: 'apps' });
    var built = snapshot.applications.map(appSection);
    built.forEach(function (b) {
      next.appendChild(b.section);
    });
    // Charts are drawn at the size of their box (text stays readable on a phone) before the morph, so their
    // elements survive a refresh too; a chart whose box turned out to have another width is drawn again.
    var live = apps.querySelectorAll('svg.lag-chart');
    built.forEach(function (b, i) {
      b.width = live[i] ? live[i].parentNode.clientWidth : apps.clientWidth - 30;
      drawChart(b.chart, b.history, b.width);
    });
    morph(apps, next);
    live = apps.querySelectorAll('svg.lag-chart');
    built.forEach(function (b, i) {
      var width = live[i].parentNode.clientWidth;
      if (Math.abs(width - b.width) < 1) return;
      var again = svgEl('svg');
      drawChart(again, b.history, width);
      Array.prototype.slice.call(live[i].attributes).forEach(function (a) {
        if (!again.hasAttribute(a.name)) again.setAttribute(a.name, a.value);
      });
      morph(live[i], again);
    });
    document.getElementById('empty').hidden = snapshot.applications.length > 0;
    var generated = document.getElementById('updated');
    generated.textContent = 'updated ' + new Date(Date.parse(snapshot.generatedAt) || Date.now()).toLocaleTimeString();
    generated.title = snapshot.generatedAt;
  }

  function isSnapshot(s) {
    return s !== null && typeof s === 'object' && Array.isArray(s.applications) && s.ready !== null && typeof s.ready === 'object';
  }
  function setConnected() {
    document.body.setAttribute('data-connection', 'ok');
    document.getElementById('banner').hidden = true;
  }
  function setDisconnected(reason) {
    document.body.setAttribute('data-connection', 'disconnected');
    var banner = document.getElementById('banner');
    var text = 'Disconnected (' + reason + '), retrying every ' + formatLag(REFRESH_MS) + '\\u2026';
    if (lastSuccessAt > 0) text += ' The figures below are from ' + formatAgo(Date.now() - lastSuccessAt) + '.';
    banner.textContent = text;
    banner.hidden = false;
    var badge = document.getElementById('ready');
    badge.setAttribute('data-status', 'unknown');
    badge.textContent = 'status unknown';
  }
  function refresh() {
    var controller = typeof AbortController === 'function' ? new AbortController() : null;
    var timeout = setTimeout(function () {
      if (controller) controller.abort();
    }, Math.max(5000, REFRESH_MS * 3));
    fetch('status.json', { cache: 'no-store', headers: { accept: 'application/json' }, signal: controller ? controller.signal : undefined })
      .then(function (response) {
        if (!response.ok) throw new Error('HTTP ' + response.status);
        return response.json();
      })
      .then(function (snapshot) {
        if (!isSnapshot(snapshot)) throw new Error('unexpected answer from status.json');
        var generated = Date.parse(snapshot.generatedAt);
        clockOffsetMs = isNaN(generated) ? 0 : Date.now() - generated;
        lastSnapshot = snapshot;
        lastSuccessAt = Date.now();
        render(snapshot);
        setConnected();
        updates++;
        document.body.setAttribute('data-updates', updates);
      })
      .catch(function (error) {
        var reason = error && error.name === 'AbortError' ? 'no answer' : error && error.message ? error.message : 'request failed';
        if (/fetch|network/i.test(reason)) reason = 'server unreachable';
        setDisconnected(reason);
      })
      .then(function () {
        clearTimeout(timeout);
        setTimeout(refresh, REFRESH_MS);
      });
  }

  var resizeTimer = null;
  window.addEventListener('resize', function () {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(function () {
      if (lastSnapshot) render(lastSnapshot);
    }, 150);
  });
  refresh();
})();
`;
