import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { WebSocket } from 'ws';
import { createProxy, type ConnectionRecord, type Proxy, type ProxyOptions, type SwitchboardError } from '@switchboard/proxy';
import { Resources, listenLocal, startBackend, waitFor, type TestBackend } from './helpers/servers';
import { makeTestPki, type TestPki } from './helpers/tls';
import { h2Request, openH2, startH2Proxy } from './helpers/h2';

/** A backend that echoes what it received (method, url, headers, body length, trailers) as JSON. */
async function echoBackend(res: Resources, id: string): Promise<TestBackend> {
  return startBackend(res, id, (req: IncomingMessage, r: ServerResponse) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      r.setHeader('content-type', 'application/json');
      r.end(JSON.stringify({ id, method: req.method, url: req.url, headers: req.headers, rawHeaders: req.rawHeaders, bytes, trailers: req.trailers, httpVersion: req.httpVersion }));
    });
  });
}

describe('issue 15: HTTP/2 requests are forwarded to HTTP/1.1 backends', () => {
  const res = new Resources();
  const proxies: Proxy[] = [];
  const errors: SwitchboardError[] = [];
  let pki: TestPki;
  beforeAll(() => {
    pki = makeTestPki();
  });
  afterEach(async () => {
    try {
      await waitFor(() => proxies.every((p) => p.connections().length === 0), 3000, 'empty tables');
    } finally {
      proxies.length = 0;
      errors.length = 0;
      await res.cleanup();
    }
  });

  async function start(options: ProxyOptions, how: 'listen' | 'attach' = 'listen'): ReturnType<typeof startH2Proxy> {
    const started = await startH2Proxy(res, options, pki, how);
    started.proxy.on('error', (e) => errors.push(e));
    proxies.push(started.proxy);
    return started;
  }

  it.each(['listen', 'attach'] as const)('serves a GET over HTTP/2 (%s): pseudo-headers become the request line and Host, X-Forwarded-Proto is https', async (how) => {
    const backend = await echoBackend(res, 'a');
    const { url, port } = await start({ backends: [backend.url] }, how);
    const session = await openH2(res, url, pki);
    expect(session.alpnProtocol).toBe('h2');
    const r = await h2Request(session, { path: '/path?q=1', headers: { 'x-custom': 'v' } });
    expect(r.status).toBe(200);
    const seen = JSON.parse(r.body.toString()) as { method: string; url: string; headers: Record<string, string>; rawHeaders: string[]; httpVersion: string };
    expect(seen.method).toBe('GET');
    expect(seen.url).toBe('/path?q=1');
    expect(seen.httpVersion).toBe('1.1');
    // Node's client sends the TLS server name as :authority.
    expect(seen.headers.host).toBe(`localhost:${port}`);
    expect(seen.headers['x-custom']).toBe('v');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    expect(seen.headers['x-forwarded-for']).toBe('127.0.0.1');
    expect(seen.headers['x-forwarded-host']).toBe(`localhost:${port}`);
    expect(seen.rawHeaders.filter((n, i) => i % 2 === 0 && n.startsWith(':'))).toEqual([]);
  });

  it('answers 400 when Host and :authority disagree, and to CONNECT, before any backend is contacted', async () => {
    const backend = await echoBackend(res, 'a');
    let requests = 0;
    backend.server.on('request', () => requests++);
    const { url } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const r = await h2Request(session, { headers: { ':authority': 'good.example', host: 'evil.example' } });
    expect(r.status).toBe(400);
    expect(requests).toBe(0);
    // A CONNECT (here RFC 8441's, which WebSockets over HTTP/2 use) is never forwarded as an HTTP/1.1 request: it
    // takes the extended CONNECT path, which checks it as a WebSocket handshake (no version here: 426).
    const connect = await h2Request(session, { method: 'CONNECT', headers: { ':protocol': 'websocket', ':scheme': 'https', ':path': '/' } });
    expect(connect.status).toBe(426);
    expect(requests).toBe(0);
    expect(errors.map((e) => e.code)).toEqual(['ERR_BAD_REQUEST', 'ERR_UNSUPPORTED_WS_VERSION']);
    // The connection stays usable: a 400 on HTTP/2 ends one stream, not the connection.
    expect((await h2Request(session)).status).toBe(200);
  });

  it('never sends HTTP/1-only response headers on HTTP/2 (Connection, Keep-Alive, Transfer-Encoding, Upgrade, Proxy-Connection)', async () => {
    const backend = await startBackend(res, 'a', (_req, r) => {
      r.writeHead(200, { Connection: 'keep-alive, x-hop', 'Keep-Alive': 'timeout=5', 'Proxy-Connection': 'keep-alive', Upgrade: 'h2c', 'Transfer-Encoding': 'chunked', 'x-hop': 'gone', 'x-end': 'kept' });
      r.end('chunked body');
    });
    const { url } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const warnings: Error[] = [];
    const onWarning = (w: Error): void => void warnings.push(w);
    process.on('warning', onWarning);
    res.add(() => void process.off('warning', onWarning));
    const r = await h2Request(session);
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('chunked body');
    for (const name of ['connection', 'keep-alive', 'proxy-connection', 'upgrade', 'transfer-encoding', 'x-hop']) expect(r.headers[name]).toBeUndefined();
    expect(r.headers['x-end']).toBe('kept');
    // Node drops connection headers itself with an UnsupportedWarning: the proxy must not give it any to drop.
    expect(warnings.map((w) => w.message)).toEqual([]);
  });

  it('forwards POST bodies both ways, with and without Content-Length, and large ones intact', async () => {
    const backend = await startBackend(res, 'a', (req, r) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        r.setHeader('x-request-length', String(body.length));
        r.setHeader('x-request-framing', req.headers['content-length'] !== undefined ? 'length' : String(req.headers['transfer-encoding']));
        r.end(body); // echo
      });
    });
    const { url, proxy } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const small = await h2Request(session, { method: 'POST', headers: { 'content-length': '5' }, body: 'hello' });
    expect(small.body.toString()).toBe('hello');
    expect(small.headers['x-request-framing']).toBe('length');
    const big = Buffer.alloc(8 * 1024 * 1024 + 17);
    for (let i = 0; i < big.length; i++) big[i] = (i * 31) & 0xff;
    const r = await h2Request(session, { method: 'POST', body: big });
    expect(r.status).toBe(200);
    expect(r.headers['x-request-framing']).toBe('chunked');
    expect(r.headers['x-request-length']).toBe(String(big.length));
    expect(r.body.equals(big)).toBe(true);
    expect(proxy.connections()).toEqual([]);
  });

  it('holds a client that never reads to a bounded figure: the backend is paused, not buffered (256 MiB offered)', async () => {
    const offered = 256 * 1024 * 1024;
    let written = 0;
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      const chunk = Buffer.alloc(64 * 1024, 0x61);
      const pump = (): void => {
        while (written < offered) {
          written += chunk.length;
          if (!r.write(chunk)) {
            r.once('drain', pump);
            return;
          }
        }
        r.end();
      };
      pump();
    });
    const { url, proxy } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    global.gc?.();
    const before = process.memoryUsage();
    const stream = session.request({ ':path': '/big' }, { endStream: true });
    stream.on('error', () => undefined);
    stream.pause(); // never reads: HTTP/2 flow control closes its window
    await waitFor(() => proxy.connections().length === 1, 3000, 'entry');
    await new Promise((r) => setTimeout(r, 1500));
    const pulled = proxy.connections()[0]!.bytesOut;
    const after = process.memoryUsage();
    // What the proxy took from the backend is its stream buffer plus one flow-control window, not the 256 MiB
    // (measured: 128 KiB pulled, 3.75 MiB in the backend's socket buffers, RSS +5.4 MiB).
    expect(pulled).toBeLessThan(1024 * 1024);
    expect(written).toBeLessThan(16 * 1024 * 1024);
    expect(after.rss - before.rss).toBeLessThan(32 * 1024 * 1024);
    stream.close(0x8);
    await waitFor(() => proxy.connections().length === 0, 3000, 'entry removed');
  });

  it('holds a client upload a backend never reads to a bounded figure', async () => {
    const backend = await startBackend(res, 'a', () => {
      // never reads, never answers: the request body backs up to the client
    });
    const { url, proxy } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const stream = session.request({ ':path': '/upload', ':method': 'POST' });
    stream.on('error', () => undefined);
    const chunk = Buffer.alloc(64 * 1024, 0x62);
    let sent = 0;
    const deadline = Date.now() + 1500;
    while (Date.now() < deadline && sent < 256 * 1024 * 1024) {
      sent += chunk.length;
      if (!stream.write(chunk)) await Promise.race([once(stream, 'drain'), new Promise((r) => setTimeout(r, deadline - Date.now()))]);
    }
    await waitFor(() => proxy.connections().length === 1, 3000, 'entry');
    // The client could only push the windows and socket buffers' worth before flow control stopped it
    // (measured: 4 MiB sent, 3.9 MiB of it forwarded into the backend's socket buffers).
    expect(sent).toBeLessThan(16 * 1024 * 1024);
    expect(proxy.connections()[0]!.bytesIn).toBeLessThan(16 * 1024 * 1024);
    stream.close(0x8);
    await waitFor(() => proxy.connections().length === 0, 3000, 'entry removed');
  });

  it('passes response trailers; request trailers are dropped (undici cannot send them to an HTTP/1.1 backend)', async () => {
    let seenTrailers: NodeJS.Dict<string> | undefined;
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      req.on('end', () => {
        seenTrailers = req.trailers;
        r.writeHead(200, { Trailer: 'x-checksum', 'Transfer-Encoding': 'chunked' });
        r.write('part');
        r.addTrailers({ 'x-checksum': 'abc123' });
        r.end();
      });
    });
    const { url } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const r = await h2Request(session, { method: 'POST', body: undefined, trailers: { 'x-client-trailer': 't' } });
    expect(r.status).toBe(200);
    expect(r.body.toString()).toBe('part');
    expect(r.trailers?.['x-checksum']).toBe('abc123');
    expect(seenTrailers).toEqual({});
  });

  it('hides backend metadata headers and trailers on HTTP/2 as on HTTP/1.1', async () => {
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      r.writeHead(200, { Server: 'gunicorn/20', 'X-Powered-By': 'PHP/8', 'Transfer-Encoding': 'chunked', Trailer: 'Server-Timing, X-Powered-By' });
      r.write('x');
      r.addTrailers({ 'Server-Timing': 'db;dur=53', 'X-Powered-By': 'PHP/8' });
      r.end();
    });
    const { url } = await start({ backends: [backend.url], server: 'switchboard' });
    const session = await openH2(res, url, pki);
    const r = await h2Request(session);
    expect(r.headers['server']).toBe('switchboard');
    expect(r.headers['x-powered-by']).toBeUndefined();
    expect(r.trailers?.['x-powered-by']).toBeUndefined();
  });

  it('joins split Cookie fields into one Cookie header for the HTTP/1.1 backend', async () => {
    const backend = await echoBackend(res, 'a');
    const { url } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const r = await h2Request(session, { headers: { cookie: ['a=1', 'b=2'] } });
    const seen = JSON.parse(r.body.toString()) as { rawHeaders: string[] };
    const cookies = seen.rawHeaders.filter((_, i) => i % 2 === 1 && seen.rawHeaders[i - 1]!.toLowerCase() === 'cookie');
    expect(cookies).toEqual(['a=1; b=2']);
  });

  it('makes one table entry per stream, keyed by the client ip:port and the stream id, removed when each ends', async () => {
    const release: (() => void)[] = [];
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      release.push(() => r.end('done'));
    });
    const { url, proxy } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const opened: ConnectionRecord[] = [];
    proxy.on('connectionOpen', (c) => opened.push(c));
    const pending = [h2Request(session, { path: '/1' }), h2Request(session, { path: '/2' }), h2Request(session, { path: '/3' })];
    await waitFor(() => release.length === 3, 5000, 'three requests at the backend');
    const live = proxy.connections();
    expect(live).toHaveLength(3);
    const local = (session.socket as { localPort?: number }).localPort;
    expect(new Set(live.map((c) => c.client.port))).toEqual(new Set([local]));
    expect(live.map((c) => c.stream).sort()).toEqual([1, 3, 5]);
    expect(live.every((c) => c.protocol === 'http')).toBe(true);
    for (const r of release) r();
    for (const r of await Promise.all(pending)) expect(r.body.toString()).toBe('done');
    expect(opened.map((c) => c.stream).sort()).toEqual([1, 3, 5]);
    await waitFor(() => proxy.connections().length === 0, 2000, 'entries removed');
  });

  it('drops the entry and aborts the backend request when the client resets its stream', async () => {
    let backendClosed = false;
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      r.on('close', () => (backendClosed = true));
    });
    const { url, proxy } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const stream = session.request({ ':path': '/hang' });
    stream.on('error', () => undefined);
    await waitFor(() => proxy.connections().length === 1, 3000, 'entry');
    stream.close(0x8);
    await waitFor(() => proxy.connections().length === 0 && backendClosed, 3000, 'entry removed and backend request aborted');
    expect(errors.map((e) => e.code)).toEqual(['ERR_CLIENT_ABORTED']);
  });

  it('balances streams of one connection with the strategy, routes by :authority and runs the hooks', async () => {
    const a = await echoBackend(res, 'a');
    const b = await echoBackend(res, 'b');
    const api = await echoBackend(res, 'api');
    const hooked: string[] = [];
    const { url, proxy } = await start({
      backends: [a.url, b.url],
      routes: [{ id: 'api', host: 'api.example', backends: [api.url] }],
      onRequest: (req, ctx) => {
        hooked.push(`${ctx.route}:${req.url}`);
        if (req.url === '/forbidden') return ctx.reject(403, 'no');
        return undefined;
      },
      onResponse: (head) => {
        head.setHeader('x-hooked', '1');
      },
    });
    const session = await openH2(res, url, pki);
    const ids = await Promise.all([1, 2, 3, 4].map(async (i) => (JSON.parse((await h2Request(session, { path: `/${i}` })).body.toString()) as { id: string }).id));
    expect(ids.sort()).toEqual(['a', 'a', 'b', 'b']);
    const routed = await h2Request(session, { path: '/x', headers: { ':authority': 'api.example' } });
    expect((JSON.parse(routed.body.toString()) as { id: string }).id).toBe('api');
    expect(routed.headers['x-hooked']).toBe('1');
    expect((await h2Request(session, { path: '/forbidden' })).status).toBe(403);
    expect(hooked).toEqual(expect.arrayContaining(['default:/1', 'api:/x', 'default:/forbidden']));
    // Metrics count HTTP/2 streams as the HTTP/1.1 requests they become: 2 + 2 on default (the 403 is the hook's).
    const metrics = proxy.metrics();
    expect(metrics.match(/switchboard_http_requests_total\{route="default",backend="[^"]+",status_class="2xx"\} 2/g)).toHaveLength(2);
    expect(metrics).toMatch(/switchboard_connections_opened_total\{route="api",backend="[^"]+",protocol="http"\} 1/);
  });

  it('retries an idempotent HTTP/2 request on another backend when the first is down', async () => {
    const dead = createServer();
    const deadPort = await listenLocal(res, dead);
    await new Promise<void>((r) => dead.close(() => r()));
    const live = await echoBackend(res, 'live');
    const { url } = await start({ backends: [`http://127.0.0.1:${deadPort}`, live.url], retries: 1, strategy: 'round-robin' });
    const session = await openH2(res, url, pki);
    for (let i = 0; i < 2; i++) {
      const r = await h2Request(session);
      expect(r.status).toBe(200);
      expect((JSON.parse(r.body.toString()) as { id: string }).id).toBe('live');
    }
  });

  it('serves HTTP/1.1 requests and WebSocket upgrades on the same TLS listener', async () => {
    const backend = await startBackend(res, 'a');
    const { port } = await start({ backends: [backend.url] });
    const body = await new Promise<string>((resolve, reject) => {
      const req = httpsRequest({ host: '127.0.0.1', port, path: '/h1', ca: pki.ca, servername: 'localhost', agent: false }, (r) => {
        let text = '';
        r.on('data', (c: Buffer) => (text += c.toString()));
        r.on('end', () => resolve(text));
      });
      req.on('error', reject);
      req.end();
    });
    const seen = JSON.parse(body) as { url: string; headers: Record<string, string> };
    expect(seen.url).toBe('/h1');
    expect(seen.headers['x-forwarded-proto']).toBe('https');
    // The certificate names 127.0.0.1 too; ws passes TLS options on to tls.connect.
    const ws = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: pki.ca });
    res.add(() => ws.terminate());
    await once(ws, 'open');
    ws.send('whoami');
    const [reply] = (await once(ws, 'message')) as [Buffer];
    expect(reply.toString()).toBe('a');
    ws.close();
    await once(ws, 'close');
  });

  it('counts each stream against maxConnectionsPerClient: the stream over it gets 429', async () => {
    const release: (() => void)[] = [];
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      release.push(() => r.end('ok'));
    });
    const { url } = await start({ backends: [backend.url], maxConnectionsPerClient: 2 });
    const session = await openH2(res, url, pki);
    const first = [h2Request(session, { path: '/1' }), h2Request(session, { path: '/2' })];
    await waitFor(() => release.length === 2, 3000, 'two streams at the backend');
    const third = await h2Request(session, { path: '/3' });
    expect(third.status).toBe(429);
    expect(third.headers['retry-after']).toBe('1');
    for (const r of release) r();
    expect((await Promise.all(first)).map((r) => r.status)).toEqual([200, 200]);
    expect(errors.map((e) => e.code)).toEqual(['ERR_CLIENT_LIMIT']);
  });

  it('on close() sends connected HTTP/2 clients GOAWAY and lets the request in flight finish', async () => {
    const backend = await startBackend(res, 'a', (req, r) => {
      req.resume();
      setTimeout(() => r.end('finished'), 200);
    });
    const { url, proxy } = await start({ backends: [backend.url] });
    const session = await openH2(res, url, pki);
    const goaway = once(session, 'goaway');
    const inFlight = h2Request(session, { path: '/slow' });
    await waitFor(() => proxy.connections().length === 1, 3000, 'request in flight');
    const closed = proxy.close();
    const [code] = (await goaway) as [number];
    expect(code).toBe(0);
    const r = await inFlight;
    expect(r.body.toString()).toBe('finished');
    await closed;
  });

  it('answers HEAD and 304 over HTTP/2 without a body, and logs HTTP/2 requests like any other', async () => {
    const backend = await startBackend(res, 'a', (req, r) => {
      if (req.url === '/304') r.writeHead(304, { ETag: '"x"' }).end();
      else r.writeHead(200, { 'Content-Length': '5' }).end(req.method === 'HEAD' ? undefined : 'hello');
    });
    const lines: unknown[] = [];
    const logger = { info: (line: unknown) => void lines.push(line), warn: () => undefined, error: () => undefined };
    const { url } = await start({ backends: [backend.url], logger });
    const session = await openH2(res, url, pki);
    const head = await h2Request(session, { method: 'HEAD' });
    expect([head.status, head.headers['content-length'], head.body.length]).toEqual([200, '5', 0]);
    const notModified = await h2Request(session, { path: '/304' });
    expect([notModified.status, notModified.body.length]).toEqual([304, 0]);
    await waitFor(() => lines.length === 2, 2000, 'two access lines');
    expect(lines).toEqual([expect.objectContaining({ protocol: 'http', status: 200 }), expect.objectContaining({ protocol: 'http', status: 304 })]);
  });

  it('rejects bad listen and http2 option values with ERR_INVALID_OPTION', async () => {
    const backends = ['http://127.0.0.1:9'];
    for (const http2 of [{ maxConcurrentStreams: 0 }, { maxResets: -1 }, { floodInterval: 1.5 }, { maxHeaderListSize: 2 ** 32 }, { nope: 1 }, 'yes'] as unknown as ProxyOptions['http2'][]) {
      expect(() => createProxy({ backends, http2 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }) as Error);
    }
    const proxy = createProxy({ backends });
    await expect(proxy.listen({ port: 0, http2: true })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: 'listen options.http2 needs options.tls: HTTP/2 is served over TLS only' });
    await expect(proxy.listen({ port: 0, tls: { key: pki.key, cert: pki.cert }, http2: 'yes' as unknown as boolean })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    await proxy.close();
    const behindBalancer = createProxy({ backends, proxyProtocol: true, trustProxy: ['loopback'] });
    await expect(behindBalancer.listen({ port: 0, tls: { key: pki.key, cert: pki.cert } })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION', message: 'listen options.tls cannot be combined with the proxyProtocol option yet' });
    await behindBalancer.close();
  });

  it('offers h2 and http/1.1 by ALPN and announces extended CONNECT and its limits in SETTINGS', async () => {
    const backend = await echoBackend(res, 'a');
    const { url, port } = await start({ backends: [backend.url], http2: { maxConcurrentStreams: 7, maxHeaderListSize: 20_000 } });
    const h1 = tlsConnect({ host: '127.0.0.1', port, ca: pki.ca, servername: 'localhost', ALPNProtocols: ['http/1.1'] });
    await once(h1, 'secureConnect');
    expect(h1.alpnProtocol).toBe('http/1.1');
    h1.destroy();
    const session = await openH2(res, url, pki);
    expect(session.remoteSettings).toMatchObject({ maxConcurrentStreams: 7, maxHeaderListSize: 20_000, enableConnectProtocol: true });
  });
});
