import { once } from 'node:events';
import { createServer, request, type IncomingMessage } from 'node:http';
import type { WebSocket } from 'ws';
import type { AdminOptions, Proxy } from '@switchboard/proxy';
import { httpRequest, type SimpleResponse } from './helpers/http';
import { CheckedProxies, listenLocal, openWs, Resources, startBackend, waitFor, type TestBackend } from './helpers/servers';

const TOKEN = 's3cret-admin-token';
const AUTH = { authorization: `Bearer ${TOKEN}` };

interface Setup {
  proxy: Proxy;
  wsUrl: string;
  admin: string;
  a: TestBackend;
  b: TestBackend;
}

/** A proxy over backends a and b, and its admin handler on its own 127.0.0.1 listener. */
async function setup(res: Resources, proxies: CheckedProxies, options: AdminOptions): Promise<Setup> {
  const a = await startBackend(res, 'a');
  const b = await startBackend(res, 'b');
  const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }, { url: b.url, id: 'b' }], strategy: 'round-robin', healthCheck: false });
  const handler = proxy.admin(options);
  const server = createServer(handler);
  res.add(() => handler.close());
  const port = await listenLocal(res, server);
  return { proxy, wsUrl, admin: `http://127.0.0.1:${port}`, a, b };
}

function post(url: string, body: unknown, headers: Record<string, string> = AUTH): Promise<SimpleResponse> {
  return httpRequest(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: typeof body === 'string' ? body : JSON.stringify(body) });
}

function json(r: SimpleResponse): Record<string, unknown> {
  return JSON.parse(r.body) as Record<string, unknown>;
}

/** Follows the SSE feed; `events` fills as they arrive. */
async function follow(res: Resources, url: string, headers: Record<string, string>): Promise<{ response: IncomingMessage; events: { event: string; data: Record<string, unknown> }[] }> {
  const events: { event: string; data: Record<string, unknown> }[] = [];
  const req = request(url, { headers, agent: false });
  req.end();
  const [response] = (await once(req, 'response')) as [IncomingMessage];
  res.add(() => void req.destroy());
  let buf = '';
  response.setEncoding('utf8');
  response.on('data', (chunk: string) => {
    buf += chunk;
    let i: number;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const event = /^event: (.*)$/m.exec(block)?.[1];
      const data = /^data: (.*)$/m.exec(block)?.[1];
      if (event !== undefined && data !== undefined) events.push({ event, data: JSON.parse(data) as Record<string, unknown> });
    }
  });
  return { response, events };
}

describe('proxy.admin(): auth', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('with a token, answers 401 on every route without it or with a wrong one, and serves with it', async () => {
    const { admin } = await setup(res, proxies, { token: TOKEN });
    for (const path of ['/metrics', '/api/backends', '/api/connections', '/api/feed', '/nope']) {
      const r = await httpRequest(`${admin}${path}`);
      expect({ path, status: r.status, challenge: r.headers['www-authenticate'] }).toEqual({ path, status: 401, challenge: 'Bearer realm="switchboard"' });
      expect(r.body).not.toContain('127.0.0.1');
      expect((await httpRequest(`${admin}${path}`, { headers: { authorization: `Bearer ${TOKEN}x` } })).status).toBe(401);
      expect((await httpRequest(`${admin}${path}`, { headers: { authorization: TOKEN } })).status).toBe(401);
    }
    expect((await post(`${admin}/api/backends/a/drain`, {}, {})).status).toBe(401);
    // The page comes with the 401 so a browser can ask for the token; it holds no data.
    const page = await httpRequest(`${admin}/`);
    expect(page.status).toBe(401);
    expect(page.body).toContain('<title>Switchboard admin</title>');
    expect(page.body).not.toMatch(/127\.0\.0\.1|"a"|"b"/);

    const backends = await httpRequest(`${admin}/api/backends`, { headers: AUTH });
    expect(backends.status).toBe(200);
    expect(json(backends)['backends']).toEqual([expect.objectContaining({ id: 'a', url: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+\/$/), state: 'up' }), expect.objectContaining({ id: 'b', state: 'up' })]);
    const metrics = await httpRequest(`${admin}/metrics`, { headers: AUTH });
    expect(metrics.headers['content-type']).toBe('text/plain; version=0.0.4; charset=utf-8');
    expect(metrics.body).toContain('switchboard_backend_up{route="default",backend="a"} 1');
  });

  it('without a token, serves reads without backend addresses and refuses writes with 403 unless opened', async () => {
    const { admin, proxy } = await setup(res, proxies, {});
    const r = await httpRequest(`${admin}/api/backends`);
    expect(r.status).toBe(200);
    expect(r.body).not.toContain('127.0.0.1');
    expect(json(r)['backends']).toEqual([{ id: 'a', route: 'default', weight: 1, state: 'up', activeConnections: 0, maxConnections: null }, expect.objectContaining({ id: 'b' })]);
    const refused = await post(`${admin}/api/backends/a/drain`, {}, {});
    expect(refused.status).toBe(403);
    expect(json(refused)['error']).toMatch(/token/);
    expect((await httpRequest(`${admin}/api/backends/a`, { method: 'DELETE' })).status).toBe(403);
    expect(proxy.backends().map((b) => b.state)).toEqual(['up', 'up']);
  });

  it('with allowUnauthenticatedWrites, accepts writes that carry application/json only', async () => {
    const { admin, proxy } = await setup(res, proxies, { allowUnauthenticatedWrites: true });
    expect((await httpRequest(`${admin}/api/backends/a/drain`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: '{}' })).status).toBe(415);
    expect((await httpRequest(`${admin}/api/backends/a/drain`, { method: 'POST' })).status).toBe(415);
    expect((await post(`${admin}/api/backends/a/drain`, {}, {})).status).toBe(202);
    expect(proxy.backends()[0]!.state).toBe('draining');
  });

  it('refuses an empty or whitespace token and bad limits at creation with ERR_INVALID_OPTION', async () => {
    const a = await startBackend(res, 'a');
    const { proxy } = await proxies.start({ backends: [a.url], healthCheck: false });
    expect(() => proxy.admin({ token: '' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => proxy.admin({ token: 'two words' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    expect(() => proxy.admin({ maxBodyBytes: 0 })).toThrow(/maxBodyBytes must be an integer from 1/);
    expect(() => proxy.admin({ pageSize: 5000 })).toThrow(/pageSize must be an integer from 1 to 1000/);
  });
});

describe('proxy.admin(): API', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('pages and filters the live connections by route, backend and client address', async () => {
    const { admin, wsUrl } = await setup(res, proxies, { token: TOKEN });
    const sockets: WebSocket[] = [];
    for (let i = 0; i < 5; i++) sockets.push(await openWs(res, wsUrl));
    const get = async (query: string): Promise<Record<string, unknown>> => {
      const r = await httpRequest(`${admin}/api/connections${query}`, { headers: AUTH });
      expect(r.status).toBe(200);
      return json(r);
    };
    const all = await get('');
    expect(all).toMatchObject({ total: 5, offset: 0, limit: 100 });
    const rows = all['connections'] as { id: number; client: string; backend: string; route: string; protocol: string; ageMs: number; bytesIn: number }[];
    expect(rows.map((c) => c.backend)).toEqual(['a', 'b', 'a', 'b', 'a']);
    expect(rows.every((c) => c.route === 'default' && c.protocol === 'websocket' && c.ageMs >= 0 && c.bytesIn >= 0)).toBe(true);

    const page = await get('?offset=1&limit=2');
    expect(page).toMatchObject({ total: 5, offset: 1, limit: 2 });
    expect((page['connections'] as { id: number }[]).map((c) => c.id)).toEqual([rows[1]!.id, rows[2]!.id]);
    expect(((await get('?offset=4&limit=2'))['connections'] as unknown[]).length).toBe(1);
    expect((await get('?backend=b'))['total']).toBe(2);
    expect((await get('?route=default&backend=a'))['total']).toBe(3);
    expect((await get('?route=other'))['total']).toBe(0);
    const port = (sockets[3] as unknown as { _socket: { localPort: number } })._socket.localPort;
    const one = await get(`?client=${encodeURIComponent(`127.0.0.1:${port}`)}`);
    expect(one['total']).toBe(1);
    expect((one['connections'] as { client: string; backend: string }[])[0]).toMatchObject({ client: `127.0.0.1:${port}`, backend: 'b' });

    for (const bad of ['?limit=0', '?limit=1001', '?offset=-1', '?limit=abc', '?sort=age']) {
      const r = await httpRequest(`${admin}/api/connections${bad}`, { headers: AUTH });
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
      expect(json(r)['error']).toEqual(expect.any(String));
    }
    for (const ws of sockets) ws.close();
  });

  it('drains (WebSockets get 1012), undrains and reweighs a backend, with 4xx for bad input', async () => {
    const { admin, wsUrl, proxy } = await setup(res, proxies, { token: TOKEN, maxBodyBytes: 256 });
    const onA = await openWs(res, wsUrl);
    const onB = await openWs(res, wsUrl);
    const closed = once(onA, 'close');

    expect((await post(`${admin}/api/backends/nope/drain`, {})).status).toBe(404);
    expect((await post(`${admin}/api/backends/a/drain`, '{"timeout":')).status).toBe(400);
    expect((await post(`${admin}/api/backends/a/drain`, [1])).status).toBe(400);
    expect((await post(`${admin}/api/backends/a/drain`, { code: 999 })).status).toBe(400);
    expect((await post(`${admin}/api/backends/a/drain`, { padding: 'x'.repeat(300) })).status).toBe(413);
    expect((await httpRequest(`${admin}/api/backends/a/drain`, { headers: AUTH })).status).toBe(405);
    expect(proxy.backends()[0]!.state).toBe('up');

    const drained = await post(`${admin}/api/backends/a/drain`, { timeout: 2000 });
    expect(drained.status).toBe(202);
    expect(proxy.backends()[0]!.state).toBe('draining');
    const [code] = (await closed) as [number];
    expect(code).toBe(1012);
    expect(onB.readyState).toBe(onB.OPEN);

    expect((await post(`${admin}/api/backends/a/undrain`, {})).status).toBe(200);
    expect(proxy.backends()[0]!.state).toBe('up');

    expect((await post(`${admin}/api/backends/b/weight`, { weight: 3 })).status).toBe(200);
    expect(proxy.backends()[1]!.weight).toBe(3);
    for (const bad of [{ weight: 0 }, { weight: 1.5 }, { weight: '3' }, {}, { wieght: 3 }]) {
      const r = await post(`${admin}/api/backends/b/weight`, bad);
      expect({ bad, status: r.status }).toEqual({ bad, status: 400 });
    }
    expect(proxy.backends()[1]!.weight).toBe(3);
    onB.close();
    await once(onB, 'close');
  });

  it('adds a backend that takes connections, refuses duplicates and bad specs, and deletes it after draining', async () => {
    const { admin, wsUrl, proxy } = await setup(res, proxies, { token: TOKEN });
    const c = await startBackend(res, 'c');
    const added = await post(`${admin}/api/backends`, { url: c.url, id: 'c', weight: 2 });
    expect(added.status).toBe(201);
    expect(json(added)['backend']).toMatchObject({ id: 'c', weight: 2, state: 'up' });
    expect((await post(`${admin}/api/backends`, { url: c.url, id: 'c' })).status).toBe(409);
    expect((await post(`${admin}/api/backends`, { url: 'ftp://x' })).status).toBe(400);
    expect((await post(`${admin}/api/backends`, { id: 'd' })).status).toBe(400);
    expect((await post(`${admin}/api/backends`, { url: c.url, id: 'e', extra: true })).status).toBe(400);

    await proxy.drain('a', { timeout: 0 });
    await proxy.drain('b', { timeout: 0 });
    const ws = await openWs(res, wsUrl);
    expect(proxy.connections()[0]!.backend.id).toBe('c');
    const closed = once(ws, 'close');
    const removed = await httpRequest(`${admin}/api/backends/c?timeout=2000`, { method: 'DELETE', headers: AUTH });
    expect(removed.status).toBe(200);
    expect(((await closed) as [number])[0]).toBe(1012);
    expect(proxy.backends().map((b) => b.id)).toEqual(['a', 'b']);
    expect((await httpRequest(`${admin}/api/backends/c`, { method: 'DELETE', headers: AUTH })).status).toBe(404);
    expect((await httpRequest(`${admin}/api/backends/a?drain=maybe`, { method: 'DELETE', headers: AUTH })).status).toBe(400);
  });

  it('acts on the route given by ?route= (default: the top-level backends)', async () => {
    const a = await startBackend(res, 'a');
    const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a.url, id: 'a' }], routes: [{ id: 'chat', path: '/chat', backends: [{ url: a.url, id: 'a' }] }], healthCheck: false });
    const handler = proxy.admin({ token: TOKEN });
    res.add(() => handler.close());
    const admin = `http://127.0.0.1:${await listenLocal(res, createServer(handler))}`;
    const plain = await openWs(res, `${wsUrl}/`);
    const chat = await openWs(res, `${wsUrl}/chat`);
    const rows = json(await httpRequest(`${admin}/api/connections?route=chat`, { headers: AUTH }));
    expect(rows['total']).toBe(1);
    expect((await post(`${admin}/api/backends/a/drain?route=nope`, {})).status).toBe(404);
    const closed = once(chat, 'close');
    expect((await post(`${admin}/api/backends/a/drain?route=chat`, {})).status).toBe(202);
    expect(((await closed) as [number])[0]).toBe(1012);
    expect(proxy.backends().map((b) => `${b.route}/${b.id}:${b.state}`)).toEqual(['default/a:up', 'chat/a:draining']);
    expect(plain.readyState).toBe(plain.OPEN);
    expect((await post(`${admin}/api/backends`, { url: a.url, id: 'a2', route: 'chat' })).status).toBe(201);
    expect((await post(`${admin}/api/backends`, { url: a.url, id: 'a3', route: 'nope' })).status).toBe(404);
    expect(proxy.backends().map((b) => `${b.route}/${b.id}`)).toEqual(['default/a', 'chat/a', 'chat/a2']);
    plain.close();
    await once(plain, 'close');
  });

  it('streams opens, closes and backend changes on the feed, and bounds its clients', async () => {
    const { admin, wsUrl, proxy } = await setup(res, proxies, { token: TOKEN, maxFeedClients: 1 });
    expect((await httpRequest(`${admin}/api/feed`)).status).toBe(401);
    const { response, events } = await follow(res, `${admin}/api/feed`, AUTH);
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/event-stream; charset=utf-8');
    expect((await httpRequest(`${admin}/api/feed`, { headers: AUTH })).status).toBe(503);

    const ws = await openWs(res, wsUrl);
    await waitFor(() => events.length >= 1, 3000, 'open event');
    const id = proxy.connections()[0]!.id;
    ws.close();
    await once(ws, 'close');
    // The client's close completes when the proxy answers its close frame; the entry ends when the backend's side
    // has closed too, which can come later on a loaded machine. Wait for it, so the feed's order is the spec's.
    await waitFor(() => events.length >= 2, 3000, 'close event');
    await post(`${admin}/api/backends/b/drain`, {});
    await waitFor(() => events.length >= 3, 3000, 'close and state events');
    expect(events[0]).toEqual({ event: 'open', data: expect.objectContaining({ id, backend: 'a', route: 'default', protocol: 'websocket' }) });
    expect(events[1]).toEqual({ event: 'close', data: expect.objectContaining({ id, backend: 'a', reason: 'normal' }) });
    expect(events[2]).toEqual({ event: 'backend', data: expect.objectContaining({ change: 'state', previous: 'up', backend: expect.objectContaining({ id: 'b', state: 'draining', url: expect.any(String) }) }) });
    // The feed stops listening to the proxy when its last client leaves.
    response.destroy();
    await waitFor(() => proxy.listenerCount('connectionOpen') === 0, 3000, 'feed to unsubscribe');
  });
});
