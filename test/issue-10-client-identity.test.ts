/**
 * Issue 10, item 10: client identity when the balancer names no client, X-Forwarded-* the proxy owns, and the
 * sticky cookie's Secure attribute. The test client is 127.0.0.1; trusting 'loopback' makes it the balancer.
 */
import { request as httpsRequest } from 'node:https';
import { createProxy, StickyCookieStrategy, type Proxy, type StickyCookieAttributes } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { PROXY_V2_SIGNATURE, proxyV2 } from './helpers/proxy-header';
import { WS_HEADERS, bodyOf, head, rawExchange } from './helpers/raw';
import { proxySuite, startBackend, waitFor } from './helpers/servers';
import { listenHttps, makeTestPki, type TestPki } from './helpers/tls';

/** A v2 PROXY-command header whose address family names no TCP client. */
function proxyV2NoAddress(familyTransport: number, blockLength: number): Buffer {
  const preamble = Buffer.from([0x21, familyTransport, 0, 0]);
  preamble.writeUInt16BE(blockLength, 2);
  return Buffer.concat([PROXY_V2_SIGNATURE, preamble, Buffer.alloc(blockLength, 0x2f)]);
}

const NO_CLIENT: readonly [string, () => string | Buffer][] = [
  ['v2 LOCAL', () => proxyV2({ command: 'local' })],
  ['v1 UNKNOWN', () => 'PROXY UNKNOWN\r\n'],
  ['v2 PROXY AF_UNIX', () => proxyV2NoAddress(0x31, 216)],
  ['v2 PROXY AF_UNSPEC', () => proxyV2NoAddress(0x00, 0)],
];

const FORGED = ['X-Forwarded-For: 6.6.6.6', 'Forwarded: for=6.6.6.6', 'X-Real-IP: 6.6.6.6'];

interface Echo {
  headers: Record<string, string | undefined>;
}

describe('issue 10 item 10: client identity when the balancer names no client', () => {
  // Every test ends by checking that the proxies' tables are empty.
  const { res, proxies } = proxySuite();

  describe('a trusted PROXY header without a client address', () => {
    it.each(NO_CLIENT)('%s: the peer stands; X-Forwarded-For and Forwarded from the client are not believed', async (_name, header) => {
      const backend = await startBackend(res, 'a');
      const upgrades: (string | undefined)[] = [];
      backend.server.prependListener('upgrade', (req) => upgrades.push(req.headers['x-forwarded-for'] as string | undefined));
      const { proxy, port } = await proxies.start({ backends: [backend.url], trustProxy: ['loopback'], proxyProtocol: true });
      const answer = await rawExchange(
        port,
        Buffer.concat([Buffer.from(header()), Buffer.from(head('GET /who HTTP/1.1', 'Host: 127.0.0.1', ...FORGED, 'Connection: close'))]),
      );
      expect(answer.status).toBe(200);
      const echo = JSON.parse(bodyOf(answer)) as Echo;
      expect(echo.headers['x-forwarded-for']).toBe('127.0.0.1');
      expect(echo.headers['forwarded']).toBeUndefined();
      expect(echo.headers['x-real-ip']).toBeUndefined();
      expect(JSON.stringify(echo)).not.toContain('6.6.6.6');

      const seen: string[][] = [];
      proxy.on('connectionOpen', (info) => seen.push([info.client.address]));
      const ws = await rawExchange(port, [Buffer.concat([Buffer.from(header()), Buffer.from(head('GET /ws HTTP/1.1', 'Host: 127.0.0.1', ...WS_HEADERS, ...FORGED))]), { wait: 100 }], 200);
      expect(ws.status).toBe(101);
      expect(seen).toEqual([['127.0.0.1']]);
      expect(upgrades).toEqual(['127.0.0.1']);
    });

    it('per-client limits count every such connection as the peer, whatever X-Forwarded-For says', async () => {
      const backend = await startBackend(res, 'a');
      const { proxy, port } = await proxies.start({
        backends: [backend.url],
        trustProxy: ['loopback'],
        proxyProtocol: true,
        maxConnectionsPerClient: 1,
      });
      const upgrade = (xff: string): Buffer =>
        Buffer.concat([proxyV2({ command: 'local' }), Buffer.from(head('GET /ws HTTP/1.1', 'Host: 127.0.0.1', ...WS_HEADERS, `X-Forwarded-For: ${xff}`))]);
      const first = rawExchange(port, [upgrade('6.6.6.1'), { wait: 400 }], 500);
      await waitFor(() => proxy.connections().length === 1, 3000, 'the first upgrade');
      const second = await rawExchange(port, upgrade('6.6.6.2'), 1000);
      expect(second.status).toBe(429);
      expect((await first).status).toBe(101);
    });
  });

  describe('X-Forwarded-* the proxy owns', () => {
    const OWNED = [
      'X-Forwarded-Ssl: on',
      'X-Forwarded-Port: 443',
      'X-Forwarded-Scheme: https',
      'X-Forwarded-Protocol: https',
      'X-Forwarded-Prefix: /admin',
      'X-Forwarded-Server: trusted.example',
      'X-Real-IP: 6.6.6.6',
      'Front-End-Https: on',
      'X-Url-Scheme: https',
      'X-Forwarded-Proto: https',
      'X-Forwarded-Host: evil.example',
    ];

    it('from an untrusted client are dropped or replaced on HTTP and on the upgrade path', async () => {
      const backend = await startBackend(res, 'a');
      const upgrades: Record<string, string | string[] | undefined>[] = [];
      backend.server.prependListener('upgrade', (req) => upgrades.push({ ...req.headers }));
      const { port } = await proxies.start({ backends: [backend.url] });
      const answer = await rawExchange(port, head('GET /who HTTP/1.1', 'Host: www.public.example', ...OWNED, 'Connection: close'));
      const echo = JSON.parse(bodyOf(answer)) as Echo;
      const ws = await rawExchange(port, [head('GET /ws HTTP/1.1', 'Host: www.public.example', ...WS_HEADERS, ...OWNED), { wait: 100 }], 200);
      expect(ws.status).toBe(101);
      for (const headers of [echo.headers, upgrades[0]!]) {
        const forwardedNames = Object.keys(headers).filter((n) => n.startsWith('x-forwarded-') || ['x-real-ip', 'front-end-https', 'x-url-scheme'].includes(n));
        expect(forwardedNames.sort()).toEqual(['x-forwarded-for', 'x-forwarded-host', 'x-forwarded-proto']);
        expect(headers['x-forwarded-proto']).toBe('http');
        expect(headers['x-forwarded-host']).toBe('www.public.example');
        expect(headers['x-forwarded-for']).toBe('127.0.0.1');
      }
    });
  });

  describe('the sticky cookie over TLS', () => {
    let pki: TestPki;
    beforeAll(() => {
      pki = makeTestPki();
    });

    const SECRET = 'issue-10-sticky-secret-0123456789';

    async function tlsProxy(attributes?: StickyCookieAttributes): Promise<{ proxy: Proxy; port: number }> {
      const backend = await startBackend(res, 'a');
      const proxy = createProxy({ backends: [backend.url], strategy: new StickyCookieStrategy({ secret: SECRET, ...(attributes && { attributes }) }) });
      return { proxy, port: await listenHttps(res, proxy, pki) };
    }

    function httpsSetCookie(port: number): Promise<string[]> {
      return new Promise((resolve, reject) => {
        httpsRequest({ host: '127.0.0.1', port, path: '/', ca: pki.ca, servername: 'localhost', agent: false }, (r) => {
          r.resume();
          r.on('end', () => resolve(r.headers['set-cookie'] ?? []));
        })
          .on('error', reject)
          .end();
      });
    }

    it('carries Secure by default when the request came over TLS, and not over plain HTTP', async () => {
      const { proxy, port } = await tlsProxy();
      const cookies = await httpsSetCookie(port);
      expect(cookies).toHaveLength(1);
      expect(cookies[0]).toMatch(/^sb_affinity=[A-Za-z0-9_-]{22}; Path=\/; HttpOnly; SameSite=Lax; Secure$/);
      await waitFor(() => proxy.connections().length === 0);

      const backend = await startBackend(res, 'b');
      const plain = await proxies.start({ backends: [backend.url], strategy: new StickyCookieStrategy({ secret: SECRET }) });
      const r = await httpRequest(`${plain.url}/`);
      expect(r.headers['set-cookie']).toHaveLength(1);
      expect(r.headers['set-cookie']![0]).not.toContain('Secure');
    });

    it('honours an explicit secure: false over TLS and secure: true over plain HTTP', async () => {
      const { proxy, port } = await tlsProxy({ secure: false });
      const cookies = await httpsSetCookie(port);
      expect(cookies[0]).toMatch(/; SameSite=Lax$/);
      await waitFor(() => proxy.connections().length === 0);

      const backend = await startBackend(res, 'b');
      const plain = await proxies.start({ backends: [backend.url], strategy: new StickyCookieStrategy({ secret: SECRET, attributes: { secure: true } }) });
      const r = await httpRequest(`${plain.url}/`);
      expect(r.headers['set-cookie']![0]).toMatch(/; SameSite=Lax; Secure$/);
    });
  });
});
