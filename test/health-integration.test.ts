import { createServer } from 'node:http';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { createProxy, type BackendState } from '@switchboard/proxy';
import { httpRequest } from './helpers/http';
import { Resources, openWs, roundTrip, startBackend, startProxy, waitFor } from './helpers/servers';

describe('health in the proxy', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('takes a backend whose probe fails out of rotation and brings it back, with events', async () => {
    let healthy = true;
    const a = await startBackend(res, 'a', (req, r, { id }) => {
      if (req.url === '/healthz') {
        r.statusCode = healthy ? 200 : 503;
        r.end();
      } else r.end(id);
    });
    const b = await startBackend(res, 'b');
    const { proxy, wsUrl } = await startProxy(res, {
      backends: [{ url: a.url, id: 'a' }, { url: b.url, id: 'b' }],
      healthCheck: { interval: 40, fall: 2, rise: 2, jitter: 0 },
    });
    const changes: [string, BackendState, BackendState][] = [];
    proxy.on('backendStateChange', (s, previous) => changes.push([s.id, previous, s.state]));
    healthy = false;
    const flipped = Date.now();
    await waitFor(() => proxy.backends()[0]!.state === 'down', 2000, 'a to go down');
    expect(Date.now() - flipped).toBeLessThan(2 * 40 + 40 + 200);
    for (let i = 0; i < 4; i++) expect(await roundTrip(await openWs(res, wsUrl), 'whoami')).toBe('b');
    healthy = true;
    await waitFor(() => proxy.backends()[0]!.state === 'up', 2000, 'a to come back');
    expect(changes).toEqual([
      ['a', 'up', 'down'],
      ['a', 'down', 'up'],
    ]);
  });

  it('ejects a backend after consecutive failures seen by live traffic, then stops sending to it', async () => {
    const dead = createServer();
    dead.listen(0, '127.0.0.1');
    await once(dead, 'listening');
    const deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    const good = await startBackend(res, 'good');
    const { proxy, url } = await startProxy(res, {
      backends: [{ url: `http://127.0.0.1:${deadPort}`, id: 'dead' }, { url: good.url, id: 'good' }],
      outlierDetection: { consecutiveFailures: 3, baseEjectionTime: 60_000 },
    });
    const failures: string[] = [];
    proxy.on('error', (e) => failures.push(e.code));
    for (let i = 0; i < 20; i++) expect((await httpRequest(`${url}/`)).status).toBe(200);
    expect(proxy.backends().find((b) => b.id === 'dead')!.state).toBe('down');
    // Three failures ejected it; every client still got a 200 through retries.
    expect(failures).toEqual(['ERR_BACKEND_CONNECT', 'ERR_BACKEND_CONNECT', 'ERR_BACKEND_CONNECT']);
  });

  it('keeps a draining backend draining when its probe recovers; undrain() restores its health state', async () => {
    const a = await startBackend(res, 'a', (_req, r) => r.end());
    const { proxy } = await startProxy(res, { backends: [{ url: a.url, id: 'a' }], healthCheck: { interval: 30, jitter: 0 } });
    await proxy.drain('a', { timeout: 0 });
    await new Promise((r) => setTimeout(r, 120));
    expect(proxy.backends()[0]!.state).toBe('draining');
    proxy.undrain('a');
    expect(proxy.backends()[0]!.state).toBe('up');
  });

  it('rejects bad health options with ERR_INVALID_OPTION naming the option', () => {
    expect(() => createProxy({ backends: ['http://127.0.0.1:1'], healthCheck: { interval: -1 } })).toThrow(/options\.healthCheck\.interval/);
    expect(() => createProxy({ backends: ['http://127.0.0.1:1'], outlierDetection: { consecutiveFailures: 0 } })).toThrow(/options\.outlierDetection/);
  });
});
