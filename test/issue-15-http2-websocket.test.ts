/**
 * Issue 15: WebSockets over HTTP/2 (RFC 8441 extended CONNECT), from Node's http2 client over TLS to real `ws`
 * backends speaking HTTP/1.1. Each spec ends with every proxy's connection table empty.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { STATUS_CODES, createServer, type IncomingMessage } from 'node:http';
import { constants } from 'node:http2';
import { join } from 'node:path';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy, type Proxy, type ProxyOptions, type SwitchboardError } from '@switchboard/proxy';
import { connectH2, h2RoundTrip, listenH2, openH2WebSocket, wsConnectHeaders, type H2WebSocket } from './helpers/h2-websocket';
import { Resources, listenLocal, startBackend, waitFor } from './helpers/servers';
import { makeTestPki } from './helpers/tls';
import { wsFrame } from './helpers/raw';
import { startCountingBackend } from './helpers/counting-backend';

const pki = makeTestPki();

describe('WebSockets over HTTP/2 (RFC 8441)', () => {
  const res = new Resources();
  const errors: SwitchboardError[] = [];
  const proxies: Proxy[] = [];

  afterEach(async () => {
    try {
      await waitFor(() => proxies.every((p) => p.connections().length === 0), 3000, 'empty tables');
    } finally {
      proxies.length = 0;
      errors.length = 0;
      await res.cleanup();
    }
  });

  /** A proxy behind an HTTP/2 TLS front; its errors are collected and its table checked after the spec. */
  async function start(options: ProxyOptions): Promise<{ proxy: Proxy; port: number }> {
    const proxy = createProxy(options);
    proxy.on('error', (e) => errors.push(e));
    proxies.push(proxy);
    const port = await listenH2(res, proxy, pki);
    return { proxy, port };
  }

  /** A valid extended CONNECT on a new session; expects the WebSocket to open. */
  async function openWs(port: number, path = '/', extra: Record<string, string> = {}): Promise<H2WebSocket> {
    const session = await connectH2(res, port, pki);
    const ws = await openH2WebSocket(session, { ...wsConnectHeaders(port, path), ...extra });
    expect(ws.status).toBe(200);
    return ws;
  }

  it('advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, answers :status 200 and echoes text and binary messages', async () => {
    const backend = await startBackend(res, 'a');
    const seen: IncomingMessage[] = [];
    backend.wss.on('connection', (_s, req: IncomingMessage) => seen.push(req));
    const { proxy, port } = await start({ backends: [backend.url] });
    const ws = await openWs(port, '/chat?room=1');
    // No HTTP/1.1 handshake header leaks into the HTTP/2 answer.
    for (const name of ['upgrade', 'connection', 'sec-websocket-accept']) expect(ws.headers[name]).toBeUndefined();

    expect(await h2RoundTrip(ws, 'hello over h2')).toBe('hello over h2');
    const big = Buffer.alloc(200_000, 7);
    ws.send(big);
    const echoed = await ws.next();
    expect(echoed.kind === 'message' && echoed.binary && echoed.data.equals(big)).toBe(true);

    // The backend saw an ordinary HTTP/1.1 upgrade: the path, Host from :authority, a key of the proxy's making.
    expect(seen).toHaveLength(1);
    expect(seen[0]!.url).toBe('/chat?room=1');
    expect(seen[0]!.headers.host).toBe(`localhost:${port}`);
    expect(seen[0]!.headers['x-forwarded-proto']).toBe('https');
    expect(seen[0]!.headers['sec-websocket-key']).toMatch(/^[+/0-9A-Za-z]{22}==$/);

    const [record] = proxy.connections();
    expect(record).toMatchObject({ protocol: 'websocket', dataPlane: 'js', stream: ws.stream.id, backend: { id: backend.url.slice('http://'.length) } });

    ws.close(1000, 'bye');
    const reply = await ws.next();
    expect(reply).toEqual({ kind: 'close', code: 1000, reason: 'bye' });
    ws.stream.end();
    expect(await ws.ended).toBe(constants.NGHTTP2_NO_ERROR);
    await waitFor(() => proxy.connections().length === 0);
    expect(errors).toEqual([]);
  });

  it('serves WebSockets over HTTP/2 on proxy.listen({ tls, http2: true }) too', async () => {
    const backend = await startBackend(res, 'a');
    const proxy = createProxy({ backends: [backend.url] });
    proxy.on('error', (e) => errors.push(e));
    proxies.push(proxy);
    const { port } = await proxy.listen({ port: 0, host: '127.0.0.1', tls: { cert: pki.cert, key: pki.key }, http2: true });
    res.add(() => proxy.close());
    const ws = await openWs(port);
    expect(await h2RoundTrip(ws, 'whoami')).toBe('a');
    ws.stream.close(constants.NGHTTP2_CANCEL);
  });

  it('keeps HTTP/1.1 upgrades working on the same listener (allowHTTP1), next to HTTP/2 WebSockets', async () => {
    const backend = await startBackend(res, 'a');
    const { proxy, port } = await start({ backends: [backend.url] });
    const h2 = await openWs(port);
    const h1 = new WebSocket(`wss://127.0.0.1:${port}/`, { ca: pki.ca });
    res.add(() => h1.terminate());
    await once(h1, 'open');
    h1.send('over h1');
    const [echo] = (await once(h1, 'message')) as [Buffer];
    expect(echo.toString()).toBe('over h1');
    expect(await h2RoundTrip(h2, 'over h2')).toBe('over h2');
    expect(proxy.connections().map((c) => c.stream === undefined).sort()).toEqual([false, true]);
    h1.close();
    h2.stream.close(constants.NGHTTP2_CANCEL);
  });

  it('relays the subprotocol and extension the backend chose among those the client offered', async () => {
    const server = createServer();
    const wss = new WebSocketServer({ server, perMessageDeflate: true, handleProtocols: (offered) => (offered.has('v2.chat') ? 'v2.chat' : false) });
    wss.on('connection', (s) => s.on('message', (m, binary) => s.send(m, { binary })));
    const port0 = await listenLocal(res, server, { wss });
    const { port } = await start({ backends: [`http://127.0.0.1:${port0}`] });
    const ws = await openWs(port, '/', { 'sec-websocket-protocol': 'v1.chat, v2.chat', 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' });
    expect(ws.headers['sec-websocket-protocol']).toBe('v2.chat');
    expect(String(ws.headers['sec-websocket-extensions'])).toMatch(/^permessage-deflate/);
    ws.close(1000);
    expect((await ws.next()).kind).toBe('close');
    ws.stream.end();
    await ws.ended;
  });

  describe('hostile extended CONNECTs get a clear status and open no backend connection', () => {
    const cases: [string, (port: number) => Record<string, string>, number, string][] = [
      ['a CONNECT without :protocol (a tunnel)', (port) => ({ ':method': 'CONNECT', ':authority': `localhost:${port}` }), 501, 'ERR_CONNECT_UNSUPPORTED'],
      ['a :protocol other than websocket', (port) => ({ ...wsConnectHeaders(port), ':protocol': 'connect-udp' }), 501, 'ERR_CONNECT_UNSUPPORTED'],
      ['sec-websocket-version 8', (port) => ({ ...wsConnectHeaders(port), 'sec-websocket-version': '8' }), 426, 'ERR_UNSUPPORTED_WS_VERSION'],
      ['no sec-websocket-version', (port) => {
        const h = wsConnectHeaders(port);
        delete h['sec-websocket-version'];
        return h;
      }, 426, 'ERR_UNSUPPORTED_WS_VERSION'],
      ['a body announced with content-length', (port) => ({ ...wsConnectHeaders(port), 'content-length': '5' }), 400, 'ERR_BAD_HANDSHAKE'],
    ];
    it.each(cases)('%s', async (_name, headers, status, code) => {
      const backend = await startCountingBackend(res, 'a');
      const { port } = await start({ backends: [backend.url] });
      const session = await connectH2(res, port, pki);
      const ws = await openH2WebSocket(session, headers(port));
      expect(ws.status).toBe(status);
      expect(await ws.body).toBe(`${status} ${STATUS_CODES[status]}\n`);
      expect(ws.headers['connection']).toBeUndefined();
      if (status === 426) expect(ws.headers['sec-websocket-version']).toBe('13');
      expect(errors.map((e) => e.code)).toEqual([code]);
      expect(backend.connections).toBe(0);
      // The session itself is fine: a valid WebSocket opens on it next.
      const ok = await openH2WebSocket(session, wsConnectHeaders(port));
      expect(ok.status).toBe(200);
      ok.stream.close(constants.NGHTTP2_CANCEL);
    });

    it('an HTTP/1.1 CONNECT on the same listener (allowHTTP1) is closed unanswered, as Node does', async () => {
      const backend = await startCountingBackend(res, 'a');
      const { port } = await start({ backends: [backend.url] });
      const socket = tlsConnect({ port, host: '127.0.0.1', servername: 'localhost', ca: pki.ca, ALPNProtocols: ['http/1.1'] });
      res.add(() => {
        socket.destroy();
      });
      await once(socket, 'secureConnect');
      expect(socket.alpnProtocol).toBe('http/1.1');
      const received: Buffer[] = [];
      socket.on('data', (c: Buffer) => received.push(c));
      socket.on('error', () => undefined);
      socket.write('CONNECT backend.internal:443 HTTP/1.1\r\nHost: backend.internal:443\r\n\r\n');
      await once(socket, 'close');
      expect(Buffer.concat(received).length).toBe(0);
      expect(backend.connections).toBe(0);
    });

    it('applies allowedOrigins (403) and onRequest ctx.reject() as for an HTTP/1.1 upgrade', async () => {
      const backend = await startCountingBackend(res, 'a');
      const { port } = await start({
        backends: [backend.url],
        allowedOrigins: ['https://app.example'],
        onRequest: (req, ctx) => {
          if (req.headers['authorization'] === undefined) ctx.reject(401, 'token required\n');
        },
      });
      const session = await connectH2(res, port, pki);
      const forbidden = await openH2WebSocket(session, { ...wsConnectHeaders(port), origin: 'https://evil.example', authorization: 'x' });
      expect(forbidden.status).toBe(403);
      const anonymous = await openH2WebSocket(session, { ...wsConnectHeaders(port), origin: 'https://app.example' });
      expect([anonymous.status, await anonymous.body]).toEqual([401, 'token required\n']);
      expect(backend.connections).toBe(0);
      const ok = await openH2WebSocket(session, { ...wsConnectHeaders(port), origin: 'https://app.example', authorization: 'x' });
      expect(ok.status).toBe(200);
      expect(await h2RoundTrip(ok, 'let in')).toBe('let in');
      ok.stream.close(constants.NGHTTP2_CANCEL);
    });

    it("relays a backend's refusal with its status and its chunked body decoded", async () => {
      const server = createServer();
      server.on('upgrade', (_req, socket: Duplex) => {
        socket.end('HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n5\r\nnope!\r\n8\r\n go away\r\n0\r\n\r\n');
      });
      const port0 = await listenLocal(res, server);
      const { port } = await start({ backends: [`http://127.0.0.1:${port0}`] });
      const session = await connectH2(res, port, pki);
      const ws = await openH2WebSocket(session, wsConnectHeaders(port));
      expect(ws.status).toBe(403);
      expect(ws.headers['content-type']).toBe('text/plain');
      expect(ws.headers['transfer-encoding']).toBeUndefined();
      expect(await ws.body).toBe('nope! go away');
    });
  });

  describe('ends', () => {
    it('a client RST_STREAM ends the backend connection and the table entry; the session goes on', async () => {
      const backend = await startBackend(res, 'a');
      const { proxy, port } = await start({ backends: [backend.url] });
      const session = await connectH2(res, port, pki);
      const serverSide = once(backend.wss, 'connection') as Promise<[WebSocket]>;
      const ws = await openH2WebSocket(session, wsConnectHeaders(port));
      const [server] = await serverSide;
      const serverClosed = once(server, 'close');
      expect(await h2RoundTrip(ws, 'x')).toBe('x');
      ws.stream.close(constants.NGHTTP2_CANCEL);
      const [code] = (await serverClosed) as [number];
      expect(code).toBe(1006);
      await waitFor(() => proxy.connections().length === 0);
      expect(errors.map((e) => e.code)).toEqual(['ERR_CLIENT_RESET']);
      const again = await openH2WebSocket(session, wsConnectHeaders(port));
      expect(await h2RoundTrip(again, 'still here')).toBe('still here');
      again.stream.close(constants.NGHTTP2_CANCEL);
    });

    it('a destroyed client session ends all its WebSocket streams and their backend connections', async () => {
      const backend = await startBackend(res, 'a');
      const { proxy, port } = await start({ backends: [backend.url] });
      const session = await connectH2(res, port, pki);
      const streams = await Promise.all(Array.from({ length: 5 }, () => openH2WebSocket(session, wsConnectHeaders(port))));
      await Promise.all(streams.map((ws) => h2RoundTrip(ws, 'up')));
      expect(proxy.connections()).toHaveLength(5);
      const serverCloses = [...backend.wss.clients].map((c) => once(c, 'close'));
      session.destroy();
      await Promise.all(serverCloses);
      await waitFor(() => proxy.connections().length === 0);
      expect(backend.wss.clients.size).toBe(0);
    });

    it("a quiet WebSocket outlives http2.idleTimeout, as a quiet HTTP/1.1 WebSocket lives on; the session idles out after it", async () => {
      const a = await startBackend(res, 'a');
      const { proxy, port } = await start({ backends: [a.url], http2: { idleTimeout: 300 } });
      const session = await connectH2(res, port, pki);
      const closed = once(session, 'close');
      const ws = await openH2WebSocket(session, wsConnectHeaders(port));
      await new Promise((r) => setTimeout(r, 1000));
      expect(await h2RoundTrip(ws, 'still open')).toBe('still open');
      ws.close(1000);
      expect((await ws.next()).kind).toBe('close');
      ws.stream.end();
      await ws.ended;
      await waitFor(() => proxy.connections().length === 0);
      // With no WebSocket left, the session's own idle timeout applies again.
      await closed;
    });

    it('drain sends 1012 on the stream, then END_STREAM', async () => {
      const a = await startBackend(res, 'a');
      const { proxy, port } = await start({ backends: [{ url: a.url, id: 'a' }] });
      const ws = await openWs(port);
      expect(await h2RoundTrip(ws, 'x')).toBe('x');
      const drained = proxy.drain('a', { timeout: 2000 });
      expect(await ws.next()).toEqual({ kind: 'close', code: 1012, reason: 'backend draining' });
      ws.close(1012);
      ws.stream.end();
      await drained;
      await ws.ended;
      expect(ws.serverEnded()).toBe(true);
    });

    it('proxy.close() sends 1001 on the stream', async () => {
      const a = await startBackend(res, 'a');
      const { proxy, port } = await start({ backends: [a.url] });
      const ws = await openWs(port);
      expect(await h2RoundTrip(ws, 'x')).toBe('x');
      const closing = proxy.close({ timeout: 2000 });
      expect(await ws.next()).toEqual({ kind: 'close', code: 1001, reason: 'proxy shutting down' });
      ws.close(1001);
      ws.stream.end();
      await closing;
      await ws.ended;
    });

    it('a SIGKILLed backend gets its streams a 1011 close frame, then END_STREAM', async () => {
      const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'ws-echo-backend.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
      res.add(() => {
        if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      });
      const [line] = (await once(child.stdout!, 'data')) as [Buffer];
      const { port } = await start({ backends: [`http://127.0.0.1:${line.toString().trim()}`] });
      const session = await connectH2(res, port, pki);
      const streams = await Promise.all(Array.from({ length: 3 }, () => openH2WebSocket(session, wsConnectHeaders(port))));
      await Promise.all(streams.map((ws) => h2RoundTrip(ws, 'alive')));
      child.kill('SIGKILL');
      for (const ws of streams) {
        expect(await ws.next()).toEqual({ kind: 'close', code: 1011, reason: '' });
        ws.stream.end();
        await ws.ended;
        expect(ws.serverEnded()).toBe(true);
      }
      // Each report follows its stream's teardown, once the client's END_STREAM came.
      await waitFor(() => errors.length === 3);
      expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ERR_BACKEND_RESET']));
    });

    it('a message over maxFramePayload closes both sides with 1009', async () => {
      const a = await startBackend(res, 'a');
      const serverSide = once(a.wss, 'connection') as Promise<[WebSocket]>;
      const { port } = await start({ backends: [a.url], maxFramePayload: 1024 });
      const ws = await openWs(port);
      const [server] = await serverSide;
      const serverClosed = once(server, 'close');
      ws.send(Buffer.alloc(1024));
      expect((await ws.next()).kind).toBe('message');
      ws.send(Buffer.alloc(1025));
      expect(await ws.next()).toEqual({ kind: 'close', code: 1009, reason: 'message too big' });
      const [code] = (await serverClosed) as [number];
      expect(code).toBe(1009);
      ws.close(1009);
      ws.stream.end();
      await ws.ended;
      await waitFor(() => errors.length > 0);
      expect(errors.map((e) => e.code)).toEqual(['ERR_MESSAGE_TOO_BIG']);
    });
  });

  describe('backpressure', () => {
    const MiB = 1024 * 1024;
    // Live memory, not garbage: a full collection before each reading (jest runs without --expose-gc).
    setFlagsFromString('--expose-gc');
    const collect = runInNewContext('gc') as () => void;
    const liveBytes = (): number => {
      collect();
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    /** Resolves once `progress()` has not moved for `quietMs`, with its last value; gives up after `maxMs`. */
    async function stalled(progress: () => number, quietMs = 500, maxMs = 8000): Promise<number> {
      const began = Date.now();
      let last = -1;
      let since = Date.now();
      while (Date.now() - began < maxMs) {
        const now = progress();
        if (now !== last) {
          last = now;
          since = Date.now();
        } else if (Date.now() - since >= quietMs) return now;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`still moving after ${maxMs} ms: ${last} bytes`);
    }

    it('a client that never reads its stream stops the backend: at most 16 MiB of 64 MiB leave it', async () => {
      const a = await startBackend(res, 'a');
      let sent = 0;
      let server: WebSocket | undefined;
      a.wss.on('connection', (s) => {
        server = s;
        const chunk = Buffer.alloc(64 * 1024, 1);
        const pump = (): void => {
          // Queues only while the backend socket takes the bytes: what it could not hand on stays counted in bufferedAmount.
          while (s.readyState === s.OPEN && s.bufferedAmount < MiB && sent < 64 * MiB) {
            s.send(chunk);
            sent += chunk.length;
          }
          if (sent < 64 * MiB && s.readyState === s.OPEN) setTimeout(pump, 5);
        };
        pump();
      });
      const { proxy, port } = await start({ backends: [a.url] });
      const before = liveBytes();
      const session = await connectH2(res, port, pki);
      const ws = await openH2WebSocket(session, wsConnectHeaders(port));
      ws.stream.pause();
      const left = await stalled(() => sent - (server?.bufferedAmount ?? 0));
      const relayed = proxy.connections()[0]!.bytesOut;
      // Live memory of the whole test process (proxy, backend and client), after a full collection.
      const grown = liveBytes() - before;
      expect(left).toBeLessThan(16 * MiB);
      expect(relayed).toBeLessThan(16 * MiB);
      expect(grown).toBeLessThan(16 * MiB);
      // Reading again lets it flow on.
      ws.stream.resume();
      await waitFor(() => sent - (server?.bufferedAmount ?? 0) > left + 4 * MiB, 5000, 'the backend to send more');
      session.destroy();
    });

    it('a backend that never reads stops the client: at most 16 MiB of 64 MiB leave the client', async () => {
      const a = await startBackend(res, 'a');
      a.wss.on('connection', (s) => s.pause());
      const { port } = await start({ backends: [a.url] });
      const session = await connectH2(res, port, pki);
      const ws = await openH2WebSocket(session, wsConnectHeaders(port));
      const frame = wsFrame(0x2, Buffer.alloc(64 * 1024, 2));
      let flushed = 0;
      const pump = (): void => {
        while (flushed < 64 * MiB) {
          const ok = ws.stream.write(frame);
          flushed += frame.length;
          if (!ok) {
            // Counted once the stream takes it, as 'drain' says.
            flushed -= frame.length;
            ws.stream.once('drain', () => {
              flushed += frame.length;
              pump();
            });
            return;
          }
        }
      };
      pump();
      const out = await stalled(() => flushed);
      expect(out).toBeLessThan(16 * MiB);
      session.destroy();
    });
  });

  describe('many WebSocket streams on one client connection', () => {
    it.each(['round-robin', 'least-connections'] as const)('are spread over the backends by %s', async (strategy) => {
      const backends = await Promise.all(['a', 'b', 'c'].map((id) => startBackend(res, id)));
      const { proxy, port } = await start({ backends: backends.map((b) => ({ url: b.url, id: b.id })), strategy });
      const session = await connectH2(res, port, pki);
      const streams: H2WebSocket[] = [];
      for (let i = 0; i < 9; i++) streams.push(await openH2WebSocket(session, wsConnectHeaders(port)));
      const ids = await Promise.all(streams.map((ws) => h2RoundTrip(ws, 'whoami')));
      expect(ids.sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b', 'c', 'c', 'c']);
      // One entry per stream, all from the same client ip:port, told apart by stream id.
      const records = proxy.connections();
      expect(new Set(records.map((r) => `${r.client.address}:${r.client.port}`)).size).toBe(1);
      expect(records.map((r) => r.stream).sort()).toEqual(streams.map((ws) => ws.stream.id).sort());
      session.destroy();
    });

    it('are bounded by http2.maxWebSocketStreams per connection: the excess gets 429, the others go on', async () => {
      const a = await startCountingBackend(res, 'a');
      const { proxy, port } = await start({ backends: [a.url], http2: { maxWebSocketStreams: 2 } });
      const session = await connectH2(res, port, pki);
      const first = await openH2WebSocket(session, wsConnectHeaders(port));
      const second = await openH2WebSocket(session, wsConnectHeaders(port));
      const third = await openH2WebSocket(session, wsConnectHeaders(port));
      expect([first.status, second.status, third.status]).toEqual([200, 200, 429]);
      expect(third.headers['retry-after']).toBe('1');
      expect(errors.map((e) => e.code)).toEqual(['ERR_WEBSOCKET_STREAM_LIMIT']);
      expect(a.connections).toBe(2);
      expect(await h2RoundTrip(first, 'one')).toBe('one');
      // Another connection has its own budget; a closed stream gives its slot back.
      const other = await connectH2(res, port, pki);
      expect((await openH2WebSocket(other, wsConnectHeaders(port))).status).toBe(200);
      first.stream.close(constants.NGHTTP2_CANCEL);
      await first.ended;
      await waitFor(() => proxy.connections().length === 2);
      const fourth = await openH2WebSocket(session, wsConnectHeaders(port));
      expect(fourth.status).toBe(200);
      session.destroy();
      other.destroy();
    });

    it('rapid reset of extended CONNECTs trips the flood guard (ERR_HTTP2_FLOOD), and every backend connection they started ends', async () => {
      const a = await startCountingBackend(res, 'a');
      const { proxy, port } = await start({ backends: [a.url], http2: { maxResets: 20 } });
      const session = await connectH2(res, port, pki);
      for (let i = 0; i < 200 && errors.every((e) => e.code !== 'ERR_HTTP2_FLOOD'); i++) {
        const stream = session.request(wsConnectHeaders(port), { endStream: false });
        stream.on('error', () => undefined);
        stream.close(constants.NGHTTP2_CANCEL);
        if (i % 10 === 9) await new Promise((r) => setImmediate(r));
      }
      await waitFor(() => errors.some((e) => e.code === 'ERR_HTTP2_FLOOD'), 3000, 'the flood report');
      await waitFor(() => proxy.connections().length === 0 && a.open.size === 0, 3000, 'no connection left');
      // At most one backend connection per reset the guard allowed (most resets land before the backend connect).
      expect(a.connections).toBeLessThanOrEqual(21);
      session.destroy();
    });

    it('rejects a bad maxWebSocketStreams at createProxy', () => {
      expect(() => createProxy({ backends: ['http://127.0.0.1:1'], http2: { maxWebSocketStreams: 0 } })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: expect.stringMatching(/^options.http2.maxWebSocketStreams must be a positive integer/) }),
      );
    });
  });
});
