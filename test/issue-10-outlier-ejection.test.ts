/**
 * Issue 10, item 7: no outage that one client can cause.
 *
 * Outlier detection counts only failures the backend caused (refused, timed out, reset, invalid answer); a
 * 5xx counts only when the operator opts in; at most half of the backends are ejected and never the last
 * healthy one; with too few healthy backends the proxy balances across all of them (panic mode) instead of
 * answering 503; and errors of the client's own request body have codes of their own and never touch health.
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { StickyCookieStrategy, createProxy, type Proxy, type SwitchboardError } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { rawExchange } from './helpers/raw';
import { CheckedProxies, Resources, listenLocal, openWs, roundTrip, startBackend, waitFor, type TestBackend } from './helpers/servers';

/** An app that answers 500 when the query string does not decode, as many frameworks do. */
function strictQueryApp(req: IncomingMessage, res: ServerResponse, { id }: { id: string }): void {
  try {
    decodeURIComponent(req.url ?? '/');
  } catch {
    res.statusCode = 500;
    res.end('internal error');
    return;
  }
  res.end(id);
}

/** A query string that no URI decoder accepts. */
const BAD_QUERY = '/search?q=%E0%A4%A';

function states(proxy: Proxy): string[] {
  return proxy.backends().map((b) => `${b.id}:${b.state}`);
}

async function backends(res: Resources, n: number, handler = strictQueryApp): Promise<TestBackend[]> {
  const out: TestBackend[] = [];
  for (let i = 0; i < n; i++) out.push(await startBackend(res, `b${i}`, handler));
  return out;
}

/** A port nothing listens on (listened on, then closed). */
async function deadPort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('issue 10 item 7: outlier ejection that no client can turn into an outage', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  describe('what counts as a failure', () => {
    it('ejects nothing by default when the app answers 500 to a bad query string, and other clients keep getting 200', async () => {
      const [a, b] = await backends(res, 2);
      const { proxy, url } = await proxies.start({ backends: [{ url: a!.url, id: 'a' }, { url: b!.url, id: 'b' }] });
      const changes: string[] = [];
      proxy.on('backendStateChange', (s, previous) => changes.push(`${s.id}:${previous}->${s.state}`));
      for (let i = 0; i < 30; i++) expect((await httpRequest(`${url}${BAD_QUERY}`)).status).toBe(500);
      expect(changes).toEqual([]);
      expect(states(proxy)).toEqual(['a:up', 'b:up']);
      const served = new Set<string>();
      for (let i = 0; i < 10; i++) {
        const r = await httpRequest(`${url}/`);
        expect(r.status).toBe(200);
        served.add(r.body);
      }
      expect([...served].sort()).toEqual(['b0', 'b1']);
    });

    it('with countServerErrors, counts 5xx but ejects at most half of the backends; the others keep serving', async () => {
      const list = await backends(res, 4);
      const { proxy, url } = await proxies.start({
        backends: list.map((b) => ({ url: b.url, id: b.id })),
        outlierDetection: { countServerErrors: true, consecutiveFailures: 2, baseEjectionTime: 60_000 },
      });
      for (let i = 0; i < 40; i++) expect((await httpRequest(`${url}${BAD_QUERY}`)).status).toBe(500);
      const down = proxy.backends().filter((b) => b.state === 'down');
      expect(down).toHaveLength(2);
      expect(proxy.isPanicking()).toBe(false);
      const served = new Set<string>();
      for (let i = 0; i < 8; i++) {
        const r = await httpRequest(`${url}/`);
        expect(r.status).toBe(200);
        served.add(r.body);
      }
      expect(served.size).toBe(2);
      for (const d of down) expect(served.has(d.id)).toBe(false);
    });

    it('never ejects the last healthy backend, even with maxEjectionPercent: 100', async () => {
      const [a, b] = await backends(res, 2);
      const { proxy, url } = await proxies.start({
        backends: [{ url: a!.url, id: 'a' }, { url: b!.url, id: 'b' }],
        outlierDetection: { countServerErrors: true, consecutiveFailures: 1, maxEjectionPercent: 100, baseEjectionTime: 60_000 },
      });
      for (let i = 0; i < 20; i++) expect((await httpRequest(`${url}${BAD_QUERY}`)).status).toBe(500);
      expect(proxy.backends().filter((x) => x.state === 'up')).toHaveLength(1);
      for (let i = 0; i < 4; i++) expect((await httpRequest(`${url}/`)).status).toBe(200);
    });

    it('still ejects a backend that refuses connections (a failure the backend caused)', async () => {
      const [good] = await backends(res, 1);
      const { proxy, url } = await proxies.start({
        backends: [{ url: `http://127.0.0.1:${await deadPort()}`, id: 'dead' }, { url: good!.url, id: 'good' }],
        outlierDetection: { consecutiveFailures: 2, baseEjectionTime: 60_000 },
      });
      for (let i = 0; i < 6; i++) expect((await httpRequest(`${url}/`)).status).toBe(200);
      expect(states(proxy)).toEqual(['dead:down', 'good:up']);
    });
  });

  describe('panic mode', () => {
    it('balances across every backend, up and down, when too few are healthy, and every client still gets an answer', async () => {
      // b0 passes its probe; b1 and b2 fail their probe but serve the app; b3 is not listening at all.
      const list = await backends(res, 3, (req, r, { id }) => {
        if (req.url === '/healthz') {
          r.statusCode = id === 'b0' ? 200 : 503;
          r.end();
        } else r.end(id);
      });
      const { proxy, url } = await proxies.start({
        backends: [...list.map((b) => ({ url: b.url, id: b.id })), { url: `http://127.0.0.1:${await deadPort()}`, id: 'b3' }],
        healthCheck: { interval: 30, jitter: 0, timeout: 500 },
      });
      const panics: [boolean, number, number][] = [];
      proxy.on('panicChange', (panic, healthy, total) => panics.push([panic, healthy, total]));
      await waitFor(() => proxy.backends().filter((b) => b.state === 'down').length === 3, 3000, 'three backends down');
      expect(states(proxy)).toEqual(['b0:up', 'b1:down', 'b2:down', 'b3:down']);
      expect(proxy.isPanicking()).toBe(true);
      expect(panics.at(-1)).toEqual([true, 1, 4]);
      const errors: string[] = [];
      proxy.on('error', (e) => errors.push(e.code));
      const served: Record<string, number> = {};
      for (let i = 0; i < 24; i++) {
        const r = await httpRequest(`${url}/`);
        expect(r.status).toBe(200);
        served[r.body] = (served[r.body] ?? 0) + 1;
      }
      // The down-but-answering backends take their share; the dead one is tried, fails, and is retried elsewhere.
      expect(Object.keys(served).sort()).toEqual(['b0', 'b1', 'b2']);
      expect(errors.length).toBeGreaterThan(0);
      expect(new Set(errors)).toEqual(new Set(['ERR_BACKEND_CONNECT']));
    });

    it('leaves panic mode once enough backends are healthy again, and can be turned off with panicThreshold: 0', async () => {
      let healthy = false;
      const list = await backends(res, 2, (req, r, { id }) => {
        if (req.url === '/healthz') {
          r.statusCode = healthy || id === 'b0' ? 200 : 503;
          r.end();
        } else r.end(id);
      });
      const strict = await proxies.start({ backends: list.map((b) => ({ url: b.url, id: b.id })), healthCheck: { interval: 30, jitter: 0, rise: 1 }, panicThreshold: 0 });
      const panicky = await proxies.start({ backends: list.map((b) => ({ url: b.url, id: b.id })), healthCheck: { interval: 30, jitter: 0, rise: 1 }, panicThreshold: 100 });
      const events: boolean[] = [];
      panicky.proxy.on('panicChange', (panic) => events.push(panic));
      await waitFor(() => strict.proxy.backends()[1]!.state === 'down' && panicky.proxy.backends()[1]!.state === 'down', 3000, 'b1 down on both');
      expect(strict.proxy.isPanicking()).toBe(false);
      expect(panicky.proxy.isPanicking()).toBe(true);
      const strictServed = new Set<string>();
      const panickyServed = new Set<string>();
      for (let i = 0; i < 6; i++) {
        strictServed.add((await httpRequest(`${strict.url}/`)).body);
        panickyServed.add((await httpRequest(`${panicky.url}/`)).body);
      }
      expect([...strictServed]).toEqual(['b0']);
      expect([...panickyServed].sort()).toEqual(['b0', 'b1']);
      healthy = true;
      await waitFor(() => !panicky.proxy.isPanicking(), 3000, 'panic to end');
      expect(events).toEqual([true, false]);
    });

    it('opens WebSockets too in panic mode, on a backend whose probe fails but which still serves', async () => {
      const [a] = await backends(res, 1, (req, r) => {
        r.statusCode = req.url === '/healthz' ? 503 : 200;
        r.end();
      });
      const { proxy, wsUrl } = await proxies.start({ backends: [{ url: a!.url, id: 'a' }], healthCheck: { interval: 30, jitter: 0 } });
      await waitFor(() => proxy.backends()[0]!.state === 'down', 3000, 'a down');
      expect(proxy.isPanicking()).toBe(true);
      const ws = await openWs(res, wsUrl);
      expect(await roundTrip(ws, 'whoami')).toBe('b0');
      ws.close();
    });

    it.each(['round-robin', 'weighted-round-robin', 'least-connections', 'power-of-two-choices', 'ip-hash', 'hash', 'sticky-cookie'] as const)(
      'with strategy %s, places connections on down backends in panic mode',
      async (name) => {
        const strategy = name === 'sticky-cookie' ? new StickyCookieStrategy({ secret: 'issue-10-panic-test-secret' }) : name;
        const list = await backends(res, 2, (req, r, { id }) => {
          r.statusCode = req.url === '/healthz' ? 503 : 200;
          r.end(id);
        });
        const { proxy, url } = await proxies.start({ backends: list.map((b) => ({ url: b.url, id: b.id })), healthCheck: { interval: 30, jitter: 0 }, strategy });
        await waitFor(() => proxy.backends().every((b) => b.state === 'down'), 3000, 'both down');
        for (let i = 0; i < 4; i++) expect((await httpRequest(`${url}/`)).status).toBe(200);
      },
    );

    it('rejects a bad panicThreshold or outlier option with ERR_INVALID_OPTION', () => {
      expect(() => createProxy({ backends: ['http://127.0.0.1:1'], panicThreshold: 101 })).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: 'options.panicThreshold must be a number from 0 to 100, got 101' }),
      );
      expect(() => createProxy({ backends: ['http://127.0.0.1:1'], outlierDetection: { maxEjectionPercent: 0 } })).toThrow(
        'options.outlierDetection.maxEjectionPercent must be a number from 1 to 100, got 0',
      );
      expect(() => createProxy({ backends: ['http://127.0.0.1:1'], outlierDetection: { countServerErrors: 'yes' as unknown as boolean } })).toThrow(
        'options.outlierDetection.countServerErrors must be true or false, got yes',
      );
    });
  });

  describe('errors of the client side', () => {
    it('gives a request body that was already read its own code, and ejects no backend however often it happens', async () => {
      const [a, b] = await backends(res, 2);
      const proxy = (await proxies.start({ backends: [{ url: a!.url, id: 'a' }, { url: b!.url, id: 'b' }] })).proxy;
      // A framework in front that parses the body before handing the request on (what express.json() does).
      const front = createServer((req, r) => {
        req.resume();
        req.on('end', () => proxy.handleRequest(req, r));
      });
      const port = await listenLocal(res, front);
      const errors: SwitchboardError[] = [];
      proxy.on('error', (e) => errors.push(e));
      for (let i = 0; i < 15; i++) {
        const r = await httpRequest(`http://127.0.0.1:${port}/api`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"name":"x"}' });
        expect(r.status).toBe(500);
      }
      // The consumed-body check (item 8) sees the spent request before any backend is picked.
      expect(new Set(errors.map((e) => e.code))).toEqual(new Set(['ERR_BODY_CONSUMED']));
      expect(errors[0]!.status).toBe(500);
      expect(states(proxy)).toEqual(['a:up', 'b:up']);
      expect((await httpRequest(`http://127.0.0.1:${port}/`)).status).toBe(200);
    });

    it('counts a client that vanishes mid-upload as the client leaving, not as a backend failure', async () => {
      const [a, b] = await backends(res, 2, (req, r, { id }) => {
        req.resume();
        req.on('end', () => r.end(id));
      });
      const { proxy, port } = await proxies.start({ backends: [{ url: a!.url, id: 'a' }, { url: b!.url, id: 'b' }], outlierDetection: { consecutiveFailures: 2 } });
      const errors: string[] = [];
      proxy.on('error', (e) => errors.push(e.code));
      for (let i = 0; i < 12; i++) {
        await rawExchange(port, ['POST /upload HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n', 'x'.repeat(1000), { wait: 20 }, { reset: true }], 1000);
      }
      await waitFor(() => errors.length === 12, 3000, 'every abort reported');
      expect(new Set(errors)).toEqual(new Set(['ERR_CLIENT_ABORTED']));
      expect(states(proxy)).toEqual(['a:up', 'b:up']);
    });

    it('counts a malformed chunked upload against the client, never the backend', async () => {
      const [a, b] = await backends(res, 2, (req, r, { id }) => {
        req.resume();
        req.on('end', () => r.end(id));
      });
      const { proxy, port } = await proxies.start({ backends: [{ url: a!.url, id: 'a' }, { url: b!.url, id: 'b' }], outlierDetection: { consecutiveFailures: 2 } });
      const errors: string[] = [];
      proxy.on('error', (e) => errors.push(e.code));
      for (let i = 0; i < 12; i++) {
        await rawExchange(port, ['POST /upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n', { wait: 20 }, 'zz\r\n'], 1000);
      }
      await waitFor(() => errors.length === 12, 3000, 'every failed upload reported');
      for (const code of errors) expect(['ERR_CLIENT_ABORTED', 'ERR_CLIENT_BODY']).toContain(code);
      expect(states(proxy)).toEqual(['a:up', 'b:up']);
    });
  });
});
