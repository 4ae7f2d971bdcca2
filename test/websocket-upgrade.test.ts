import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy, type SwitchboardError } from '@switchboard/proxy';
import { Resources, expectRefusal, listenLocal, openWs, roundTrip, startBackend, startProxy, waitFor } from './helpers/servers';

const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Sends raw bytes to the proxy and resolves with everything it answers until it closes. */
async function rawExchange(port: number, payload: string | Buffer, timeoutMs = 3000): Promise<string> {
  const socket = connect(port, '127.0.0.1');
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.write(payload);
  await Promise.race([once(socket, 'close'), new Promise((r) => setTimeout(r, timeoutMs))]);
  socket.destroy();
  return Buffer.concat(chunks).toString('latin1');
}

function handshake(lines: string[]): string {
  return ['GET /ws HTTP/1.1', 'Host: 127.0.0.1', ...lines, '', ''].join('\r\n');
}

/** A backend that accepts TCP and reads the upgrade but never answers it. */
async function silentBackend(res: Resources): Promise<{ url: string; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer();
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume(); // read (and discard) so a FIN from the proxy is noticed
    socket.on('end', () => socket.destroy());
    socket.on('close', () => sockets.delete(socket));
  });
  return { url: `http://127.0.0.1:${await listenLocal(res, server, { sockets })}`, sockets };
}

describe('WebSocket upgrade', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  describe('handshake validation (before any backend is contacted)', () => {
    it.each([
      ['no Sec-WebSocket-Key', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Version: 13'], 400],
      ['a key that is not 16 bytes of base64', ['Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: c2hvcnQ=', 'Sec-WebSocket-Version: 13'], 400],
      ['Connection without upgrade', ['Upgrade: websocket', 'Connection: keep-alive, Upgrade-ish', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'], 400],
      ['an Upgrade other than websocket', ['Upgrade: h2c', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'], 400],
      ['version 8', ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 8'], 426],
    ])('refuses %s', async (_name, lines, status) => {
      const backend = await startBackend(res, 'a');
      let backendUpgrades = 0;
      backend.server.prependListener('upgrade', () => backendUpgrades++);
      const { port, proxy } = await startProxy(res, { backends: [backend.url] });
      const answer = await rawExchange(port, handshake(lines));
      expect(answer.startsWith(`HTTP/1.1 ${status} `)).toBe(true);
      if (status === 426) expect(answer).toMatch(/\r\nSec-WebSocket-Version: 13\r\n/);
      // One Connection header, even where the error table also asks for close.
      expect(answer.match(/\r\nConnection: /gi)).toHaveLength(1);
      expect(backendUpgrades).toBe(0);
      expect(proxy.connections()).toHaveLength(0);
    });

    it('refuses a POST upgrade with 400', async () => {
      const backend = await startBackend(res, 'a');
      const { port } = await startProxy(res, { backends: [backend.url] });
      const answer = await rawExchange(port, handshake([]).replace('GET', 'POST').replace('\r\n\r\n', `\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\nContent-Length: 0\r\n\r\n`));
      expect(answer.startsWith('HTTP/1.1 400 ')).toBe(true);
    });
  });

  it('relays a backend refusal (401) as an HTTP response with its body, minus hidden headers', async () => {
    const backend = await startBackend(res, 'a');
    backend.wss.options.verifyClient = (_info: unknown, cb: (ok: boolean, code?: number, msg?: string, headers?: Record<string, string>) => void) =>
      cb(false, 401, 'Unauthorized', { 'WWW-Authenticate': 'Bearer', 'X-Powered-By': 'ws' });
    const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url] });
    const refusal = await expectRefusal(wsUrl);
    expect(refusal.status).toBe(401);
    expect(refusal.headers['www-authenticate']).toBe('Bearer');
    expect(refusal.headers['x-powered-by']).toBeUndefined();
    expect(refusal.body).toBe('Unauthorized');
    await waitFor(() => proxy.connections().length === 0);
  });

  it('passes subprotocols and permessage-deflate through untouched', async () => {
    const backend = await startBackend(res, 'a');
    backend.wss.options.handleProtocols = (protocols: Set<string>) => (protocols.has('chat.v2') ? 'chat.v2' : false);
    const { wsUrl } = await startProxy(res, { backends: [backend.url] });
    const ws2 = new WebSocket(wsUrl, ['chat.v1', 'chat.v2'], { perMessageDeflate: true });
    res.add(() => ws2.terminate());
    await once(ws2, 'open');
    expect(ws2.protocol).toBe('chat.v2');
    expect(ws2.extensions).toContain('permessage-deflate');
    const big = 'x'.repeat(100_000);
    ws2.send(big);
    const [echo] = (await once(ws2, 'message')) as [Buffer];
    expect(echo.toString()).toBe(big);
  });

  it('carries close codes and reasons unchanged in both directions', async () => {
    const backend = await startBackend(res, 'a');
    const backendCloses: [number, string][] = [];
    backend.wss.on('connection', (sock) => {
      sock.on('close', (code, reason) => backendCloses.push([code, reason.toString()]));
      sock.on('message', (m) => {
        if (m.toString() === 'close-me') sock.close(4002, 'server-bye');
      });
    });
    const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url] });

    const c1 = await openWs(res, wsUrl);
    c1.close(4001, 'client-bye');
    await waitFor(() => backendCloses.length === 1);
    expect(backendCloses[0]).toEqual([4001, 'client-bye']);

    const c2 = await openWs(res, wsUrl);
    const closed = once(c2, 'close');
    c2.send('close-me');
    const [code, reason] = (await closed) as [number, Buffer];
    expect([code, reason.toString()]).toEqual([4002, 'server-bye']);
    await waitFor(() => proxy.connections().length === 0);
  });

  it('forwards bytes the client sent together with the handshake (head)', async () => {
    const backend = await startBackend(res, 'a');
    const got = new Promise<string>((resolve) => backend.wss.on('connection', (s) => s.once('message', (m) => resolve(m.toString()))));
    const { port, proxy } = await startProxy(res, { backends: [backend.url] });
    // A masked text frame "early" sent in the same write as the handshake.
    const mask = Buffer.from([1, 2, 3, 4]);
    const payload = Buffer.from('early');
    const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
    const frame = Buffer.concat([Buffer.from([0x81, 0x80 | payload.length]), mask, masked]);
    const socket = connect(port, '127.0.0.1');
    res.add(() => { socket.destroy(); });
    socket.on('error', () => undefined);
    socket.write(Buffer.concat([Buffer.from(handshake(['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13'])), frame]));
    expect(await got).toBe('early');
    socket.destroy();
    await waitFor(() => proxy.connections().length === 0);
  });

  describe('failures', () => {
    it('answers 504 when the backend never answers the handshake, and leaves nothing open', async () => {
      const silent = await silentBackend(res);
      const { wsUrl, proxy } = await startProxy(res, { backends: [silent.url], handshakeTimeout: 150 });
      const errors: SwitchboardError[] = [];
      proxy.on('error', (e) => errors.push(e));
      const refusal = await expectRefusal(wsUrl);
      expect(refusal.status).toBe(504);
      expect(errors.map((e) => e.code)).toEqual(['ERR_HANDSHAKE_TIMEOUT']);
      expect(proxy.connections()).toHaveLength(0);
      await waitFor(() => silent.sockets.size === 0, 2000, 'backend socket to be closed by the proxy');
    });

    it('answers 502 when the backend closes during the handshake', async () => {
      const server = createServer();
      server.on('upgrade', (_req, socket: Socket) => socket.destroy());
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      res.add(() => new Promise<void>((r) => server.close(() => r())));
      const { wsUrl, proxy } = await startProxy(res, { backends: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`] });
      proxy.on('error', () => undefined);
      const refusal = await expectRefusal(wsUrl);
      expect(refusal.status).toBe(502);
      expect(proxy.connections()).toHaveLength(0);
    });

    it('cleans up when the client disconnects mid-handshake', async () => {
      const silent = await silentBackend(res);
      const { port, proxy } = await startProxy(res, { backends: [silent.url] });
      const reasons: (string | undefined)[] = [];
      proxy.on('connectionClose', (_c, reason) => reasons.push(reason?.code));
      const socket = connect(port, '127.0.0.1');
      socket.on('error', () => undefined);
      socket.write(handshake(['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']));
      await waitFor(() => silent.sockets.size === 1 && proxy.connections().length === 1);
      socket.destroy();
      await waitFor(() => proxy.connections().length === 0);
      await waitFor(() => silent.sockets.size === 0, 2000, 'backend side to be destroyed');
      expect(reasons).toEqual(['ERR_CLIENT_ABORTED']);
    });

    it.each([
      ['closes', (s: { close: () => void; terminate: () => void }) => s.close()],
      ['is terminated', (s: { close: () => void; terminate: () => void }) => s.terminate()],
    ])('ends the client and the entry when the backend side %s after the upgrade, with no error listener', async (_n, act) => {
      const backend = await startBackend(res, 'a');
      const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url] });
      const ws = await openWs(res, wsUrl);
      const closed = once(ws, 'close');
      const [serverSide] = [...backend.wss.clients];
      act(serverSide!);
      await closed;
      await waitFor(() => proxy.connections().length === 0);
    });

    it('ends the backend side and the entry when the client resets', async () => {
      const backend = await startBackend(res, 'a');
      const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url] });
      const ws = await openWs(res, wsUrl);
      const [serverSide] = [...backend.wss.clients];
      const serverClosed = once(serverSide!, 'close');
      (ws as unknown as { _socket: Socket })._socket.resetAndDestroy();
      await serverClosed;
      await waitFor(() => proxy.connections().length === 0);
    });

    it('destroys both sides when a peer never answers a FIN (half-close timeout)', async () => {
      const silent = new WebSocketServer({ port: 0, host: '127.0.0.1' });
      await once(silent, 'listening');
      const serverSockets: Socket[] = [];
      silent.on('connection', (_ws, req) => {
        const s = req.socket;
        serverSockets.push(s);
        s.removeAllListeners('end'); // never answer the FIN
        s.on('end', () => backendSawFin++);
      });
      let backendSawFin = 0;
      res.add(() => new Promise<void>((r) => { for (const c of silent.clients) c.terminate(); silent.close(() => r()); }));
      const { port, proxy } = await startProxy(res, { backends: [`http://127.0.0.1:${(silent.address() as AddressInfo).port}`], halfCloseTimeout: 100 });
      const socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
      socket.on('error', () => undefined);
      socket.write(handshake(['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${KEY}`, 'Sec-WebSocket-Version: 13']));
      await once(socket, 'data');
      expect(proxy.connections()).toHaveLength(1);
      socket.end(); // FIN from the client; the client never closes its side either
      const started = Date.now();
      await waitFor(() => proxy.connections().length === 0, 3000);
      expect(Date.now() - started).toBeGreaterThanOrEqual(90);
      await waitFor(() => socket.destroyed, 2000, 'the client socket to be closed by the proxy');
      expect(backendSawFin).toBe(1);
    });
  });
});

describe('close frames the proxy sends itself', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('close() sends 1001 to the client and to the backend, and both parse it cleanly', async () => {
    const backend = await startBackend(res, 'a');
    const backendCloses: number[] = [];
    const backendErrors: Error[] = [];
    backend.wss.on('connection', (s) => {
      s.on('close', (code) => backendCloses.push(code));
      s.on('error', (e) => backendErrors.push(e));
    });
    const proxy = createProxy({ backends: [backend.url] });
    const { port } = await proxy.listen({ port: 0, host: '127.0.0.1' });
    const clients = await Promise.all([1, 2, 3].map(() => openWs(res, `ws://127.0.0.1:${port}`)));
    // Traffic in flight in both directions while the proxy closes.
    for (const ws of clients) ws.send('x'.repeat(50_000));
    const closes = clients.map((ws) => {
      const errors: Error[] = [];
      ws.on('error', (e) => errors.push(e));
      return once(ws, 'close').then(([code]) => ({ code: code as number, errors }));
    });
    await proxy.close();
    const results = await Promise.all(closes);
    expect(results.map((r) => r.code)).toEqual([1001, 1001, 1001]);
    expect(results.flatMap((r) => r.errors)).toEqual([]);
    await waitFor(() => backendCloses.length === 3);
    expect(backendCloses).toEqual([1001, 1001, 1001]);
    expect(backendErrors).toEqual([]);
    expect(proxy.connections()).toHaveLength(0);
  });

  it('sends the client 1011 when the backend vanishes without a close frame', async () => {
    const backend = await startBackend(res, 'a');
    const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url] });
    const ws = await openWs(res, wsUrl);
    const closed = once(ws, 'close');
    const [serverSide] = [...backend.wss.clients];
    serverSide!.terminate();
    const [code] = (await closed) as [number];
    expect(code).toBe(1011);
    await waitFor(() => proxy.connections().length === 0);
  });

  it('treats the backend FIN that answers a client FIN as an orderly end, not a backend reset', async () => {
    // Clients that go away with a bare FIN (ws terminate(), a closed laptop lid) are common:
    // the backend's FIN that follows is its answer, so nothing failed and no error is reported.
    const backend = await startBackend(res, 'a');
    const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url] });
    const errors: SwitchboardError[] = [];
    const ends: (string | undefined)[] = [];
    proxy.on('error', (e) => errors.push(e));
    proxy.on('connectionClose', (_record, reason) => ends.push(reason?.code));
    const clients = [];
    for (let i = 0; i < 20; i++) clients.push(await openWs(res, wsUrl));
    expect(await roundTrip(clients[0]!, 'hello')).toBe('hello');
    for (const ws of clients) ws.terminate();
    await waitFor(() => proxy.connections().length === 0, 5000, 'table to empty');
    expect(ends).toHaveLength(20);
    expect(ends.filter((c) => c === 'ERR_BACKEND_RESET')).toEqual([]);
    expect(errors.map((e) => e.code).filter((c) => c === 'ERR_BACKEND_RESET')).toEqual([]);
  });
});

describe('refusals with every body framing', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it.each([
    ['Content-Length', 'HTTP/1.1 403 Forbidden\r\nContent-Length: 6\r\nServer: secret\r\n\r\ndenied'],
    ['chunked', 'HTTP/1.1 403 Forbidden\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nden\r\n3\r\nied\r\n0\r\n\r\n'],
  ])('relays a %s refusal body to the client unchanged and closes', async (_name, answer) => {
    const server = createServer();
    const upgraded = new Set<Socket>();
    server.on('upgrade', (_req, socket: Socket) => {
      upgraded.add(socket);
      socket.on('error', () => undefined);
      // The backend keeps its connection open after answering: the proxy must find the body's end itself.
      socket.write(answer);
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    res.add(() => {
      for (const s of upgraded) s.destroy();
      return new Promise<void>((r) => server.close(() => r()));
    });
    const { wsUrl, proxy } = await startProxy(res, { backends: [`http://127.0.0.1:${(server.address() as AddressInfo).port}`] });
    const refusal = await expectRefusal(wsUrl);
    expect(refusal.status).toBe(403);
    expect(refusal.body).toBe('denied');
    expect(refusal.headers['server']).toBeUndefined();
    await waitFor(() => proxy.connections().length === 0);
  });

  it('answers 502 and retries elsewhere when a backend answers the upgrade with garbage', async () => {
    const server = createServer();
    server.on('upgrade', (_req, socket: Socket) => {
      socket.on('error', () => undefined);
      socket.end('SSH-2.0-OpenSSH\r\n\r\n');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    res.add(() => new Promise<void>((r) => server.close(() => r())));
    const good = await startBackend(res, 'good');
    const { wsUrl, proxy } = await startProxy(res, {
      backends: [{ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, id: 'garbage' }, { url: good.url, id: 'good' }],
      strategy: { name: 'first', pick: (_c, candidates) => candidates[0] },
    });
    const codes: string[] = [];
    proxy.on('error', (e) => codes.push(e.code));
    const ws = await openWs(res, wsUrl);
    const [reply] = await Promise.all([once(ws, 'message'), Promise.resolve(ws.send('whoami'))]);
    expect(String(reply[0])).toBe('good');
    expect(codes).toEqual(['ERR_BACKEND_PROTOCOL']);
  });
});

describe('long-lived WebSockets and the listener timeouts', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('keeps an idle WebSocket open past clientHeadersTimeout (the slowloris timer covers headers only)', async () => {
    const backend = await startBackend(res, 'a');
    const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url], clientHeadersTimeout: 200 });
    const ws = await openWs(res, wsUrl);
    await new Promise((r) => setTimeout(r, 800));
    expect(ws.readyState).toBe(WebSocket.OPEN);
    expect(await roundTrip(ws, 'still here')).toBe('still here');
    expect(proxy.connections()).toHaveLength(1);
  });
});
