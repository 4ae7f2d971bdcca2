import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import Fastify, { type FastifyInstance } from 'fastify';
import { isSwitchboardError, type Proxy, type SwitchboardError } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { CheckedProxies, listenLocal, Resources, startBackend, waitFor, type TestBackend } from './helpers/servers';

/** What the echo backend saw: the body bytes (base64) and the framing headers that came with them. */
interface Seen {
  body: string;
  contentLength: string | null;
  contentType: string | null;
  transferEncoding: string | null;
  contentEncoding: string | null;
}

/** A backend that answers with the body, Content-Length, Content-Type and Transfer-Encoding it received. */
function echoBody(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const seen: Seen = {
      body: Buffer.concat(chunks).toString('base64'),
      contentLength: req.headers['content-length'] ?? null,
      contentType: req.headers['content-type'] ?? null,
      transferEncoding: req.headers['transfer-encoding'] ?? null,
      contentEncoding: req.headers['content-encoding'] ?? null,
    };
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(seen));
  });
}

function seenOf(body: string): Seen & { bytes: Buffer } {
  const seen = JSON.parse(body) as Seen;
  return { ...seen, bytes: Buffer.from(seen.body, 'base64') };
}

/** Errors the proxy reported, by code. */
function collectErrors(proxy: Proxy): SwitchboardError[] {
  const errors: SwitchboardError[] = [];
  proxy.on('error', (err) => errors.push(err));
  return errors;
}

describe('issue 10 item 8: a body a framework already read is still forwarded', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  let backend: TestBackend;

  beforeEach(async () => {
    backend = await startBackend(res, 'echo', echoBody);
  });

  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  /** Express 5 with the four body parsers, then the proxy for every request. */
  async function expressFront(proxy: Proxy, before?: express.RequestHandler): Promise<string> {
    const app = express();
    if (before !== undefined) app.use(before);
    app.use(express.json());
    app.use(express.urlencoded());
    app.use(express.raw({ type: 'application/octet-stream' }));
    app.use(express.text());
    app.use((req, response) => proxy.handleRequest(req, response));
    const port = await listenLocal(res, createServer(app));
    return `http://127.0.0.1:${port}`;
  }

  /** Fastify 5: its JSON and text parsers, then the proxy from a route handler on the raw objects. */
  async function fastifyFront(proxy: Proxy, passBody: boolean): Promise<string> {
    const app: FastifyInstance = Fastify();
    app.post('/*', (request, reply) => {
      // The proxy writes the answer itself: Fastify must not send one too.
      reply.hijack();
      if (passBody) proxy.handleRequest(request.raw, reply.raw, { body: request.body });
      else proxy.handleRequest(request.raw, reply.raw);
    });
    await app.listen({ port: 0, host: '127.0.0.1' });
    res.add(() => app.close());
    return `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  describe('behind Express 5', () => {
    it('forwards a JSON body express.json() read, with a Content-Length that matches it', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await expressFront(proxy);
      const json = '{"name":"Jürgen","tags":["a","b"],"n":1.5,"ok":true,"none":null}';
      const r = await httpRequest(`${front}/orders?x=1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
      expect(r.status).toBe(200);
      const seen = seenOf(r.body);
      expect(seen.bytes.toString('utf8')).toBe(json);
      expect(seen.contentLength).toBe(String(Buffer.byteLength(json)));
      expect(seen.contentType).toBe('application/json');
      expect(seen.transferEncoding).toBeNull();
    });

    it('forwards a chunked JSON body with a Content-Length instead of Transfer-Encoding', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await expressFront(proxy);
      const r = await httpRequest(`${front}/`, {
        method: 'POST',
        headers: { 'content-type': 'application/json; charset=utf-8', 'transfer-encoding': 'chunked' },
        body: '{"a":[1,2,3]}',
      });
      expect(r.status).toBe(200);
      const seen = seenOf(r.body);
      expect(seen.bytes.toString()).toBe('{"a":[1,2,3]}');
      expect(seen.contentLength).toBe('13');
      expect(seen.transferEncoding).toBeNull();
    });

    it('forwards an urlencoded form express.urlencoded() read, re-encoded to the same pairs', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await expressFront(proxy);
      const form = 'name=J%C3%BCrgen+X&tag=a&tag=b&empty=';
      const r = await httpRequest(`${front}/form`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      expect(r.status).toBe(200);
      const seen = seenOf(r.body);
      expect(seen.bytes.toString()).toBe(form);
      expect(seen.contentLength).toBe(String(form.length));
      expect([...new URLSearchParams(seen.bytes.toString())]).toEqual([['name', 'Jürgen X'], ['tag', 'a'], ['tag', 'b'], ['empty', '']]);
    });

    it('forwards a Buffer express.raw() read byte for byte', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await expressFront(proxy);
      const bytes = Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7) & 0xff));
      const r = await httpRequest(`${front}/blob`, { method: 'PUT', headers: { 'content-type': 'application/octet-stream' }, body: bytes });
      expect(r.status).toBe(200);
      const seen = seenOf(r.body);
      expect(seen.bytes.equals(bytes)).toBe(true);
      expect(seen.contentLength).toBe('512');
    });

    it('forwards a string express.text() read, encoded in its declared charset', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await expressFront(proxy);
      const text = 'héllo wörld ✓';
      const r = await httpRequest(`${front}/note`, { method: 'POST', headers: { 'content-type': 'text/plain; charset=utf-8' }, body: text });
      expect(r.status).toBe(200);
      const seen = seenOf(r.body);
      expect(seen.bytes.toString('utf8')).toBe(text);
      expect(seen.contentLength).toBe(String(Buffer.byteLength(text)));
      expect(seen.contentType).toBe('text/plain; charset=utf-8');
    });

    it('still streams a body no parser read (a content type none of them takes)', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await expressFront(proxy);
      const r = await httpRequest(`${front}/x`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a>1</a>' });
      expect(r.status).toBe(200);
      expect(seenOf(r.body).bytes.toString()).toBe('<a>1</a>');
    });

    it('forwards the exact bytes a parser kept through its verify hook, when passed as the body option', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const app = express();
      app.use(express.json({ verify: (req, _res, buf) => ((req as IncomingMessage & { rawBody?: Buffer }).rawBody = buf) }));
      app.use((req, response) => proxy.handleRequest(req, response, { body: (req as IncomingMessage & { rawBody?: Buffer }).rawBody }));
      const front = `http://127.0.0.1:${await listenLocal(res, createServer(app))}`;
      const json = '{ "a" : 1.0,\n  "a": 2 }';
      const r = await httpRequest(`${front}/hook`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
      expect(r.status).toBe(200);
      expect(seenOf(r.body).bytes.toString()).toBe(json);
    });

    it('answers a request whose body was read and dropped with 500 ERR_BODY_CONSUMED, the generic body, and no backend request', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const errors = collectErrors(proxy);
      let backendRequests = 0;
      backend.server.on('request', () => backendRequests++);
      // A middleware that drains the body and keeps nothing, as a logging or signature check might.
      const drain: express.RequestHandler = (req, _res, next) => {
        req.on('data', () => undefined);
        req.on('end', () => next());
      };
      const front = await expressFront(proxy, drain);
      const r = await httpRequest(`${front}/x`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a>1</a>' });
      expect(r.status).toBe(500);
      expect(r.body).toBe('500 Internal Server Error\n');
      expect(backendRequests).toBe(0);
      const err = errors.find((e) => e.code === 'ERR_BODY_CONSUMED');
      expect(err).toBeDefined();
      expect(isSwitchboardError(err)).toBe(true);
      expect(err!.name).toBe('ConsumedBodyError');
      expect(err!.status).toBe(500);
      expect(err!.message).toMatch(/already read/);
      expect(err!.message).toMatch(/req\.body|body option/);
    });

    it('answers an object body it cannot serialize for its content type with 500 ERR_BODY_CONSUMED naming the type', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const errors = collectErrors(proxy);
      // A parser that leaves an object for a type the proxy has no serializer for.
      const xmlParser: express.RequestHandler = (req, _res, next) => {
        if (!req.is('application/xml')) return next();
        req.on('data', () => undefined);
        req.on('end', () => {
          (req as IncomingMessage & { body?: unknown }).body = { a: '1' };
          next();
        });
      };
      const front = await expressFront(proxy, xmlParser);
      const r = await httpRequest(`${front}/x`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a>1</a>' });
      expect(r.status).toBe(500);
      const err = errors.find((e) => e.code === 'ERR_BODY_CONSUMED');
      expect(err?.message).toMatch(/application\/xml/);
    });

    it('keeps the backend in service after many JSON POSTs and many consumed-body refusals', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url], outlierDetection: { consecutiveFailures: 3 } });
      const drainXml: express.RequestHandler = (req, _res, next) => {
        if (!req.is('application/xml')) return next();
        req.on('data', () => undefined);
        req.on('end', () => next());
      };
      const front = await expressFront(proxy, drainXml);
      for (let i = 0; i < 20; i++) {
        const ok = await httpRequest(`${front}/j`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: `{"i":${i}}` });
        expect(ok.status).toBe(200);
        expect(seenOf(ok.body).bytes.toString()).toBe(`{"i":${i}}`);
        const refused = await httpRequest(`${front}/x`, { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<a/>' });
        expect(refused.status).toBe(500);
      }
      expect(proxy.backends().map((b) => b.state)).toEqual(['up']);
      const after = await httpRequest(`${front}/j`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(after.status).toBe(200);
    });
  });

  describe('behind Fastify 5', () => {
    it('forwards the JSON body Fastify parsed when the route passes request.body', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await fastifyFront(proxy, true);
      const json = '{"user":{"id":7,"roles":["admin"]}}';
      const r = await httpRequest(`${front}/api/users`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: json });
      expect(r.status).toBe(200);
      const seen = seenOf(r.body);
      expect(seen.bytes.toString()).toBe(json);
      expect(seen.contentLength).toBe(String(json.length));
    });

    it('forwards the text body Fastify parsed as a string', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const front = await fastifyFront(proxy, true);
      const r = await httpRequest(`${front}/t`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: 'plain ✓' });
      expect(r.status).toBe(200);
      expect(seenOf(r.body).bytes.toString()).toBe('plain ✓');
    });

    it('streams the body untouched when the proxied routes replace the parsers with one that reads nothing', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const app: FastifyInstance = Fastify();
      await app.register(async (api) => {
        api.removeAllContentTypeParsers();
        api.addContentTypeParser('*', (_req, _payload, done) => done(null));
        api.post('/api/*', (request, reply) => {
          reply.hijack();
          proxy.handleRequest(request.raw, reply.raw);
        });
      });
      await app.listen({ port: 0, host: '127.0.0.1' });
      res.add(() => app.close());
      const json = '{ "spaced" : 1.0 }';
      const r = await httpRequest(`http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/x`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: json,
      });
      expect(r.status).toBe(200);
      expect(seenOf(r.body).bytes.toString()).toBe(json);
    });

    it('refuses with ERR_BODY_CONSUMED when the route passes only request.raw (Fastify leaves no body on it)', async () => {
      const { proxy } = await proxies.start({ backends: [backend.url] });
      const errors = collectErrors(proxy);
      const front = await fastifyFront(proxy, false);
      const r = await httpRequest(`${front}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"a":1}' });
      expect(r.status).toBe(500);
      await waitFor(() => errors.some((e) => e.code === 'ERR_BODY_CONSUMED'), 2000, 'ERR_BODY_CONSUMED');
      expect(proxy.backends().map((b) => b.state)).toEqual(['up']);
    });
  });
});
