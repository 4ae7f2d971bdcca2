import { createServer, type Server } from 'node:http';
import { WebSocketServer } from 'ws';
import { createProxy } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { Resources, expectRefusal, listenLocal, openWs, startProxy } from './helpers/servers';

/** A backend that reports the source address each connection came from. */
async function addressEchoBackend(res: Resources): Promise<{ url: string; wsSources: string[] }> {
  const wsSources: string[] = [];
  const server: Server = createServer((req, r) => r.end(req.socket.remoteAddress));
  const wss = new WebSocketServer({ server });
  wss.on('connection', (_ws, req) => wsSources.push(req.socket.remoteAddress ?? ''));
  const port = await listenLocal(res, server, { wss });
  return { url: `http://127.0.0.1:${port}`, wsSources };
}

describe('sourceAddresses', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('opens WebSocket backend connections from each source address in turn', async () => {
    const backend = await addressEchoBackend(res);
    const { wsUrl } = await startProxy(res, { backends: [backend.url], sourceAddresses: ['127.0.0.2', '127.0.0.3', '127.0.0.4'] });
    for (let i = 0; i < 6; i++) await openWs(res, wsUrl);
    expect(backend.wsSources).toEqual(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.2', '127.0.0.3', '127.0.0.4']);
  });

  it('opens pooled HTTP backend connections from the source addresses too', async () => {
    const backend = await addressEchoBackend(res);
    const { url } = await startProxy(res, { backends: [backend.url], sourceAddresses: ['127.0.0.5', '127.0.0.6'] });
    // Concurrent requests force several pooled connections.
    const seen = await Promise.all(Array.from({ length: 4 }, () => httpRequest(`${url}/`).then((r) => r.body)));
    expect(new Set(seen)).toEqual(new Set(['127.0.0.5', '127.0.0.6']));
  });

  it('answers 503 ERR_SOURCE_EXHAUSTED when no source address can reach the backend', async () => {
    const backend = await addressEchoBackend(res);
    // 192.0.2.1 (TEST-NET-1) is not assigned to this machine: bind fails with EADDRNOTAVAIL, nothing is sent anywhere.
    const { wsUrl, proxy } = await startProxy(res, { backends: [backend.url], sourceAddresses: ['192.0.2.1'] });
    const codes: string[] = [];
    proxy.on('error', (e) => codes.push(e.code));
    const refusal = await expectRefusal(wsUrl);
    expect(refusal.status).toBe(503);
    expect(codes).toEqual(['ERR_SOURCE_EXHAUSTED']);
    const http = await httpRequest(wsUrl.replace('ws:', 'http:') + '/');
    expect(http.status).toBe(503);
    expect(codes.filter((c) => c === 'ERR_SOURCE_EXHAUSTED').length).toBeGreaterThanOrEqual(2);
  });

  it('rejects addresses that are not IPs', () => {
    expect(() => createProxy({ backends: ['http://127.0.0.1:1'], sourceAddresses: ['localhost'] })).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_OPTION', message: 'options.sourceAddresses must be an array of IP address strings' }),
    );
  });
});
