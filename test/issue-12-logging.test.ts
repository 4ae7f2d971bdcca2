import { once } from 'node:events';
import { Console } from 'node:console';
import { Writable } from 'node:stream';
import pino from 'pino';
import { httpRequest } from './helpers/http';
import { CheckedProxies, expectRefusal, openWs, Resources, roundTrip, startBackend, waitFor } from './helpers/servers';

interface Line {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A real pino logger writing JSON lines into memory. */
function pinoInMemory(): { logger: pino.Logger; lines: Line[] } {
  const lines: Line[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l !== '') lines.push(JSON.parse(l) as Line);
      done();
    },
  });
  return { logger: pino({ level: 'info' }, sink), lines };
}

describe('logger option', () => {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  afterEach(async () => {
    await proxies.expectEmptyTables();
    await res.cleanup();
  });

  it('writes one access line per HTTP exchange and per WebSocket end to pino', async () => {
    const api = await startBackend(res, 'api');
    const { logger, lines } = pinoInMemory();
    const { url, wsUrl } = await proxies.start({ routes: [{ id: 'api', path: '/api', backends: [{ url: api.url, id: 'a' }] }], logger });
    const r = await httpRequest(`${url}/api/x`);
    expect(r.status).toBe(200);
    const ws = await openWs(res, `${wsUrl}/api/live`);
    expect(await roundTrip(ws, 'hello')).toBe('hello');
    ws.close();
    await once(ws, 'close');
    await waitFor(() => lines.filter((l) => l.msg === 'http' || l.msg === 'websocket').length === 2, 3000, 'access lines');
    const http = lines.find((l) => l.msg === 'http')!;
    expect(http).toMatchObject({ level: 30, route: 'api', backend: 'a', protocol: 'http', status: 200 });
    expect(http['client']).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(http['bytesOut']).toBe(Buffer.byteLength(r.body));
    expect(typeof http['durationMs']).toBe('number');
    const wsLine = lines.find((l) => l.msg === 'websocket')!;
    expect(wsLine).toMatchObject({ level: 30, route: 'api', backend: 'a', protocol: 'websocket' });
    expect(wsLine['bytesIn']).toBeGreaterThan(0);
    expect(wsLine['bytesOut']).toBeGreaterThan(0);
  });

  it('logs refusals and failures at warn, and backend lifecycle (drain, ejection) lines', async () => {
    const api = await startBackend(res, 'api');
    const { logger, lines } = pinoInMemory();
    const { proxy, url, wsUrl } = await proxies.start({
      backends: [{ url: api.url, id: 'live' }, { url: 'http://127.0.0.1:1', id: 'dead' }],
      routes: [{ id: 'api', path: '/api', backends: [{ url: api.url, id: 'a' }] }],
      retries: 0,
      outlierDetection: { consecutiveFailures: 1, maxEjectionPercent: 100 },
      logger,
    });
    // Round-robin reaches the dead backend within two requests.
    await httpRequest(`${url}/one`);
    await httpRequest(`${url}/two`);
    await waitFor(() => lines.some((l) => l.msg === 'backend ejected'), 3000, 'ejection line');
    expect(lines.find((l) => l.msg === 'backend ejected')).toMatchObject({ level: 40, route: 'default', backend: 'dead', state: 'down' });
    expect(lines.find((l) => l.msg === 'http' && l['error'] === 'ERR_BACKEND_CONNECT')).toMatchObject({ level: 40, status: 502, backend: 'dead' });
    await proxy.drain('a', { route: 'api', timeout: 0 });
    expect(lines.find((l) => l.msg === 'backend draining')).toMatchObject({ level: 30, route: 'api', backend: 'a' });
    expect((await expectRefusal(`${wsUrl}/api/x`)).status).toBe(503);
    expect(lines.find((l) => l.msg === 'refused')).toMatchObject({ level: 40, status: 503, error: 'ERR_NO_BACKEND' });
  });

  it('writes an access line for a request onRequest refused', async () => {
    const api = await startBackend(res, 'api');
    const { logger, lines } = pinoInMemory();
    const { url, wsUrl } = await proxies.start({ backends: [api.url], logger, onRequest: (_req, ctx) => ctx.reject(403) });
    expect((await httpRequest(`${url}/secret`)).status).toBe(403);
    expect((await expectRefusal(`${wsUrl}/live`)).status).toBe(403);
    const rejected = lines.filter((l) => l.msg === 'rejected');
    expect(rejected.map((l) => `${l['protocol']} ${l['status']} ${l['route']} ${l['path']}`)).toEqual(['http 403 default /secret', 'websocket 403 default /live']);
  });

  it('accepts console (and any info/warn/error object); refuses anything else', async () => {
    const api = await startBackend(res, 'api');
    let text = '';
    const out = new Writable({
      write(chunk: Buffer, _enc, done) {
        text += chunk.toString();
        done();
      },
    });
    const { url } = await proxies.start({ backends: [api.url], logger: new Console(out) });
    await httpRequest(`${url}/x`);
    await waitFor(() => text.includes("route: 'default'"), 3000, 'console line');
    expect(text).toContain('http');
    await expect(proxies.start({ backends: [api.url], logger: {} as Console })).rejects.toThrow(/options.logger must have info, warn and error/);
  });
});
