import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { httpRequest } from './helpers/http';
import { Resources, expectRefusal, listenLocal, openWs, roundTrip, startBackend, startProxy, waitFor } from './helpers/servers';

async function deadUrl(): Promise<string> {
  const s = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return `http://127.0.0.1:${port}`;
}

/** Accepts TCP and reads the upgrade, never answers. */
async function silentUrl(res: Resources): Promise<string> {
  const sockets = new Set<Socket>();
  const server = createServer();
  server.on('upgrade', (_req: IncomingMessage, socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.resume();
    socket.on('end', () => socket.destroy());
  });
  return `http://127.0.0.1:${await listenLocal(res, server, { sockets })}`;
}

describe('backend lifecycle', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  describe('runtime membership', () => {
    it('sends new connections to an added backend at once and leaves existing ones alone on remove', async () => {
      const a = await startBackend(res, 'a');
      const b = await startBackend(res, 'b');
      const { proxy, wsUrl } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }] });
      const added: string[] = [];
      const removed: string[] = [];
      proxy.on('backendAdd', (s) => added.push(s.id));
      proxy.on('backendRemove', (s) => removed.push(s.id));
      const onA = await openWs(res, wsUrl);
      proxy.addBackend({ url: b.url, id: 'b' });
      expect(added).toEqual(['b']);
      const landed = [];
      for (let i = 0; i < 4; i++) landed.push(await roundTrip(await openWs(res, wsUrl), 'whoami'));
      expect(landed.sort()).toEqual(['a', 'a', 'b', 'b']);

      await proxy.removeBackend('a');
      expect(removed).toEqual(['a']);
      expect(proxy.backends().map((x) => x.id)).toEqual(['b']);
      expect(await roundTrip(onA, 'still here')).toBe('still here');
      expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('b');
    });

    it('rejects bad runtime input with ERR_INVALID_OPTION', async () => {
      const a = await startBackend(res, 'a');
      const { proxy } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }] });
      expect(() => proxy.addBackend({ url: a.url, id: 'a' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
      expect(() => proxy.addBackend('ftp://x')).toThrow(/must use http:, https:, ws: or wss:/);
      expect(() => proxy.setWeight('a', 0)).toThrow(/positive integer/);
      expect(() => proxy.setWeight('nope', 1)).toThrow(/no backend with id "nope"/);
      await expect(proxy.drain('a', { code: 999 })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    });
  });

  describe('retries', () => {
    it('retries a WebSocket upgrade refused by one backend on the next, invisibly to the client', async () => {
      const good = await startBackend(res, 'good');
      const { proxy, wsUrl } = await startProxy(res, { backends: [{ url: await deadUrl(), id: 'dead' }, { url: good.url, id: 'good' }] });
      const codes: string[] = [];
      proxy.on('error', (e) => codes.push(e.code));
      for (let i = 0; i < 4; i++) expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('good');
      // Each failed attempt is reported to the operator; without outlier ejection the dead backend keeps its turn.
      expect(codes.length).toBeGreaterThanOrEqual(1);
      expect(new Set(codes)).toEqual(new Set(['ERR_BACKEND_CONNECT']));
      expect(proxy.connections().map((c) => c.backend.id)).toEqual(['good', 'good', 'good', 'good']);
    });

    it('retries elsewhere when a backend accepts TCP but never answers the upgrade', async () => {
      const good = await startBackend(res, 'good');
      const { proxy, wsUrl } = await startProxy(res, {
        backends: [{ url: await silentUrl(res), id: 'silent' }, { url: good.url, id: 'good' }],
        handshakeTimeout: 100,
      });
      const codes: string[] = [];
      proxy.on('error', (e) => codes.push(e.code));
      const ws = await openWs(res, wsUrl);
      expect(await roundTrip(ws, 'whoami')).toBe('good');
      expect(codes).toEqual(['ERR_HANDSHAKE_TIMEOUT']);
      expect(proxy.connections().map((c) => c.backend.id)).toEqual(['good']);
    });

    it('gives the client exactly one error when every backend fails, and respects the retry budget', async () => {
      const urls = [await deadUrl(), await deadUrl(), await deadUrl(), await deadUrl()];
      const { proxy, wsUrl, url } = await startProxy(res, { backends: urls, retries: 1 });
      const codes: string[] = [];
      proxy.on('error', (e) => codes.push(e.code));
      const refusal = await expectRefusal(wsUrl);
      expect(refusal.status).toBe(502);
      expect(codes).toEqual(['ERR_BACKEND_CONNECT', 'ERR_BACKEND_CONNECT']);
      codes.length = 0;
      const r = await httpRequest(`${url}/`);
      expect(r.status).toBe(502);
      expect(codes).toEqual(['ERR_BACKEND_CONNECT', 'ERR_BACKEND_CONNECT']);
      expect(proxy.connections()).toHaveLength(0);
    });

    it('retries an idempotent HTTP request but never a POST with a body', async () => {
      const good = await startBackend(res, 'good');
      const { url } = await startProxy(res, { backends: [await deadUrl(), good.url] });
      const get = await httpRequest(`${url}/x`);
      expect(get.status).toBe(200);
      expect(JSON.parse(get.body).id).toBe('good');
      const statuses = [];
      for (let i = 0; i < 2; i++) statuses.push((await httpRequest(`${url}/x`, { method: 'POST', body: 'payload' })).status);
      expect(statuses.sort()).toEqual([200, 502]);
    });
  });

  it('closes every client of a SIGKILLed backend with 1011 within 1 s; reconnects land elsewhere', async () => {
    const child = spawn(process.execPath, [join(__dirname, 'fixtures', 'ws-echo-backend.js')], { stdio: ['ignore', 'pipe', 'inherit'] });
    res.add(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });
    const [line] = (await once(child.stdout!, 'data')) as [Buffer];
    const victimUrl = `http://127.0.0.1:${line.toString().trim()}`;
    const survivor = await startBackend(res, 'survivor');
    const { proxy, wsUrl } = await startProxy(res, {
      backends: [{ url: victimUrl, id: 'victim' }, { url: survivor.url, id: 'survivor' }],
      strategy: { name: 'victim-first', pick: (_c, candidates) => candidates[0] },
    });
    const clients = await Promise.all(Array.from({ length: 100 }, () => openWs(res, wsUrl)));
    expect(proxy.backends().find((b) => b.id === 'victim')!.activeConnections).toBe(100);
    const started = Date.now();
    const closes = clients.map((ws) => once(ws, 'close').then(([code]) => ({ code: code as number, at: Date.now() - started })));
    child.kill('SIGKILL');
    const results = await Promise.all(closes);
    expect(new Set(results.map((r) => r.code))).toEqual(new Set([1011]));
    expect(Math.max(...results.map((r) => r.at))).toBeLessThan(1000);
    await waitFor(() => proxy.connections().length === 0);
    // The victim refuses now; reconnecting clients are retried onto the survivor.
    for (let i = 0; i < 5; i++) expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('survivor');
  });

  describe('drain', () => {
    it('sends 1012 to 200 clients streaming fragmented messages both ways, with no corrupt frame, and empties the table', async () => {
      const a = await startBackend(res, 'a');
      const b = await startBackend(res, 'b');
      const backendCloses: number[] = [];
      const backendErrors: Error[] = [];
      a.wss.on('connection', (s) => {
        s.on('close', (code) => backendCloses.push(code));
        s.on('error', (e) => backendErrors.push(e));
        // The backend streams fragmented messages too.
        const timer = setInterval(() => {
          if (s.readyState !== WebSocket.OPEN) return;
          s.send('part1-'.repeat(100), { fin: false });
          s.send('part2-'.repeat(100), { fin: true });
        }, 5);
        s.on('close', () => clearInterval(timer));
      });
      const { proxy, wsUrl } = await startProxy(res, {
        backends: [{ url: a.url, id: 'a' }, { url: b.url, id: 'b' }],
        strategy: { name: 'a-first', pick: (_c, candidates) => candidates[0] },
      });
      const clients = await Promise.all(Array.from({ length: 200 }, () => openWs(res, wsUrl)));
      const outcomes = clients.map((ws) => {
        const errors: Error[] = [];
        ws.on('error', (e) => errors.push(e));
        const timer = setInterval(() => {
          if (ws.readyState !== WebSocket.OPEN) return;
          ws.send(Buffer.alloc(3000, 1), { fin: false, binary: true });
          ws.send(Buffer.alloc(3000, 2), { fin: true, binary: true });
        }, 5);
        return once(ws, 'close').then(([code]) => {
          clearInterval(timer);
          return { code: code as number, errors };
        });
      });
      await new Promise((r) => setTimeout(r, 100));
      const drained = proxy.drain('a', { timeout: 3000 });
      expect(proxy.backends().find((x) => x.id === 'a')!.state).toBe('draining');
      // No new connection reaches the draining backend.
      expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('b');
      await drained;
      const results = await Promise.all(outcomes);
      expect(results.filter((r) => r.code !== 1012)).toEqual([]);
      expect(results.flatMap((r) => r.errors)).toEqual([]);
      await waitFor(() => backendCloses.length === 200);
      expect(new Set(backendCloses)).toEqual(new Set([1012]));
      expect(backendErrors).toEqual([]);
      expect(proxy.connections().filter((c) => c.backend.id === 'a')).toEqual([]);
    });

    it('destroys what is still open after the drain timeout', async () => {
      const a = await startBackend(res, 'a');
      const { proxy, wsUrl } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }] });
      // A raw client that completes the handshake and then never answers the close frame.
      const { port } = new URL(wsUrl);
      const raw = connect({ port: Number(port), host: '127.0.0.1', allowHalfOpen: true });
      res.add(() => { raw.destroy(); });
      raw.on('error', () => undefined);
      raw.write(`GET / HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n`);
      await once(raw, 'data');
      expect(proxy.connections()).toHaveLength(1);
      const started = Date.now();
      await proxy.drain('a', { timeout: 150 });
      expect(Date.now() - started).toBeGreaterThanOrEqual(140);
      expect(proxy.connections()).toHaveLength(0);
    });

    it('removeBackend({ drain: true }) drains first, then removes', async () => {
      const a = await startBackend(res, 'a');
      const b = await startBackend(res, 'b');
      const { proxy, wsUrl } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }, { url: b.url, id: 'b' }] });
      const ws = await openWs(res, wsUrl);
      expect(await roundTrip(ws, 'whoami')).toBe('a');
      const closed = once(ws, 'close');
      await proxy.removeBackend('a', { drain: true, timeout: 2000, code: 4100 });
      expect(((await closed) as [number])[0]).toBe(4100);
      expect(proxy.backends().map((x) => x.id)).toEqual(['b']);
    });
  });

  describe('limits and timeouts', () => {
    it('answers 503 with Retry-After beyond the proxy-wide maxConnections', async () => {
      const a = await startBackend(res, 'a');
      const { proxy, wsUrl } = await startProxy(res, { backends: [a.url], maxConnections: 2, retryAfter: 3 });
      await openWs(res, wsUrl);
      await openWs(res, wsUrl);
      const refusal = await expectRefusal(wsUrl);
      expect(refusal.status).toBe(503);
      expect(refusal.headers['retry-after']).toBe('3');
      expect(proxy.connections()).toHaveLength(2);
    });

    it('skips a backend at its own maxConnections', async () => {
      const a = await startBackend(res, 'a');
      const b = await startBackend(res, 'b');
      const { wsUrl } = await startProxy(res, { backends: [{ url: a.url, id: 'a', maxConnections: 1 }, { url: b.url, id: 'b' }], strategy: { name: 'first', pick: (_c, cands) => cands[0] } });
      expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('a');
      expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('b');
    });

    it('closes a silent WebSocket with 1001 after the idle timeout, and keeps a chatty one', async () => {
      const a = await startBackend(res, 'a');
      const { proxy, wsUrl } = await startProxy(res, { backends: [a.url], idleTimeout: 100 });
      const codes: string[] = [];
      proxy.on('error', (e) => codes.push(e.code));
      const silent = await openWs(res, wsUrl);
      const chatty = await openWs(res, wsUrl);
      const timer = setInterval(() => chatty.send('hi'), 30);
      const [code] = (await once(silent, 'close')) as [number];
      expect(code).toBe(1001);
      expect(chatty.readyState).toBe(WebSocket.OPEN);
      clearInterval(timer);
      // Reported by the proxy's teardown, which may come a moment after the client saw its close.
      await waitFor(() => codes.includes('ERR_IDLE_TIMEOUT'), 2000, 'the idle timeout report');
      expect(codes).toContain('ERR_IDLE_TIMEOUT');
    });

    it('with idlePing, keeps a connection whose peers answer pings', async () => {
      const a = await startBackend(res, 'a');
      const { wsUrl } = await startProxy(res, { backends: [a.url], idleTimeout: 80, idlePing: true });
      const ws = await openWs(res, wsUrl);
      let pings = 0;
      ws.on('ping', () => pings++);
      await new Promise((r) => setTimeout(r, 500));
      expect(pings).toBeGreaterThanOrEqual(1);
      expect(ws.readyState).toBe(WebSocket.OPEN);
    });
  });

  it('close({ drain }) during load: every client gets 1001', async () => {
    const a = await startBackend(res, 'a');
    const b = await startBackend(res, 'b');
    const { proxy, wsUrl } = await startProxy(res, { backends: [a.url, b.url] });
    const clients = await Promise.all(Array.from({ length: 50 }, () => openWs(res, wsUrl)));
    const codes = clients.map((ws) => {
      const timer = setInterval(() => ws.readyState === WebSocket.OPEN && ws.send('x'.repeat(1000)), 2);
      return once(ws, 'close').then(([c]) => {
        clearInterval(timer);
        return c as number;
      });
    });
    await new Promise((r) => setTimeout(r, 50));
    await proxy.close({ drain: true, timeout: 2000 });
    expect(new Set(await Promise.all(codes))).toEqual(new Set([1001]));
    expect(proxy.connections()).toHaveLength(0);
  });
});

describe('frameTracking: false', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('still relays everything, but ends connections without close frames of its own (1006)', async () => {
    const a = await startBackend(res, 'a');
    const { proxy, wsUrl } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }], frameTracking: false });
    const ws = await openWs(res, wsUrl);
    expect(await roundTrip(ws, 'hello')).toBe('hello');
    const closed = once(ws, 'close');
    await proxy.drain('a', { timeout: 1000 });
    expect(((await closed) as [number])[0]).toBe(1006);
    expect(proxy.connections()).toHaveLength(0);
  });
});

describe('runtime changes are observable', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('emits backendWeightChange on setWeight, and refuses close codes an endpoint may not send', async () => {
    const a = await startBackend(res, 'a');
    const { proxy } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }] });
    const changes: [string, number, number][] = [];
    proxy.on('backendWeightChange', (b, previous) => changes.push([b.id, previous, b.weight]));
    proxy.setWeight('a', 4);
    proxy.setWeight('a', 4);
    expect(changes).toEqual([['a', 1, 4]]);
    for (const code of [1005, 1006, 1015, 2000]) {
      await expect(proxy.drain('a', { code })).rejects.toMatchObject({ code: 'ERR_INVALID_OPTION' });
    }
    expect(proxy.backends()[0]!.state).toBe('up');
  });
});
