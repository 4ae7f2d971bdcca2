/**
 * Abuse limits through the proxy: WebSocket message limits on the splice (1009 both ways), per-client connection
 * and upgrade-rate limits (429 + Retry-After), and allowedOrigins (403), with real `ws` clients and servers.
 */
import { once } from 'node:events';
import { randomBytes } from 'node:crypto';
import { WebSocket, type WebSocketServer } from 'ws';
import { connect } from 'node:net';
import { httpRequest } from './helpers/http';
import { WS_HEADERS, afterHead, firstCloseCode, head, wsFrame } from './helpers/raw';
import { startCountingBackend } from './helpers/counting-backend';
import { proxySuite, expectRefusal, openWs, startBackend, waitFor } from './helpers/servers';

/** What one side of a WebSocket saw: its close code and reason, and every 'error' event. */
interface Observed {
  code: number | undefined;
  reason: string;
  errors: Error[];
  closed: Promise<void>;
}

function observe(ws: WebSocket): Observed {
  const seen: Observed = { code: undefined, reason: '', errors: [], closed: Promise.resolve() };
  ws.on('error', (e) => seen.errors.push(e));
  seen.closed = new Promise((resolve) =>
    ws.once('close', (code: number, reason: Buffer) => {
      seen.code = code;
      seen.reason = reason.toString();
      resolve();
    }),
  );
  return seen;
}

/** Resolves with the Observed of the next server-side socket the backend accepts. */
function nextServerSide(wss: WebSocketServer): Promise<{ ws: WebSocket; seen: Observed }> {
  return new Promise((resolve) => wss.once('connection', (ws: WebSocket) => resolve({ ws, seen: observe(ws) })));
}

describe('abuse limits through the proxy', () => {
  // Every test ends by checking that the proxies' tables are empty.
  const { res, errors, start: startProxy } = proxySuite();

  describe('WebSocket message limits (maxFramePayload, maxMessageSize)', () => {
    // Compression would shrink the wire frames the limits count; these tests measure uncompressed frames.
    const plainWs = { perMessageDeflate: false } as const;

    it('relays frames up to maxFramePayload; a bigger client frame closes both sides with 1009, cleanly', async () => {
      const backend = await startBackend(res, 'a');
      const { wsUrl } = await startProxy({ backends: [backend.url], maxFramePayload: 1024 });
      const serverSide = nextServerSide(backend.wss);
      const ws = await openWs(res, wsUrl, plainWs);
      const client = observe(ws);
      const { seen: server } = await serverSide;

      const exact = randomBytes(1024);
      ws.send(exact);
      const [echo] = (await once(ws, 'message')) as [Buffer];
      expect(echo.equals(exact)).toBe(true);

      ws.send(randomBytes(1025));
      await Promise.all([client.closed, server.closed]);
      expect([client.code, client.reason]).toEqual([1009, 'message too big']);
      expect([server.code, server.reason]).toEqual([1009, 'message too big']);
      // ws parses the proxy's close frames without complaint on either side.
      expect(client.errors).toEqual([]);
      expect(server.errors).toEqual([]);
      // The report follows the relay's end, which may reach JS after both peers saw their close (native plane).
      await waitFor(() => errors.length > 0, 3000, 'the error report');
      expect(errors.map((e) => e.code)).toEqual(['ERR_MESSAGE_TOO_BIG']);
    });

    it('the oversized frame never reaches the backend, not one payload byte of it', async () => {
      const backend = await startCountingBackend(res, 'a');
      const received: number[] = [];
      backend.inner.wss.on('connection', (s) => s.on('message', (m: Buffer) => received.push(m.length)));
      const { wsUrl } = await startProxy({ backends: [backend.url], maxFramePayload: 100 });
      const ws = await openWs(res, wsUrl, plainWs);
      const client = observe(ws);
      ws.send(Buffer.alloc(100));
      await once(ws, 'message');
      ws.send(Buffer.alloc(64 * 1024));
      await client.closed;
      expect(client.code).toBe(1009);
      expect(received).toEqual([100]);
      // The handshake, one 100-byte frame and a close frame: nothing of the 64 KiB payload.
      expect(backend.bytes).toBeLessThan(1024);
    });

    // Proxy bug, left for the core (splice.ts #tooBig): the 1009 is only sent when the chunk that carries the
    // oversized frame's header began at a frame boundary. When an earlier frame straddled two TCP reads, the next
    // chunk starts mid-frame, so both sockets are destroyed instead: the client gets no close frame (1006), the
    // backend sees 1006, and the tail of the earlier, valid frame is dropped too. Expected: relay up to the
    // oversized frame's header (a boundary), then 1009 both ways, as when the chunk starts at a boundary.
    it('closes with 1009 both ways even when the oversized frame starts in a chunk that began mid-frame', async () => {
      const backend = await startBackend(res, 'a');
      const backendCodes: number[] = [];
      const received: number[] = [];
      backend.wss.on('connection', (s) => {
        s.on('error', () => undefined);
        s.on('close', (code: number) => backendCodes.push(code));
        s.on('message', (m: Buffer) => received.push(m.length));
      });
      const { port } = await startProxy({ backends: [backend.url], maxFramePayload: 1000 });
      const socket = connect(port, '127.0.0.1');
      socket.setNoDelay(true);
      socket.on('error', () => undefined);
      res.add(() => {
        socket.destroy();
      });
      const chunks: Buffer[] = [];
      socket.on('data', (c: Buffer) => chunks.push(c));
      socket.write(head('GET / HTTP/1.1', 'Host: 127.0.0.1', ...WS_HEADERS));
      await once(socket, 'data');
      const valid = wsFrame(0x2, Buffer.alloc(500));
      const oversized = wsFrame(0x2, Buffer.alloc(5000));
      socket.write(valid.subarray(0, 100));
      await new Promise((r) => setTimeout(r, 50));
      // This chunk starts in the middle of `valid`; the oversized frame's header is whole inside it.
      socket.write(Buffer.concat([valid.subarray(100), oversized]));
      await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, 1500))]);
      await waitFor(() => backendCodes.length === 1);
      expect(received).toEqual([500]);
      expect(firstCloseCode(afterHead(Buffer.concat(chunks)))).toBe(1009);
      expect(backendCodes).toEqual([1009]);
    });

    it('sums fragments against maxMessageSize: a fragmented message under it passes, over it closes with 1009', async () => {
      const backend = await startBackend(res, 'a');
      const { wsUrl } = await startProxy({ backends: [backend.url], maxMessageSize: 4096 });
      const serverSide = nextServerSide(backend.wss);
      const ws = await openWs(res, wsUrl, plainWs);
      const client = observe(ws);
      const { seen: server } = await serverSide;

      const parts = [randomBytes(1500), randomBytes(1500), randomBytes(1096)];
      ws.send(parts[0], { fin: false });
      ws.send(parts[1], { fin: false });
      ws.send(parts[2], { fin: true });
      const [echo] = (await once(ws, 'message')) as [Buffer];
      expect(echo.equals(Buffer.concat(parts))).toBe(true);

      // Each fragment is small; their sum is not.
      ws.send(randomBytes(2000), { fin: false });
      ws.send(randomBytes(2000), { fin: false });
      ws.send(randomBytes(2000), { fin: true });
      await Promise.all([client.closed, server.closed]);
      expect([client.code, server.code]).toEqual([1009, 1009]);
      expect(client.errors).toEqual([]);
      expect(server.errors).toEqual([]);
    });

    it('applies the same limits to the backend: a backend message over the limit closes both sides with 1009', async () => {
      const backend = await startBackend(res, 'a');
      backend.wss.on('connection', (s) =>
        s.on('message', (m: Buffer) => {
          const size = Number(m.toString());
          if (Number.isInteger(size)) s.send(randomBytes(size));
        }),
      );
      const { wsUrl } = await startProxy({ backends: [backend.url], maxFramePayload: 2048, maxMessageSize: 2048 });
      const serverSide = nextServerSide(backend.wss);
      const ws = await openWs(res, wsUrl, plainWs);
      const client = observe(ws);
      const { seen: server } = await serverSide;
      const got: number[] = [];
      ws.on('message', (m: Buffer) => got.push(m.length));

      ws.send('2048');
      await waitFor(() => got.includes(2048));
      ws.send('5000');
      await Promise.all([client.closed, server.closed]);
      expect([client.code, server.code]).toEqual([1009, 1009]);
      expect(got.filter((n) => n > 2048)).toEqual([]);
      expect(client.errors).toEqual([]);
      expect(server.errors).toEqual([]);
    });

    it('counts wire bytes: with permessage-deflate a compressible message bigger than the limit passes', async () => {
      // A documented caveat, not a goal: the proxy does not inflate, so the decompressed size is the backend's
      // own limit to enforce (ws maxPayload).
      const backend = await startBackend(res, 'a');
      const { wsUrl } = await startProxy({ backends: [backend.url], maxFramePayload: 1024 });
      const ws = await openWs(res, wsUrl, { perMessageDeflate: true });
      expect(ws.extensions).toContain('permessage-deflate');
      const text = 'a'.repeat(100_000);
      ws.send(text);
      const [echo] = (await once(ws, 'message')) as [Buffer];
      expect(echo.toString()).toBe(text);
      ws.close();
    });

    it('leaves control frames alone: pings and pongs still flow under a small limit', async () => {
      const backend = await startBackend(res, 'a');
      const { wsUrl } = await startProxy({ backends: [backend.url], maxFramePayload: 16, maxMessageSize: 16 });
      const ws = await openWs(res, wsUrl, plainWs);
      const pong = once(ws, 'pong');
      ws.ping(Buffer.alloc(16, 1));
      const [data] = (await pong) as [Buffer];
      expect(data.length).toBe(16);
      ws.close();
    });
  });

  describe('maxConnectionsPerClient', () => {
    it('answers the third concurrent upgrade from one client with 429 and Retry-After; a closed slot is given back', async () => {
      const backend = await startBackend(res, 'a');
      let backendUpgrades = 0;
      backend.server.prependListener('upgrade', () => backendUpgrades++);
      const { wsUrl, url, proxy } = await startProxy({ backends: [backend.url], maxConnectionsPerClient: 2 });
      const first = await openWs(res, wsUrl);
      await openWs(res, wsUrl);
      const refused = await expectRefusal(wsUrl);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect(refused.body).toBe('429 Too Many Requests\n');
      expect(backendUpgrades).toBe(2);
      // A plain HTTP request holds a slot too while it is in flight.
      expect((await httpRequest(`${url}/`)).status).toBe(429);
      expect(proxy.connections()).toHaveLength(2);

      first.close();
      await waitFor(() => proxy.connections().length === 1);
      const again = await openWs(res, wsUrl);
      expect(again.readyState).toBe(WebSocket.OPEN);
      expect(errors.map((e) => e.code)).toEqual(['ERR_CLIENT_LIMIT', 'ERR_CLIENT_LIMIT']);
      for (const ws of [...backend.wss.clients]) ws.close();
    });

    it('counts per resolved client: another client behind a trusted balancer is not affected', async () => {
      const backend = await startBackend(res, 'a');
      const { wsUrl } = await startProxy({ backends: [backend.url], maxConnectionsPerClient: 1, trustProxy: ['loopback'] });
      const as = (ip: string) => ({ headers: { 'X-Forwarded-For': ip } });
      await openWs(res, wsUrl, as('203.0.113.1'));
      expect((await expectRefusal(wsUrl, as('203.0.113.1'))).status).toBe(429);
      await openWs(res, wsUrl, as('203.0.113.2'));
      for (const ws of [...backend.wss.clients]) ws.close();
    });
  });

  describe('upgradeRate', () => {
    it('answers the third quick upgrade with 429 (burst 2), refills at perSecond, and spends no token on plain HTTP', async () => {
      const backend = await startBackend(res, 'a');
      const { wsUrl, url } = await startProxy({ backends: [backend.url], upgradeRate: { perSecond: 1, burst: 2 } });
      (await openWs(res, wsUrl)).close();
      (await openWs(res, wsUrl)).close();
      const refused = await expectRefusal(wsUrl);
      expect(refused.status).toBe(429);
      expect(refused.headers['retry-after']).toBe('1');
      expect((await httpRequest(`${url}/`)).status).toBe(200);
      await new Promise((r) => setTimeout(r, 1050));
      const ws = await openWs(res, wsUrl);
      ws.close();
      expect((await expectRefusal(wsUrl)).status).toBe(429);
    });
  });

  describe('allowedOrigins', () => {
    const allowedOrigins = ['https://app.example.com', 'https://*.example.org'];

    it.each([
      ['another site', 'https://evil.example', 403],
      ['the allowed host over http', 'http://app.example.com', 403],
      ['a look-alike suffix', 'https://app.example.com.evil.example', 403],
      ['the bare domain of a wildcard', 'https://example.org', 403],
      ['an opaque origin (sandboxed page, file:)', 'null', 403],
      ['the exact allowed origin', 'https://app.example.com', 101],
      ['the allowed origin with its default port', 'https://app.example.com:443', 101],
      ['a subdomain of a wildcard', 'https://a.b.example.org', 101],
    ])('Origin from %s (%s): %s', async (_name, origin, expected) => {
      const backend = await startBackend(res, 'a');
      let backendUpgrades = 0;
      backend.server.prependListener('upgrade', () => backendUpgrades++);
      const { wsUrl } = await startProxy({ backends: [backend.url], allowedOrigins });
      if (expected === 403) {
        const refused = await expectRefusal(wsUrl, { origin });
        expect(refused.status).toBe(403);
        expect(refused.body).toBe('403 Forbidden\n');
        expect(backendUpgrades).toBe(0);
      } else {
        const ws = await openWs(res, wsUrl, { origin });
        ws.close();
        expect(backendUpgrades).toBe(1);
      }
    });

    it('lets a handshake without Origin through (a non-browser client), unless requireOrigin is set', async () => {
      const backend = await startBackend(res, 'a');
      const open = await startProxy({ backends: [backend.url], allowedOrigins });
      (await openWs(res, open.wsUrl)).close();
      const strict = await startProxy({ backends: [backend.url], allowedOrigins, requireOrigin: true });
      expect((await expectRefusal(strict.wsUrl)).status).toBe(403);
      (await openWs(res, strict.wsUrl, { origin: 'https://app.example.com' })).close();
    });

    it('does not check Origin on plain HTTP requests (CORS is the application\u2019s business)', async () => {
      const backend = await startBackend(res, 'a');
      const { url } = await startProxy({ backends: [backend.url], allowedOrigins, requireOrigin: true });
      expect((await httpRequest(`${url}/`, { headers: { Origin: 'https://evil.example' } })).status).toBe(200);
    });
  });
});
