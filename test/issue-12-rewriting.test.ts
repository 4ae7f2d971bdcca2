import { once } from 'node:events';
import type { SwitchboardError } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { CheckedProxies, openWs, Resources, startBackend, type HttpHandler } from './helpers/servers';

interface Echo {
  id: string;
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

async function echo(url: string, headers?: Record<string, string>): Promise<Echo> {
  const r = await httpRequest(url, { headers });
  expect(r.status).toBe(200);
  return JSON.parse(r.body) as Echo;
}

describe('rewriting toward the backend', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('stripPrefix removes the route path on segment boundaries, query kept', async () => {
    const api = await startBackend(res, 'api');
    const { url } = await proxies.start({ routes: [{ id: 'api', path: '/api', backends: [api.url], stripPrefix: true }] });
    expect((await echo(`${url}/api/users?x=1`)).url).toBe('/users?x=1');
    expect((await echo(`${url}/api`)).url).toBe('/');
    expect((await echo(`${url}/api?x=1`)).url).toBe('/?x=1');
    expect((await echo(`${url}/api/`)).url).toBe('/');
  });

  it('prepends a backend URL path, after stripPrefix and rewrite', async () => {
    const api = await startBackend(res, 'api');
    const { url } = await proxies.start({
      backends: [`${api.url}/v1`],
      routes: [{ id: 'v2', path: '/new', backends: [`${api.url}/v2/`], stripPrefix: true, rewrite: (p) => p.replace(/^\/old-name/, '/name') }],
    });
    expect((await echo(`${url}/users`)).url).toBe('/v1/users');
    expect((await echo(`${url}/`)).url).toBe('/v1/');
    expect((await echo(`${url}/new/old-name/7?q`)).url).toBe('/v2/name/7?q');
  });

  it('rewrite that throws or returns a non-path answers 500 with the generic body and an error event', async () => {
    const api = await startBackend(res, 'api');
    const errors: SwitchboardError[] = [];
    const { proxy, url } = await proxies.start({
      routes: [
        { id: 'throws', path: '/t', backends: [api.url], rewrite: () => { throw new Error('boom'); } },
        { id: 'bad', path: '/b', backends: [api.url], rewrite: () => 'no-slash' },
      ],
    });
    proxy.on('error', (e) => errors.push(e));
    for (const path of ['/t/x', '/b/x']) {
      const r = await httpRequest(`${url}${path}`);
      expect(r.status).toBe(500);
      expect(r.body).toBe('500 Internal Server Error\n');
    }
    expect(errors.map((e) => e.code)).toEqual(['ERR_HOOK_FAILED', 'ERR_HOOK_FAILED']);
    expect((errors[0]!.cause as Error).message).toBe('boom');
    expect(api.sockets.size).toBe(0);
  });

  it("changeOrigin sends the backend's host:port as Host; X-Forwarded-Host keeps the client's either way", async () => {
    const api = await startBackend(res, 'api');
    const { url } = await proxies.start({
      backends: [api.url],
      routes: [{ id: 'o', path: '/o', backends: [api.url], changeOrigin: true }],
    });
    const kept = await echo(`${url}/x`, { host: 'public.example' });
    expect(kept.headers['host']).toBe('public.example');
    expect(kept.headers['x-forwarded-host']).toBe('public.example');
    const changed = await echo(`${url}/o/x`, { host: 'public.example' });
    expect(changed.headers['host']).toBe(`127.0.0.1:${api.port}`);
    expect(changed.headers['x-forwarded-host']).toBe('public.example');
  });

  it('headers sets and removes request headers toward the backend, for HTTP and upgrades', async () => {
    const api = await startBackend(res, 'api');
    const { url, wsUrl } = await proxies.start({
      backends: [api.url],
      headers: { authorization: 'Bearer internal', cookie: null, 'X-Route': 'default' },
      changeOrigin: true,
    });
    const got = await echo(`${url}/x`, { authorization: 'Bearer client', cookie: 'sid=1', 'x-keep': 'k' });
    expect(got.headers['authorization']).toBe('Bearer internal');
    expect(got.headers['cookie']).toBeUndefined();
    expect(got.headers['x-route']).toBe('default');
    expect(got.headers['x-keep']).toBe('k');
    expect(got.headers['host']).toBe(`127.0.0.1:${api.port}`);
    const seen = new Promise<Record<string, string | string[] | undefined>>((resolve) => api.wss.once('headers', (_h, req) => resolve(req.headers)));
    const ws = await openWs(res, `${wsUrl}/chat`, { headers: { cookie: 'sid=1' } });
    const upgradeHeaders = await seen;
    expect(upgradeHeaders['authorization']).toBe('Bearer internal');
    expect(upgradeHeaders['cookie']).toBeUndefined();
    expect(upgradeHeaders['host']).toBe(`127.0.0.1:${api.port}`);
    ws.close();
    await once(ws, 'close');
  });

  it('stripPrefix and upgrades: the WebSocket reaches the backend at the stripped path', async () => {
    const chat = await startBackend(res, 'chat');
    const { wsUrl } = await proxies.start({ routes: [{ id: 'chat', path: '/ws', backends: [`${chat.url}/socket`], stripPrefix: true }] });
    const seen = new Promise<string | undefined>((resolve) => chat.wss.once('headers', (_h, req) => resolve(req.url)));
    const ws = await openWs(res, `${wsUrl}/ws/room/1?token=t`);
    expect(await seen).toBe('/socket/room/1?token=t');
    ws.close();
    await once(ws, 'close');
  });

  it('rewrites cookie Path for the stripped prefix and the backend path, and drops a Domain naming the backend', async () => {
    const setCookies: HttpHandler = (_req, r) => {
      r.setHeader('set-cookie', ['a=1; Path=/; HttpOnly', 'b=2; Path=/v1/cart; Domain=127.0.0.1', 'c=3; Domain=shop.example; Path=/other', 'd=4']);
      r.end('ok');
    };
    const api = await startBackend(res, 'api', setCookies);
    const { url } = await proxies.start({ routes: [{ id: 'shop', path: '/shop', backends: [`${api.url}/v1`], stripPrefix: true }] });
    const r = await httpRequest(`${url}/shop/cart`);
    expect(r.headers['set-cookie']).toEqual(['a=1; Path=/shop; HttpOnly', 'b=2; Path=/shop/cart', 'c=3; Domain=shop.example; Path=/shop/other', 'd=4']);
  });

  it('refuses route headers the proxy writes itself', async () => {
    await expect(proxies.start({ backends: ['http://127.0.0.1:1'], headers: { 'x-forwarded-for': '1.2.3.4' } })).rejects.toThrow(/cannot set x-forwarded-for/);
  });
});
