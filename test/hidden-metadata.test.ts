import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket } from 'ws';
import { httpRequest } from './helpers/http';
import { Resources, expectRefusal, startBackend, startProxy } from './helpers/servers';

const REVEALING = {
  server: 'Apache/2.4.1 (Ubuntu)',
  'x-powered-by': 'Express',
  'x-aspnet-version': '4.0.30319',
  'x-aspnetmvc-version': '5.2',
  'x-runtime': '0.0123',
  via: '1.1 internal-lb',
  'x-backend-server': 'node-7.internal',
  'x-backend': 'b7',
};

/** A TCP port with nothing listening on it. */
async function deadPort(): Promise<number> {
  const s: Server = createServer();
  s.listen(0, '127.0.0.1');
  await once(s, 'listening');
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('hidden backend metadata', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('removes Server, X-Powered-By, X-AspNet*, X-Runtime, Via and X-Backend* from HTTP responses by default', async () => {
    const backend = await startBackend(res, 'a', (_req, r) => {
      r.writeHead(200, { ...REVEALING, 'x-app': 'kept' });
      r.end('ok');
    });
    const { url } = await startProxy(res, { backends: [backend.url] });
    const r = await httpRequest(`${url}/`);
    for (const name of Object.keys(REVEALING)) expect(r.headers[name]).toBeUndefined();
    expect(r.headers['x-app']).toBe('kept');
  });

  it('removes them from the 101 of a WebSocket upgrade too', async () => {
    const backend = await startBackend(res, 'a');
    backend.wss.on('headers', (headers: string[]) => {
      headers.push('Server: ws-backend/1.0', 'X-Powered-By: node', 'X-Backend-Id: a');
    });
    const { wsUrl } = await startProxy(res, { backends: [backend.url] });
    const ws = new WebSocket(wsUrl);
    res.add(() => ws.terminate());
    const opened = once(ws, 'open');
    const [response] = (await once(ws, 'upgrade')) as [{ headers: Record<string, string> }];
    expect(response.headers['server']).toBeUndefined();
    expect(response.headers['x-powered-by']).toBeUndefined();
    expect(response.headers['x-backend-id']).toBeUndefined();
    await opened;
  });

  it('lets the operator edit the list (add, remove) or replace Server with its own', async () => {
    const backend = await startBackend(res, 'a', (_req, r) => {
      r.writeHead(200, { via: '1.1 lb', 'x-served-by': 'b7', server: 'nginx' });
      r.end('ok');
    });
    const { url } = await startProxy(res, {
      backends: [backend.url],
      hideHeaders: { add: ['x-served-by'], remove: ['via'] },
      server: 'switchboard',
    });
    const r = await httpRequest(`${url}/`);
    expect(r.headers['via']).toBe('1.1 lb');
    expect(r.headers['x-served-by']).toBeUndefined();
    expect(r.headers['server']).toBe('switchboard');

    const replaced = await startProxy(res, { backends: [backend.url], hideHeaders: ['x-served-by'] });
    const r2 = await httpRequest(`${replaced.url}/`);
    expect(r2.headers['server']).toBe('nginx');
    expect(r2.headers['x-served-by']).toBeUndefined();
  });

  it('rewrites absolute Location and Content-Location that point at a backend to the public host', async () => {
    let backendOrigin = '';
    const backend = await startBackend(res, 'a', (req, r) => {
      if (req.url === '/elsewhere') r.writeHead(302, { location: 'https://other.example/x' });
      else r.writeHead(301, { location: `${backendOrigin}/login?next=%2F#top`, 'content-location': `${backendOrigin}/c` });
      r.end();
    });
    backendOrigin = backend.url;
    const { url } = await startProxy(res, { backends: [backend.url] });
    const r = await httpRequest(`${url}/`, { headers: { host: 'www.public.example' } });
    expect(r.status).toBe(301);
    expect(r.headers['location']).toBe('http://www.public.example/login?next=%2F#top');
    expect(r.headers['content-location']).toBe('http://www.public.example/c');
    const other = await httpRequest(`${url}/elsewhere`);
    expect(other.headers['location']).toBe('https://other.example/x');

    const off = await startProxy(res, { backends: [backend.url], rewriteLocation: false });
    const r3 = await httpRequest(`${off.url}/`);
    expect(r3.headers['location']).toBe(`${backendOrigin}/login?next=%2F#top`);
  });

  describe('errors the proxy makes itself', () => {
    it('answers 502 with a generic body when the backend refuses; the detail goes to the error event', async () => {
      const port = await deadPort();
      const { url, proxy } = await startProxy(res, { backends: [{ url: `http://127.0.0.1:${port}`, id: 'secret-node-id' }] });
      const errors: { code: string; backendId: string | undefined }[] = [];
      proxy.on('error', (e) => errors.push({ code: e.code, backendId: e.backendId }));
      const r = await httpRequest(`${url}/`);
      expect(r.status).toBe(502);
      expect(r.body).toBe('502 Bad Gateway\n');
      const raw = JSON.stringify(r.rawHeaders) + r.body;
      expect(raw).not.toContain(String(port));
      expect(raw).not.toContain('secret-node-id');
      expect(raw).not.toContain('127.0.0.1');
      expect(errors).toEqual([{ code: 'ERR_BACKEND_CONNECT', backendId: 'secret-node-id' }]);
    });

    it('answers a refused WebSocket upgrade with the same generic 502', async () => {
      const port = await deadPort();
      const { wsUrl, proxy } = await startProxy(res, { backends: [`http://127.0.0.1:${port}`] });
      const refusal = await expectRefusal(wsUrl);
      expect(refusal.status).toBe(502);
      expect(refusal.body).toBe('502 Bad Gateway\n');
      expect(proxy.connections()).toHaveLength(0);
    });

    it('answers 504 when the backend does not send headers in time', async () => {
      const backend = await startBackend(res, 'a', () => undefined);
      const { url } = await startProxy(res, { backends: [backend.url], headersTimeout: 100 });
      const r = await httpRequest(`${url}/`);
      expect(r.status).toBe(504);
      expect(r.body).toBe('504 Gateway Timeout\n');
      expect(r.body).not.toContain(String(backend.port));
    });

    it('answers 503 with Retry-After when no backend is available', async () => {
      const backend = await startBackend(res, 'a');
      const { url } = await startProxy(res, {
        backends: [backend.url],
        strategy: { name: 'none', pick: () => undefined },
        retryAfter: 7,
      });
      const r = await httpRequest(`${url}/`);
      expect(r.status).toBe(503);
      expect(r.headers['retry-after']).toBe('7');
      expect(r.body).toBe('503 Service Unavailable\n');
    });

    it('never reveals the backend through a socket it left open', async () => {
      // A backend that accepts and immediately resets every connection.
      const sockets = new Set<Socket>();
      const server = createServer();
      server.on('connection', (s: Socket) => s.resetAndDestroy());
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      res.add(() => new Promise<void>((r) => { for (const s of sockets) s.destroy(); server.close(() => r()); }));
      const port = (server.address() as AddressInfo).port;
      const { url } = await startProxy(res, { backends: [`http://127.0.0.1:${port}`] });
      const r = await httpRequest(`${url}/`);
      expect(r.status).toBe(502);
      expect(r.body).toBe('502 Bad Gateway\n');
    });
  });
});
