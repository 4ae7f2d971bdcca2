/**
 * The dashboard: one self-contained page (no CDN, no build step). It holds no data itself; its
 * script reads `/api/*` with the bearer token the user typed once (kept in sessionStorage) and
 * follows `/api/feed` through fetch, since EventSource cannot send an Authorization header.
 * Every value from the API is put in the page with textContent, never as HTML.
 * @internal
 */
export const DASHBOARD_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Switchboard admin</title>
<style>
:root { --bg:#f6f7f9; --card:#fff; --ink:#1d2330; --muted:#6b7385; --line:#e2e5ea; --up:#1f9d55; --down:#d64545; --drain:#d99a1e; }
* { box-sizing: border-box; }
body { margin:0; font:14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; background:var(--bg); color:var(--ink); }
header { display:flex; align-items:center; gap:16px; padding:12px 24px; background:#1d2330; color:#fff; }
header h1 { font-size:18px; margin:0; font-weight:600; }
#live { font-size:12px; padding:2px 8px; border-radius:10px; background:#555; }
#live.on { background:var(--up); }
#summary { margin-left:auto; font-size:13px; color:#cfd5e1; }
main { padding:16px 24px; display:grid; gap:16px; grid-template-columns: minmax(320px, 1fr) minmax(420px, 2fr); }
section { background:var(--card); border:1px solid var(--line); border-radius:8px; padding:14px 16px; }
section h2 { font-size:13px; text-transform:uppercase; letter-spacing:.05em; color:var(--muted); margin:0 0 10px; }
#table-section { grid-column: 1 / -1; }
.backend { display:flex; align-items:center; gap:10px; padding:8px 0; border-top:1px solid var(--line); }
.backend:first-of-type { border-top:0; }
.swatch { width:10px; height:10px; border-radius:2px; flex:none; }
.bid { font-weight:600; flex:1; overflow:hidden; text-overflow:ellipsis; white-space:nowrap; }
.state { font-size:12px; padding:1px 8px; border-radius:10px; color:#fff; }
.state.up { background:var(--up); } .state.down { background:var(--down); } .state.draining { background:var(--drain); }
.count { font-variant-numeric: tabular-nums; min-width:3ch; text-align:right; }
.weight { color:var(--muted); font-size:12px; }
button { font:inherit; font-size:12px; padding:3px 10px; border:1px solid var(--line); border-radius:5px; background:#fff; cursor:pointer; }
button:hover { background:#eef1f5; }
canvas { width:100%; height:220px; display:block; }
#filter { width:320px; padding:5px 8px; border:1px solid var(--line); border-radius:5px; font:inherit; }
table { width:100%; border-collapse:collapse; margin-top:10px; font-variant-numeric: tabular-nums; }
th, td { text-align:left; padding:5px 8px; border-top:1px solid var(--line); white-space:nowrap; }
th { font-size:12px; color:var(--muted); font-weight:500; }
td.num, th.num { text-align:right; }
#empty { color:var(--muted); padding:10px 8px; }
#login { max-width:360px; margin:80px auto; background:var(--card); border:1px solid var(--line); border-radius:8px; padding:20px; }
#login input { width:100%; padding:6px 8px; margin:8px 0; font:inherit; }
#error { color:var(--down); min-height:1.4em; }
[hidden] { display:none !important; }
</style></head>
<body>
<header><h1>Switchboard</h1><span id="live">feed off</span><span id="summary"></span></header>
<form id="login" hidden><strong>Admin token</strong><input id="token" type="password" autocomplete="off" placeholder="Bearer token"><button type="submit">Open dashboard</button><div id="error"></div></form>
<main id="app" hidden>
<section><h2>Backends</h2><div id="backends"></div></section>
<section><h2>Connections per backend, last 5 minutes</h2><canvas id="chart" width="800" height="220"></canvas></section>
<section id="table-section"><h2>Live connections</h2>
<input id="filter" placeholder="Filter by client, route, backend or protocol">
<table><thead><tr><th>Client</th><th>Route</th><th>Backend</th><th>Protocol</th><th class="num">Age</th><th class="num">Bytes in</th><th class="num">Bytes out</th></tr></thead>
<tbody id="rows"></tbody></table><div id="empty">No live connections.</div></section>
</main>
<script>
(() => {
  const KEY = 'switchboard-admin-token';
  const COLORS = ['#3b6fd8', '#e07b39', '#2a9d8f', '#c44569', '#8e6bd1', '#6a994e', '#d4a017', '#5d6d7e'];
  const HISTORY = 150, SAMPLE_MS = 2000;
  const $ = (id) => document.getElementById(id);
  let token = sessionStorage.getItem(KEY);
  let backends = [];
  const colorOf = new Map();
  const rows = new Map();
  const closed = new Set();
  const history = [];
  let clockOffset = 0;
  let started = false;

  const headers = (extra) => Object.assign(token ? { authorization: 'Bearer ' + token } : {}, extra || {});
  class Unauthorized extends Error {}
  async function api(path, init) {
    const res = await fetch(path, Object.assign({}, init, { headers: headers(init && init.headers) }));
    if (res.status === 401) throw new Unauthorized();
    const body = await res.json();
    if (!res.ok) throw new Error(body.error || res.status);
    return body;
  }
  function showLogin(message) {
    started = false;
    $('app').hidden = true; $('login').hidden = false; $('error').textContent = message || '';
    $('token').focus();
  }
  $('login').addEventListener('submit', (e) => {
    e.preventDefault();
    token = $('token').value.trim();
    sessionStorage.setItem(KEY, token);
    start();
  });

  function color(id) {
    if (!colorOf.has(id)) colorOf.set(id, COLORS[colorOf.size % COLORS.length]);
    return colorOf.get(id);
  }
  function el(tag, cls, text) { const e = document.createElement(tag); if (cls) e.className = cls; if (text !== undefined) e.textContent = text; return e; }
  function fmtBytes(n) { return n < 1024 ? n + ' B' : n < 1048576 ? (n / 1024).toFixed(1) + ' KiB' : (n / 1048576).toFixed(1) + ' MiB'; }
  function fmtAge(ms) { const s = Math.floor(ms / 1000); return s < 60 ? s + 's' : s < 3600 ? Math.floor(s / 60) + 'm ' + (s % 60) + 's' : Math.floor(s / 3600) + 'h ' + Math.floor((s % 3600) / 60) + 'm'; }

  async function act(id, route, action) {
    try { await api('api/backends/' + encodeURIComponent(id) + '/' + action + '?route=' + encodeURIComponent(route), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }); }
    catch (err) { if (err instanceof Unauthorized) return showLogin('Token refused.'); alert(action + ' failed: ' + err.message); }
    refresh();
  }
  function renderBackends() {
    const box = $('backends');
    box.replaceChildren();
    for (const b of backends) {
      const row = el('div', 'backend'); row.dataset.backend = b.id; row.dataset.route = b.route;
      const sw = el('span', 'swatch'); sw.style.background = color(b.id);
      const btn = el('button', '', b.state === 'draining' ? 'Undrain' : 'Drain');
      btn.dataset.action = b.state === 'draining' ? 'undrain' : 'drain';
      btn.addEventListener('click', () => act(b.id, b.route, btn.dataset.action));
      row.append(sw, el('span', 'bid', b.route === 'default' ? b.id : b.route + ' / ' + b.id), el('span', 'weight', 'w' + b.weight), el('span', 'state ' + b.state, b.state), el('span', 'count', String(b.activeConnections)), btn);
      if (b.url) row.title = b.url;
      box.append(row);
    }
    const total = backends.reduce((n, b) => n + b.activeConnections, 0);
    $('summary').textContent = backends.length + ' backends · ' + total + ' connections';
  }

  function matches(c) {
    const f = $('filter').value.trim().toLowerCase();
    return !f || [c.client, c.route, c.backend, c.protocol].some((v) => v.toLowerCase().includes(f));
  }
  function upsert(c) {
    if (closed.has(c.id)) return;
    let entry = rows.get(c.id);
    if (!entry) {
      const tr = el('tr'); tr.dataset.id = String(c.id);
      const cells = ['client', 'route', 'backend', 'protocol', 'age', 'in', 'out'].map((k) => el('td', ['age', 'in', 'out'].includes(k) ? 'num' : ''));
      tr.append(...cells);
      entry = { tr, cells, c, addedAt: Date.now() };
      rows.set(c.id, entry);
      $('rows').append(tr);
    }
    entry.c = c;
    const [client, route, backend, protocol, , bin, bout] = entry.cells;
    client.textContent = c.client; route.textContent = c.route; backend.textContent = c.backend; protocol.textContent = c.protocol;
    bin.textContent = fmtBytes(c.bytesIn); bout.textContent = fmtBytes(c.bytesOut);
    entry.tr.hidden = !matches(c);
  }
  function drop(id) {
    closed.add(id);
    if (closed.size > 5000) closed.delete(closed.values().next().value);
    const entry = rows.get(id);
    if (entry) { entry.tr.remove(); rows.delete(id); }
  }
  function tickAges() {
    const now = Date.now() - clockOffset;
    for (const { cells, c } of rows.values()) cells[4].textContent = fmtAge(Math.max(0, now - c.openedAt));
    $('empty').hidden = [...rows.values()].some((r) => !r.tr.hidden);
  }
  $('filter').addEventListener('input', () => { for (const r of rows.values()) r.tr.hidden = !matches(r.c); tickAges(); });

  function drawChart() {
    const canvas = $('chart');
    const dpr = window.devicePixelRatio || 1;
    const w = canvas.clientWidth, h = canvas.clientHeight;
    canvas.width = w * dpr; canvas.height = h * dpr;
    const g = canvas.getContext('2d');
    g.scale(dpr, dpr); g.clearRect(0, 0, w, h);
    const left = 36, bottom = h - 22, top = 10, right = w - 8;
    let max = 1;
    for (const s of history) for (const v of Object.values(s.counts)) max = Math.max(max, v);
    const step = Math.max(1, Math.ceil(max / 4));
    max = step * 4;
    g.font = '11px system-ui, sans-serif'; g.fillStyle = '#6b7385'; g.strokeStyle = '#e2e5ea'; g.lineWidth = 1;
    for (let i = 0; i <= 4; i++) {
      const y = bottom - (bottom - top) * i / 4;
      g.beginPath(); g.moveTo(left, y); g.lineTo(right, y); g.stroke();
      g.fillText(String(step * i), 4, y + 4);
    }
    const span = HISTORY * SAMPLE_MS, now = Date.now();
    const x = (t) => right - (now - t) / span * (right - left);
    g.fillText('-5 min', left, h - 6); g.fillText('now', right - 22, h - 6);
    for (const b of backends) {
      g.strokeStyle = color(b.id); g.lineWidth = 2; g.beginPath();
      let first = true;
      for (const s of history) {
        const v = s.counts[b.id] || 0, px = x(s.t), py = bottom - (bottom - top) * v / max;
        if (first) { g.moveTo(px, py); first = false; } else g.lineTo(px, py);
      }
      g.stroke();
    }
  }

  async function refresh() {
    if (!started) return;
    const requestedAt = Date.now();
    try {
      const [b, c] = await Promise.all([api('api/backends'), api('api/connections?limit=1000')]);
      backends = b.backends;
      const counts = {};
      for (const x of backends) counts[x.id] = x.activeConnections;
      history.push({ t: Date.now(), counts });
      while (history.length > HISTORY) history.shift();
      const seen = new Set();
      for (const x of c.connections) { seen.add(x.id); clockOffset = Date.now() - (x.openedAt + x.ageMs); upsert(x); }
      // A row the feed added while this snapshot was in flight stays; other rows missing from it are gone.
      if (c.total <= c.connections.length) for (const [id, r] of rows) if (!seen.has(id) && r.addedAt < requestedAt) drop(id);
      renderBackends(); drawChart(); tickAges();
    } catch (err) {
      if (err instanceof Unauthorized) showLogin(token ? 'Token refused.' : '');
    }
  }

  function onEvent(type, data) {
    if (type === 'open') upsert(data);
    else if (type === 'close') drop(data.id);
    else if (type === 'backend') { refresh(); return; }
    tickAges();
  }
  async function follow() {
    while (started) {
      try {
        const res = await fetch('api/feed', { headers: headers() });
        if (res.status === 401) { showLogin('Token refused.'); return; }
        if (!res.ok) throw new Error('feed ' + res.status);
        $('live').textContent = 'live'; $('live').className = 'on';
        const reader = res.body.getReader(), dec = new TextDecoder();
        let buf = '';
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buf += dec.decode(value, { stream: true });
          let i;
          while ((i = buf.indexOf('\\n\\n')) >= 0) {
            const block = buf.slice(0, i); buf = buf.slice(i + 2);
            let type = 'message', data = '';
            for (const line of block.split('\\n')) {
              if (line.startsWith('event: ')) type = line.slice(7);
              else if (line.startsWith('data: ')) data += line.slice(6);
            }
            if (data) onEvent(type, JSON.parse(data));
          }
        }
      } catch (err) { /* reconnect below */ }
      $('live').textContent = 'feed off'; $('live').className = '';
      await new Promise((r) => setTimeout(r, 2000));
    }
  }

  async function start() {
    try { await api('api/backends'); }
    catch (err) { return showLogin(err instanceof Unauthorized ? (token ? 'Token refused.' : '') : String(err.message)); }
    $('login').hidden = true; $('app').hidden = false;
    if (started) return;
    started = true;
    refresh(); follow();
  }
  setInterval(refresh, SAMPLE_MS);
  setInterval(tickAges, 1000);
  window.addEventListener('resize', drawChart);
  start();
})();
</script>
</body></html>
`;
