/**
 * Issue 10, item 9: backend addresses must not reach the client in the forms the first fix missed — Location values
 * a browser normalises (no scheme, backslashes, one slash, mixed case, tabs), trailers, and a backend that sees its
 * own address because the client removed Host (`Connection: host`) or never sent one (HTTP/1.0).
 */
import { once } from 'node:events';
import { createServer, type Server, type Socket } from 'node:net';
import { httpRequest } from './helpers/http';
import { WS_HEADERS, bodyOf, head, rawExchange } from './helpers/raw';
import { proxySuite, startBackend } from './helpers/servers';

const PUBLIC = 'www.public.example';

/** Location values that a browser resolves to the backend at `port` (WHATWG URL parser, against the page's URL). */
const LOCATION_FORMS: readonly [string, (port: number) => string][] = [
  ['scheme-relative //host:port/x', (p) => `//127.0.0.1:${p}/x`],
  ['backslashes http:\\\\host:port\\x', (p) => `http:\\\\127.0.0.1:${p}\\x`],
  ['one slash http:/host:port/x', (p) => `http:/127.0.0.1:${p}/x`],
  ['mixed-case scheme HtTp://', (p) => `HtTp://127.0.0.1:${p}/x`],
  ['no slash at all http:host:port/x (an authority from a page of another scheme)', (p) => `http:127.0.0.1:${p}/x`],
  ['scheme-relative with backslashes \\\\host:port/x', (p) => `\\\\127.0.0.1:${p}/x`],
  ['slash-backslash /\\host:port/x', (p) => `/\\127.0.0.1:${p}/x`],
  ['a tab between the slashes /<TAB>/host:port/x', (p) => `/\t/127.0.0.1:${p}/x`],
  ['a tab inside the host', (p) => `http://127.0.0\t.1:${p}/x`],
  ['a hexadecimal IPv4 host http://0x7f.1:port/x', (p) => `http://0x7f.1:${p}/x`],
];

describe('issue 10 item 9: hidden metadata, the remaining forms', () => {
  // Every test ends by checking that the proxies' tables are empty.
  const { res, proxies } = proxySuite();

  describe('Location and Content-Location in every form a browser follows', () => {
    it.each(LOCATION_FORMS)('%s is rewritten to the public origin', async (_name, form) => {
      let value = '';
      const backend = await startBackend(res, 'a', (_req, r) => {
        r.writeHead(302, { location: value, 'content-location': value });
        r.end();
      });
      value = form(backend.port);
      const { url } = await proxies.start({ backends: [backend.url] });
      const r = await httpRequest(`${url}/`, { headers: { host: PUBLIC } });
      expect(r.status).toBe(302);
      expect(r.headers['location']).toBe(`http://${PUBLIC}/x`);
      expect(r.headers['content-location']).toBe(`http://${PUBLIC}/x`);
    });

    it('leaves relative paths and other hosts alone, whatever their form', async () => {
      const values = ['/login?next=%2F', 'login', '//other.example/x', 'http:\\\\other.example\\x', '?q=1', '#top'];
      let i = 0;
      const backend = await startBackend(res, 'a', (_req, r) => {
        r.writeHead(302, { location: values[i++]! });
        r.end();
      });
      const { url } = await proxies.start({ backends: [backend.url] });
      for (const expected of values) {
        const r = await httpRequest(`${url}/`, { headers: { host: PUBLIC } });
        expect(r.headers['location']).toBe(expected);
      }
    });
  });

  describe('trailers', () => {
    it('drops hidden headers from HTTP trailers and rewrites a Location trailer', async () => {
      let backendPort = 0;
      const backend = await startBackend(res, 'a', (_req, r) => {
        r.writeHead(200, { 'content-type': 'text/plain', trailer: 'X-App-Trailer' });
        r.write('body');
        r.addTrailers([
          ['X-Backend-Server', 'node-7.internal'],
          ['Server', 'Apache/2.4.1'],
          ['X-Powered-By', 'Express'],
          ['Location', `http://127.0.0.1:${backendPort}/t`],
          ['X-App-Trailer', 'kept'],
        ]);
        r.end();
      });
      backendPort = backend.port;
      const { url } = await proxies.start({ backends: [backend.url] });
      const r = await httpRequest(`${url}/`, { headers: { host: PUBLIC } });
      expect(r.body).toBe('body');
      expect(r.trailers).toEqual({ location: `http://${PUBLIC}/t`, 'x-app-trailer': 'kept' });
    });

    it('drops hidden headers from the trailers of a refused upgrade relayed byte for byte', async () => {
      const sockets = new Set<Socket>();
      const server: Server = createServer((s) => {
        sockets.add(s);
        s.on('error', () => undefined);
        s.once('data', () => {
          const port = (s.address() as { port: number }).port;
          s.end(
            'HTTP/1.1 404 Not Found\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n' +
              '4\r\nnope\r\n0\r\n' +
              `X-Backend-Server: node-7.internal\r\nLocation: http://127.0.0.1:${port}/t\r\nX-App-Trailer: kept\r\n\r\n`,
          );
        });
      });
      server.listen(0, '127.0.0.1');
      await once(server, 'listening');
      const port = (server.address() as { port: number }).port;
      res.add(() => new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }));
      const proxy = await proxies.start({ backends: [`http://127.0.0.1:${port}`] });
      const answer = await rawExchange(proxy.port, head('GET /ws HTTP/1.1', `Host: ${PUBLIC}`, ...WS_HEADERS));
      expect(answer.status).toBe(404);
      const text = answer.data.toString('latin1');
      expect(text).toContain('4\r\nnope\r\n0\r\n');
      expect(text).toContain('X-App-Trailer: kept\r\n');
      expect(text).toContain(`Location: http://${PUBLIC}/t\r\n`);
      expect(text).not.toContain('node-7');
      expect(text).not.toContain(String(port));
      expect(text.endsWith('\r\n\r\n')).toBe(true);
    });
  });

  describe('the backend never sees (and so never echoes) its own address as Host', () => {
    it('keeps Host when the client names it in Connection (HTTP and the upgrade path)', async () => {
      const backend = await startBackend(res, 'a');
      const upgradeHosts: (string | undefined)[] = [];
      backend.server.prependListener('upgrade', (req) => upgradeHosts.push(req.headers.host));
      const { port } = await proxies.start({ backends: [backend.url] });
      const answer = await rawExchange(port, head('GET /who HTTP/1.1', `Host: ${PUBLIC}`, 'Connection: host, close'));
      expect(answer.status).toBe(200);
      expect(bodyOf(answer)).not.toContain(String(backend.port));
      expect((JSON.parse(bodyOf(answer)) as { headers: Record<string, string> }).headers.host).toBe(PUBLIC);

      const ws = await rawExchange(port, [head('GET /ws HTTP/1.1', `Host: ${PUBLIC}`, ...WS_HEADERS.slice(0, 1), 'Connection: Upgrade, Host', ...WS_HEADERS.slice(2)), { wait: 100 }], 300);
      expect(ws.status).toBe(101);
      expect(upgradeHosts).toEqual([PUBLIC]);
    });

    it('sends the address the client reached the proxy at when an HTTP/1.0 request has no Host', async () => {
      let backendPort = 0;
      const backend = await startBackend(res, 'a', (req, r) => {
        if (req.url === '/redirect') {
          r.writeHead(302, { location: `http://127.0.0.1:${backendPort}/x` });
          r.end();
          return;
        }
        r.end(JSON.stringify({ host: req.headers.host, xfh: req.headers['x-forwarded-host'] }));
      });
      backendPort = backend.port;
      const { port } = await proxies.start({ backends: [backend.url] });
      const answer = await rawExchange(port, head('GET /who HTTP/1.0'));
      expect(answer.status).toBe(200);
      expect(JSON.parse(bodyOf(answer))).toEqual({ host: `127.0.0.1:${port}`, xfh: `127.0.0.1:${port}` });
      const redirect = await rawExchange(port, head('GET /redirect HTTP/1.0'));
      expect(redirect.status).toBe(302);
      expect(redirect.data.toString('latin1')).toMatch(new RegExp(`\r\nlocation: http://127\\.0\\.0\\.1:${port}/x\r\n`, 'i'));
      expect(redirect.data.toString('latin1')).not.toContain(String(backendPort));
    });

    it('sends the same on the upgrade path when an HTTP/1.0 handshake has no Host', async () => {
      const backend = await startBackend(res, 'a');
      const upgradeHosts: (string | undefined)[] = [];
      backend.server.prependListener('upgrade', (req) => upgradeHosts.push(req.headers.host));
      const { port } = await proxies.start({ backends: [backend.url] });
      const answer = await rawExchange(port, [head('GET /ws HTTP/1.0', ...WS_HEADERS), { wait: 100 }], 300);
      expect(answer.status).toBe(101);
      expect(upgradeHosts).toEqual([`127.0.0.1:${port}`]);
    });
  });
});
