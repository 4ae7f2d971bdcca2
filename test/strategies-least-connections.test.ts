import { once } from 'node:events';
import type { WebSocket } from 'ws';
import type { Proxy } from '@switchboard/proxy';
import { seededRandom } from '../packages/proxy/test/unit/strategies/fakes';
import { Resources, openWs, roundTrip, startBackend, startProxy, waitFor } from './helpers/servers';

function spread(proxy: Proxy): number {
  const counts = proxy.backends().map((b) => b.activeConnections);
  return Math.max(...counts) - Math.min(...counts);
}

function total(proxy: Proxy): number {
  return proxy.backends().reduce((sum, b) => sum + b.activeConnections, 0);
}

async function closeClient(ws: WebSocket): Promise<void> {
  const closed = once(ws, 'close');
  ws.close(1000, 'done');
  await closed;
}

describe('least-connections through the proxy', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('keeps backends within 1 connection of each other over 300 WebSocket connections closed in random order', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((id) => startBackend(res, id)));
    const { proxy, wsUrl } = await startProxy(res, {
      backends: backends.map((b) => ({ url: b.url, id: b.id })),
      strategy: 'least-connections',
    });
    const random = seededRandom(3); // mulberry32: a random but reproducible close order
    const live: WebSocket[] = [];
    let worst = 0;

    for (let i = 0; i < 300; i++) {
      live.push(await openWs(res, `${wsUrl}/chat`));
      worst = Math.max(worst, spread(proxy));
    }
    expect(total(proxy)).toBe(300);

    // Churn: a random client leaves, a new one arrives.
    for (let i = 0; i < 150; i++) {
      const [gone] = live.splice(Math.floor(random() * live.length), 1);
      await closeClient(gone);
      await waitFor(() => total(proxy) === 299, 5000, 'the proxy to see the close');
      live.push(await openWs(res, `${wsUrl}/chat`));
      worst = Math.max(worst, spread(proxy));
    }
    expect(worst).toBeLessThanOrEqual(1);

    // Every connection still works, on the backend the proxy counted it on.
    const landed = await Promise.all(live.map((ws) => roundTrip(ws, 'whoami')));
    const counts = Object.fromEntries(proxy.backends().map((b) => [b.id, b.activeConnections]));
    for (const id of ['a', 'b', 'c']) expect(landed.filter((x) => x === id).length).toBe(counts[id]);

    // Everyone leaves, in random order.
    while (live.length > 0) await closeClient(live.splice(Math.floor(random() * live.length), 1)[0]);
    await waitFor(() => proxy.connections().length === 0, 5000, 'the table to empty');
    expect(proxy.connections().length).toBe(0);
  }, 60_000);
});
