// Cost of the metrics hooks per connection and per answer, and of one scrape at 100k entries. Run after `npm run build`: node bench/admin/metrics-cost.js
const { ProxyMetrics } = require(__dirname + '/../../packages/proxy/dist/admin/proxy-metrics.js');
const { ConnectionTable } = require(__dirname + '/../../packages/proxy/dist/connection-table.js');
const table = new ConnectionTable();
const backends = ['a','b','c','d'].map((id) => ({ id, url: 'http://x/', weight: 1, state: 'up', activeConnections: 0, maxConnections: Infinity }));
const m = new ProxyMetrics({}, table, () => backends);
const N = 1_000_000;
const entries = [];
for (let i = 0; i < 1000; i++) entries.push(table.add('127.0.0.1', 1000 + i, backends[i % 4].id, i % 2 ? 'http' : 'websocket'));
for (let r = 0; r < 3; r++) {
  let t = process.hrtime.bigint();
  for (let i = 0; i < N; i++) { const e = entries[i % 1000]; m.opened(e); m.closed(e, undefined); }
  const openClose = Number(process.hrtime.bigint() - t) / N;
  t = process.hrtime.bigint();
  const observer = m.forRoute('default');
  for (let i = 0; i < N; i++) observer.httpResponse('a', 200, Date.now() - 3);
  const resp = Number(process.hrtime.bigint() - t) / N;
  console.log(`open+close ${openClose.toFixed(0)} ns, httpResponse ${resp.toFixed(0)} ns`);
}
for (let i = 1000; i < 100000; i++) table.add('127.0.0.1', i % 60000, backends[i % 4].id, 'websocket');
const { renderExposition } = require(__dirname + '/../../packages/proxy/dist/admin/metric-families.js');
let t = process.hrtime.bigint();
const text = renderExposition(m.scrape());
console.log(`scrape of ${table.size} entries: ${(Number(process.hrtime.bigint() - t) / 1e6).toFixed(1)} ms, ${text.length} bytes`);
