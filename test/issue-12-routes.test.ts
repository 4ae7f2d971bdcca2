import { once } from 'node:events';
import type { ProxyOptions, SwitchboardError } from '@switchboard/proxy';
import { createProxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { rawExchange, head, WS_HEADERS } from './helpers/raw';
import { CheckedProxies, expectRefusal, openWs, Resources, roundTrip, startBackend, waitFor } from './helpers/servers';

/** Which backend answered: the echo backends put their id in the JSON body. */
async function servedBy(url: string, headers?: Record<string, string>): Promise<string> {
  const r = await httpRequest(url, { headers });
  expect(r.status).toBe(200);
  return (JSON.parse(r.body) as { id: string }).id;
}

describe('routes: Host and path select a backend group', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('serves HTTP and WebSockets of three routes from the right groups, each with its own pool and counts', async () => {
    const web = await startBackend(res, 'web');
    const api1 = await startBackend(res, 'api-1');
    const api2 = await startBackend(res, 'api-2');
    const chat = await startBackend(res, 'chat');
    const admin = await startBackend(res, 'admin');
    const { proxy, url, wsUrl } = await proxies.start({
      backends: [web.url],
      routes: [
        { id: 'api', path: '/api', backends: [{ url: api1.url, id: 'a1' }, { url: api2.url, id: 'a2' }] },
        { id: 'chat', path: '/ws', backends: [{ url: chat.url, id: 'c' }], strategy: 'least-connections' },
        { id: 'admin', host: 'admin.example.com', backends: [{ url: admin.url, id: 'a1' }] },
      ],
    });
    // HTTP: path prefixes on segment boundaries, host before path, default for the rest.
    expect(await servedBy(`${url}/`)).toBe('web');
    expect(await servedBy(`${url}/apix`)).toBe('web');
    const apiServers = new Set([await servedBy(`${url}/api`), await servedBy(`${url}/api/users`)]);
    expect(apiServers).toEqual(new Set(['api-1', 'api-2']));
    expect(await servedBy(`${url}/ws/history`)).toBe('chat');
    expect(await servedBy(`${url}/api/users`, { host: 'admin.example.com' })).toBe('admin');

    // WebSockets: routed alike, one per route, held open to read the table.
    const wsChat = await openWs(res, `${wsUrl}/ws/room`);
    const wsApi = await openWs(res, `${wsUrl}/api/live`);
    const wsAdmin = await openWs(res, `${wsUrl}/`, { headers: { host: 'admin.example.com' } });
    const wsDefault = await openWs(res, `${wsUrl}/other`);
    expect(await roundTrip(wsChat, 'whoami')).toBe('chat');
    expect(['api-1', 'api-2']).toContain(await roundTrip(wsApi, 'whoami'));
    expect(await roundTrip(wsAdmin, 'whoami')).toBe('admin');
    expect(await roundTrip(wsDefault, 'whoami')).toBe('web');

    const routesOf = proxy.connections().map((c) => `${c.route}/${c.protocol}`).sort();
    expect(routesOf).toEqual(['admin/websocket', 'api/websocket', 'chat/websocket', 'default/websocket']);
    // The same backend id in two routes ('a1') is two backends, each with its own count.
    const snap = proxy.backends().map((b) => `${b.route}:${b.id}:${b.activeConnections}`);
    expect(snap).toHaveLength(5);
    expect(snap).toContain('admin:a1:1');
    expect(snap).toContain('chat:c:1');
    expect(snap).toContain('default:127.0.0.1:' + web.port + ':1');
    const apiCount = proxy.backends().filter((b) => b.route === 'api').reduce((n, b) => n + b.activeConnections, 0);
    expect(apiCount).toBe(1);
    for (const ws of [wsChat, wsApi, wsAdmin, wsDefault]) {
      ws.close();
      await once(ws, 'close');
    }
  });

  it('answers 404 with the generic body when no route matches and there is no default, HTTP and upgrade alike', async () => {
    const api = await startBackend(res, 'api');
    const errors: SwitchboardError[] = [];
    const { proxy, url, wsUrl } = await proxies.start({ routes: [{ id: 'api', path: '/api', backends: [api.url] }] });
    proxy.on('error', (e) => errors.push(e));
    const r = await httpRequest(`${url}/elsewhere`);
    expect(r.status).toBe(404);
    expect(r.body).toBe('404 Not Found\n');
    const refusal = await expectRefusal(`${wsUrl}/elsewhere`);
    expect(refusal.status).toBe(404);
    expect(refusal.body).toBe('404 Not Found\n');
    expect(errors.map((e) => e.code)).toEqual(['ERR_NO_ROUTE', 'ERR_NO_ROUTE']);
    expect(await servedBy(`${url}/api/x`)).toBe('api');
    expect(api.sockets.size).toBeLessThanOrEqual(1);
  });

  it('refuses a path whose dot segments would leave its route (400, no backend contacted)', async () => {
    const api = await startBackend(res, 'api');
    const admin = await startBackend(res, 'admin');
    const { port } = await proxies.start({ backends: [admin.url], routes: [{ id: 'api', path: '/api', backends: [api.url] }] });
    for (const path of ['/api/../admin', '/api/%2e%2e/admin', '/api%2f..%2fadmin']) {
      const answer = await rawExchange(port, head(`GET ${path} HTTP/1.1`, 'Host: x'));
      expect(answer.status).toBe(400);
    }
    const upgrade = await rawExchange(port, head('GET /api/../admin HTTP/1.1', 'Host: x', ...WS_HEADERS));
    expect(upgrade.status).toBe(400);
    expect(api.sockets.size + admin.sockets.size).toBe(0);
  });

  it('takes a route in runtime membership calls; without one they mean the default route', async () => {
    const web = await startBackend(res, 'web');
    const api1 = await startBackend(res, 'api-1');
    const api2 = await startBackend(res, 'api-2');
    const { proxy, url } = await proxies.start({ backends: [{ url: web.url, id: 'w' }], routes: [{ id: 'api', path: '/api', backends: [{ url: api1.url, id: 'one' }] }] });
    const added = proxy.addBackend({ url: api2.url, id: 'two' }, { route: 'api' });
    expect(added.route).toBe('api');
    proxy.setWeight('two', 3, { route: 'api' });
    await proxy.drain('one', { route: 'api', timeout: 0 });
    expect(await servedBy(`${url}/api/a`)).toBe('api-2');
    expect(await servedBy(`${url}/api/b`)).toBe('api-2');
    proxy.undrain('one', { route: 'api' });
    await proxy.removeBackend('two', { route: 'api' });
    expect(await servedBy(`${url}/api/c`)).toBe('api-1');
    // Existing signatures keep working on the default route.
    proxy.setWeight('w', 2);
    expect(proxy.backends().find((b) => b.id === 'w')?.weight).toBe(2);
    expect(() => proxy.setWeight('one', 2)).toThrow(/no backend with id "one"/);
    expect(() => proxy.addBackend(api2.url, { route: 'nope' })).toThrow(/no route with id "nope"/);
    expect(proxy.isPanicking({ route: 'api' })).toBe(false);
  });

  it('validates routes synchronously with ERR_INVALID_OPTION', () => {
    const bad = (options: Record<string, unknown>): string => {
      try {
        createProxy(options as unknown as ProxyOptions);
      } catch (err) {
        expect((err as SwitchboardError).code).toBe('ERR_INVALID_OPTION');
        return (err as Error).message;
      }
      throw new Error('accepted');
    };
    expect(bad({ routes: [] })).toMatch(/non-empty array \(or give options.routes\)/);
    expect(bad({ routes: [{ id: 'a', path: '/a', backends: [] }] })).toMatch(/options.routes\[0\]: backends must be a non-empty array/);
    expect(bad({ routes: [{ id: 'a', path: 'a', backends: ['http://127.0.0.1:1'] }] })).toMatch(/path must start with \//);
    expect(bad({ routes: [{ id: 'a', backends: ['http://127.0.0.1:1'], target: 'x' }] })).toMatch(/options.routes\[0\].target is not a route option/);
    expect(bad({ backends: ['http://127.0.0.1:1'], routes: [{ id: 'default', path: '/x', backends: ['http://127.0.0.1:1'] }] })).toMatch(/taken by the top-level backends/);
    expect(bad({ routes: [{ id: 'a', path: '/x', backends: ['http://127.0.0.1:1'] }, { id: 'b', path: '/x/', backends: ['http://127.0.0.1:1'] }] })).toMatch(/same host and path/);
    expect(bad({ routes: [{ id: 'a', backends: ['http://127.0.0.1:1'], stripPrefix: true }] })).toMatch(/stripPrefix needs a path/);
    // A strategy object keeps per-pool tables: shared by two pools it would mix them up.
    const shared = { name: 'mine', pick: (_ctx: unknown, candidates: readonly { id: string }[]) => candidates[0] };
    expect(bad({ backends: ['http://127.0.0.1:1'], strategy: shared, routes: [{ id: 'a', path: '/a', backends: ['http://127.0.0.1:1'] }] })).toMatch(/serves one route only/);
  });

  it('gives each route its own health: a backend ejected in one route stays up in another', async () => {
    const web = await startBackend(res, 'web');
    const api = await startBackend(res, 'api');
    const dead = 'http://127.0.0.1:1';
    const { proxy, url } = await proxies.start({
      backends: [web.url, dead],
      strategy: 'round-robin',
      routes: [{ id: 'api', path: '/api', backends: [dead, api.url], retries: 0, outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 100 } }],
    });
    proxy.on('error', () => undefined);
    // Round-robin starts with the dead backend: the first /api request fails and ejects it from route api only.
    expect((await httpRequest(`${url}/api/x`)).status).toBe(502);
    await waitFor(() => proxy.backends().some((b) => b.route === 'api' && b.id === '127.0.0.1:1' && b.state === 'down'), 3000, 'ejection');
    expect(proxy.backends().find((b) => b.route === 'default' && b.id === '127.0.0.1:1')?.state).toBe('up');
    expect(await servedBy(`${url}/api/y`)).toBe('api');
  });
});
