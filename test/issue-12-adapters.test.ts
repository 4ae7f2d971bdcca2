import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import express from 'express';
import type { Proxy, SwitchboardError } from '@switchboard/proxy';
import { createExpressGateway, serveWebSockets } from '../packages/examples/src/guides/express-gateway';
import { createFastifyGateway } from '../packages/examples/src/guides/fastify-gateway';
import { createKoaGateway } from '../packages/examples/src/guides/koa-gateway';
import { createProxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { listenLocal, openWs, Resources, roundTrip, startBackend, waitFor } from './helpers/servers';

interface Echo {
  id: string;
  method: string;
  url: string;
  headers: Record<string, string>;
}

/** A backend that echoes method, url and the request body it received. */
async function startBodyEcho(res: Resources, id: string): ReturnType<typeof startBackend> {
  return startBackend(res, id, (req, r) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      r.setHeader('content-type', 'application/json');
      r.end(JSON.stringify({ id, method: req.method, url: req.url, headers: req.headers, body: Buffer.concat(chunks).toString() }));
    });
  });
}

async function closeProxy(res: Resources, proxy: Proxy): Promise<void> {
  res.add(async () => {
    await waitFor(() => proxy.connections().length === 0, 3000, 'empty table');
    await proxy.close();
  });
}

describe('framework adapters with the real frameworks', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('Express 5: app.use("/api", proxy.middleware()) keeps the mount path; parsed bodies and WebSockets go through', async () => {
    const api = await startBodyEcho(res, 'api');
    const chat = await startBackend(res, 'chat');
    const { app, proxy } = createExpressGateway(api.url, chat.url);
    await closeProxy(res, proxy);
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    res.add(() => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }));
    serveWebSockets(server, proxy);
    const r = await httpRequest(`http://127.0.0.1:${port}/api/users?page=2`);
    expect((JSON.parse(r.body) as Echo).url).toBe('/api/users?page=2');
    expect((await httpRequest(`http://127.0.0.1:${port}/healthz`)).body).toBe('ok');
    const ws = await openWs(res, `ws://127.0.0.1:${port}/chat/room`);
    expect(await roundTrip(ws, 'whoami')).toBe('chat');
    ws.close();
    await once(ws, 'close');
  });

  it('Express: a body parsed by express.json() is re-sent; fallthrough and forwardErrors hand over to next()', async () => {
    const api = await startBodyEcho(res, 'api');
    const proxy = createProxy({ routes: [{ id: 'api', path: '/api/v1', backends: [api.url] }, { id: 'dead', path: '/api/dead', backends: ['http://127.0.0.1:1'], retries: 0 }] });
    proxy.on('error', () => undefined);
    await closeProxy(res, proxy);
    const app = express();
    const passed: string[] = [];
    app.use(express.json());
    app.use('/api', proxy.middleware({ fallthrough: true, forwardErrors: true }));
    app.use((_req, r) => {
      r.status(418).send('express fallback');
    });
    app.use((err: SwitchboardError, _req: express.Request, r: express.Response, _next: express.NextFunction) => {
      passed.push(err.code);
      r.status(599).send('handled by express');
    });
    const server = app.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    res.add(() => new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }));
    const posted = await httpRequest(`http://127.0.0.1:${port}/api/v1/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
    const echoed = JSON.parse(posted.body) as Echo & { body: string };
    expect(echoed.url).toBe('/api/v1/items');
    expect(JSON.parse(echoed.body)).toEqual({ name: 'x' });
    const unmatched = await httpRequest(`http://127.0.0.1:${port}/api/other`);
    expect(unmatched.status).toBe(418);
    const failed = await httpRequest(`http://127.0.0.1:${port}/api/dead/x`);
    expect(failed.status).toBe(599);
    expect(passed).toEqual(['ERR_BACKEND_CONNECT']);
  });

  it('Fastify 5: the @switchboard/proxy/fastify plugin forwards with the parsed body, streams other bodies, and serves upgrades on Fastify\'s server', async () => {
    const api = await startBodyEcho(res, 'api');
    const { app, proxy } = await createFastifyGateway(api.url);
    res.add(async () => {
      await waitFor(() => proxy.connections().length === 0, 3000, 'empty table');
      await app.close();
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    const port = (app.server.address() as AddressInfo).port;
    const json = await httpRequest(`http://127.0.0.1:${port}/api/items`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"n":1}' });
    const echoed = JSON.parse(json.body) as Echo & { body: string };
    expect(echoed.url).toBe('/items');
    expect(JSON.parse(echoed.body)).toEqual({ n: 1 });
    const raw = await httpRequest(`http://127.0.0.1:${port}/api/upload`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: Buffer.from([0, 1, 2, 255]) });
    expect((JSON.parse(raw.body) as { body: string }).body).toBe(Buffer.from([0, 1, 2, 255]).toString());
    expect((await httpRequest(`http://127.0.0.1:${port}/healthz`)).body).toBe('ok');
    const ws = await openWs(res, `ws://127.0.0.1:${port}/api/live`);
    expect(await roundTrip(ws, 'whoami')).toBe('api');
    ws.close();
    await once(ws, 'close');
  });

  it('Koa 3: ctx.respond = false and handleRequest; upgrades from the server', async () => {
    const api = await startBackend(res, 'api');
    const { server, proxy } = createKoaGateway(api.url);
    await closeProxy(res, proxy);
    const port = await listenLocal(res, server);
    expect((JSON.parse((await httpRequest(`http://127.0.0.1:${port}/api/x`)).body) as Echo).url).toBe('/api/x');
    expect((await httpRequest(`http://127.0.0.1:${port}/elsewhere`)).body).toBe('koa');
    const ws = await openWs(res, `ws://127.0.0.1:${port}/api/live`);
    expect(await roundTrip(ws, 'whoami')).toBe('api');
    ws.close();
    await once(ws, 'close');
  });
});
