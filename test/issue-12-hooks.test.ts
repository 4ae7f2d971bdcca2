import { once } from 'node:events';
import type { SwitchboardError } from '@switchboard/proxy';
import { startCountingBackend } from './helpers/counting-backend';
import { httpRequest } from './helpers/http';
import { head, rawExchange, WS_HEADERS } from './helpers/raw';
import { CheckedProxies, expectRefusal, openWs, Resources, roundTrip, startBackend, waitFor } from './helpers/servers';

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('hooks: onRequest, onResponse, errorResponse', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('onRequest (async) sets and removes headers toward the backend, for HTTP and upgrades, and sees the route', async () => {
    const api = await startBackend(res, 'api');
    const seen: string[] = [];
    const { url, wsUrl } = await proxies.start({
      routes: [{ id: 'api', path: '/api', backends: [api.url], stripPrefix: true }],
      onRequest: async (req, ctx) => {
        await sleep(5);
        seen.push(`${ctx.route} ${ctx.protocol} ${ctx.path}`);
        ctx.setHeader('X-User', String(req.headers['x-token'] ?? 'anonymous'));
        ctx.removeHeader('x-token');
      },
    });
    const r = await httpRequest(`${url}/api/me`, { headers: { 'x-token': 'alice' } });
    const echoed = JSON.parse(r.body) as { url: string; headers: Record<string, string> };
    expect(echoed.url).toBe('/me');
    expect(echoed.headers['x-user']).toBe('alice');
    expect(echoed.headers['x-token']).toBeUndefined();
    const upgraded = new Promise<Record<string, unknown>>((resolve) => api.wss.once('headers', (_h, req) => resolve(req.headers)));
    const ws = await openWs(res, `${wsUrl}/api/live`, { headers: { 'x-token': 'bob' } });
    expect((await upgraded)['x-user']).toBe('bob');
    expect(await roundTrip(ws, 'whoami')).toBe('api');
    ws.close();
    await once(ws, 'close');
    expect(seen).toEqual(['api http /me', 'api websocket /live']);
  });

  it('ctx.reject answers the client; a refused upgrade opens no backend connection', async () => {
    const backend = await startCountingBackend(res, 'b');
    const { url, wsUrl } = await proxies.start({
      backends: [backend.url],
      onRequest: async (req, ctx) => {
        await sleep(1);
        if (req.headers.authorization === undefined) ctx.reject(401, 'login first\n');
      },
    });
    const r = await httpRequest(`${url}/private`);
    expect(r.status).toBe(401);
    expect(r.body).toBe('login first\n');
    const refusal = await expectRefusal(`${wsUrl}/chat`);
    expect(refusal.status).toBe(401);
    expect(refusal.body).toBe('login first\n');
    expect(backend.connections).toBe(0);
    expect(backend.bytes).toBe(0);
    const ok = await openWs(res, `${wsUrl}/chat`, { headers: { authorization: 'Bearer x' } });
    expect(await roundTrip(ok, 'whoami')).toBe('b');
    expect(backend.connections).toBe(1);
    ok.close();
    await once(ok, 'close');
  });

  it('a hook that throws or rejects is a 500 with the generic body and an error event, never a crash', async () => {
    const backend = await startCountingBackend(res, 'b');
    const errors: SwitchboardError[] = [];
    const { proxy, url, wsUrl } = await proxies.start({
      backends: [backend.url],
      onRequest: async (req) => {
        if (req.url === '/sync-throw') throw new Error('sync');
        await sleep(1);
        if (req.url !== '/ok') throw new Error('async');
      },
    });
    proxy.on('error', (e) => errors.push(e));
    for (const path of ['/boom', '/sync-throw']) {
      const r = await httpRequest(`${url}${path}`);
      expect(r.status).toBe(500);
      expect(r.body).toBe('500 Internal Server Error\n');
    }
    const refusal = await expectRefusal(`${wsUrl}/boom`);
    expect(refusal.status).toBe(500);
    expect(errors.map((e) => `${e.code} ${(e.cause as Error).message}`)).toEqual(['ERR_HOOK_FAILED async', 'ERR_HOOK_FAILED sync', 'ERR_HOOK_FAILED async']);
    expect(backend.connections).toBe(0);
    expect((await httpRequest(`${url}/ok`)).status).toBe(200);
  });

  it('requests the proxy refuses anyway (bad handshake, forbidden Origin, malformed) never reach onRequest', async () => {
    const backend = await startCountingBackend(res, 'b');
    const hooked: string[] = [];
    const { port, wsUrl } = await proxies.start({
      backends: [backend.url],
      allowedOrigins: ['https://app.example'],
      onRequest: (req) => {
        hooked.push(req.url ?? '');
      },
    });
    const badKey = await rawExchange(port, head('GET /bad-key HTTP/1.1', 'Host: x', 'Upgrade: websocket', 'Connection: Upgrade', 'Sec-WebSocket-Key: nope', 'Sec-WebSocket-Version: 13'));
    expect(badKey.status).toBe(400);
    const forbidden = await expectRefusal(`${wsUrl}/evil-origin`, { headers: { origin: 'https://evil.example' } });
    expect(forbidden.status).toBe(403);
    const smuggle = await rawExchange(port, head('POST /smuggle HTTP/1.1', 'Host: x', 'Content-Length: 3', 'Transfer-Encoding: chunked') + '0\r\n\r\n');
    expect(smuggle.status).toBe(400);
    expect(hooked).toEqual([]);
    expect(backend.connections).toBe(0);
    const ok = await openWs(res, `${wsUrl}/fine`, { headers: { origin: 'https://app.example' } });
    expect(hooked).toEqual(['/fine']);
    ok.close();
    await once(ok, 'close');
  });

  it('onRequest: pipelined requests go on in order even when an earlier hook is slower', async () => {
    const api = await startBackend(res, 'api');
    const { port } = await proxies.start({
      backends: [api.url],
      onRequest: async (req) => {
        await sleep(req.url === '/slow' ? 80 : 0);
      },
    });
    const answer = await rawExchange(port, [head('GET /slow HTTP/1.1', 'Host: x') + head('GET /fast HTTP/1.1', 'Host: x', 'Connection: close')]);
    const text = answer.data.toString('latin1');
    expect(text.indexOf('"url":"/slow"')).toBeGreaterThan(0);
    expect(text.indexOf('"url":"/slow"')).toBeLessThan(text.indexOf('"url":"/fast"'));
  });

  it('a client that leaves while onRequest runs is not forwarded', async () => {
    const backend = await startCountingBackend(res, 'b');
    let ran = 0;
    const { port } = await proxies.start({
      backends: [backend.url],
      onRequest: async () => {
        await sleep(100);
        ran++;
      },
    });
    await rawExchange(port, [head('GET / HTTP/1.1', 'Host: x'), { reset: true }], 200);
    await waitFor(() => ran === 1, 2000, 'hook done');
    await sleep(20);
    expect(`http ${backend.connections}`).toBe('http 0');
    await rawExchange(port, [head('GET /ws HTTP/1.1', 'Host: x', ...WS_HEADERS), { reset: true }], 200);
    await waitFor(() => ran === 2, 2000, 'hooks done');
    await sleep(20);
    expect(`upgrade ${backend.connections}`).toBe('upgrade 0');
  });

  it('onResponse edits response headers after the hidden-header policy, which it cannot undo', async () => {
    const api = await startBackend(res, 'api', (req, r) => {
      r.setHeader('x-powered-by', 'Express');
      r.setHeader('x-internal', 'secret');
      r.end(req.url);
    });
    const errors: SwitchboardError[] = [];
    const { proxy, url } = await proxies.start({
      backends: [api.url],
      onResponse: (head, ctx) => {
        expect(head.getHeader('x-powered-by')).toBeUndefined();
        head.removeHeader('x-internal');
        head.setHeader('x-route', `${ctx.route}/${head.status}`);
        if (ctx.request.url === '/unhide') head.setHeader('X-Powered-By', 'me');
      },
    });
    proxy.on('error', (e) => errors.push(e));
    const r = await httpRequest(`${url}/x`);
    expect(r.status).toBe(200);
    expect(r.headers['x-internal']).toBeUndefined();
    expect(r.headers['x-route']).toBe('default/200');
    expect(r.headers['x-powered-by']).toBeUndefined();
    const bad = await httpRequest(`${url}/unhide`);
    expect(bad.status).toBe(500);
    expect(bad.body).toBe('500 Internal Server Error\n');
    expect(errors.map((e) => e.code)).toEqual(['ERR_HOOK_FAILED']);
  });

  it("errorResponse shapes the proxy's own errors for HTTP and upgrades; one that throws keeps the generic answer", async () => {
    const errors: SwitchboardError[] = [];
    const { proxy, url, wsUrl } = await proxies.start({
      backends: ['http://127.0.0.1:1'],
      retries: 0,
      errorResponse: (err, req) => {
        if (req.url === '/throws') throw new Error('bad hook');
        return { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ error: err.code, status: err.status }) };
      },
    });
    proxy.on('error', (e) => errors.push(e));
    const r = await httpRequest(`${url}/x`);
    expect(r.status).toBe(502);
    expect(r.headers['content-type']).toBe('application/json');
    expect(JSON.parse(r.body)).toEqual({ error: 'ERR_BACKEND_CONNECT', status: 502 });
    const refusal = await expectRefusal(`${wsUrl}/x`);
    expect(refusal.status).toBe(502);
    expect(JSON.parse(refusal.body)).toEqual({ error: 'ERR_BACKEND_CONNECT', status: 502 });
    const generic = await httpRequest(`${url}/throws`);
    expect(generic.status).toBe(502);
    expect(generic.body).toBe('502 Bad Gateway\n');
    expect(errors.map((e) => e.code)).toContain('ERR_HOOK_FAILED');
  });
});
