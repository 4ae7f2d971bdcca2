// Memory of idle WebSockets over HTTP/2 (RFC 8441) in the proxy's process, next to the same over HTTP/1.1 (wss) on
// the same TLS listener. The proxy runs in a child (--expose-gc) and reports its live memory after a full collection;
// clients and the ws backend run here. Run after `npm run build`: node bench/h2-websocket/idle-memory.js [N]
const { execFileSync, fork } = require('node:child_process');
const { mkdtempSync, readFileSync, rmSync, writeFileSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');
const { once } = require('node:events');
const http2 = require('node:http2');

if (process.argv[2] === 'child') {
  const { createProxy } = require(join(__dirname, '../../packages/proxy/dist/index.js'));
  const pki = JSON.parse(process.env.PKI);
  const proxy = createProxy({ backends: [process.env.BACKEND], http2: { maxWebSocketStreams: 100 } });
  const server = http2.createSecureServer({ ...proxy.http2ServerOptions(), cert: pki.cert, key: pki.key });
  proxy.attach(server);
  server.listen(0, '127.0.0.1', () => process.send({ port: server.address().port }));
  process.on('message', (m) => {
    if (m !== 'measure') return;
    global.gc();
    global.gc();
    const u = process.memoryUsage();
    process.send({ live: u.heapUsed + u.external, rss: u.rss, conns: proxy.connections().length, h2: proxy.connections().filter((c) => c.stream !== undefined).length });
  });
  return;
}

const { WebSocket, WebSocketServer } = require(join(__dirname, '../../node_modules/ws'));
const N = Number(process.argv[2] ?? 1000);

function pki() {
  const dir = mkdtempSync(join(tmpdir(), 'h2ws-bench-'));
  const run = (...args) => execFileSync('openssl', args, { cwd: dir, stdio: 'ignore' });
  run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=ca', '-keyout', 'ca.key', '-out', 'ca.pem');
  run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-subj', '/CN=localhost', '-keyout', 's.key', '-out', 's.csr');
  writeFileSync(join(dir, 'ext.cnf'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  run('x509', '-req', '-in', 's.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-days', '1', '-extfile', 'ext.cnf', '-out', 's.pem');
  const out = { ca: readFileSync(join(dir, 'ca.pem'), 'utf8'), cert: readFileSync(join(dir, 's.pem'), 'utf8'), key: readFileSync(join(dir, 's.key'), 'utf8') };
  rmSync(dir, { recursive: true, force: true });
  return out;
}

async function main() {
  const keys = pki();
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await once(wss, 'listening');
  const child = fork(__filename, ['child'], { execArgv: ['--expose-gc'], env: { ...process.env, PKI: JSON.stringify(keys), BACKEND: `http://127.0.0.1:${wss.address().port}` } });
  const [{ port }] = await once(child, 'message');
  const measure = async () => {
    child.send('measure');
    const [m] = await once(child, 'message');
    return m;
  };
  const base = await measure();

  // N WebSockets over HTTP/2, 100 per client connection.
  const sessions = [];
  const streams = [];
  for (let i = 0; i < N; i++) {
    if (i % 100 === 0) {
      const s = http2.connect(`https://127.0.0.1:${port}`, { ca: keys.ca });
      await once(s, 'remoteSettings');
      sessions.push(s);
    }
    const st = sessions.at(-1).request({ ':method': 'CONNECT', ':protocol': 'websocket', ':scheme': 'https', ':path': '/', ':authority': `localhost:${port}`, 'sec-websocket-version': '13' }, { endStream: false });
    const [h] = await once(st, 'response');
    if (h[':status'] !== 200) throw new Error(`status ${h[':status']}`);
    streams.push(st);
  }
  const h2 = await measure();
  for (const s of sessions) s.destroy();
  while ((await measure()).conns !== 0) await new Promise((r) => setTimeout(r, 100));
  const between = await measure();

  // N WebSockets over HTTP/1.1 (wss) on the same listener.
  const clients = [];
  for (let i = 0; i < N; i++) {
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: keys.ca, perMessageDeflate: false });
    await once(ws, 'open');
    clients.push(ws);
  }
  const h1 = await measure();
  for (const ws of clients) ws.terminate();

  const per = (a, b) => ((a.live - b.live) / N / 1024).toFixed(1);
  const perRss = (a, b) => ((a.rss - b.rss) / N / 1024).toFixed(1);
  console.log(`${N} idle WebSockets, proxy process, live memory (heap + external after gc) / RSS per connection:`);
  console.log(`  over HTTP/2 (RFC 8441, ${sessions.length} TLS connections): ${per(h2, base)} KiB / ${perRss(h2, base)} KiB  (table: ${h2.conns} entries, ${h2.h2} with a stream id)`);
  console.log(`  over HTTP/1.1 (wss, ${N} TLS connections):                 ${per(h1, between)} KiB / ${perRss(h1, between)} KiB`);
  child.kill();
  wss.close();
  for (const c of wss.clients) c.terminate();
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
