import { Resources, openWs, roundTrip, startBackend, startProxy, waitFor } from './helpers/servers';

describe('WebSocket proxying', () => {
  const res = new Resources();
  afterEach(() => res.cleanup());

  it('spreads 30 connections 10/10/10 over 3 backends with round-robin and echoes through each', async () => {
    const backends = await Promise.all(['a', 'b', 'c'].map((id) => startBackend(res, id)));
    const { proxy, wsUrl } = await startProxy(res, {
      backends: backends.map((b) => ({ url: b.url, id: b.id })),
      strategy: 'round-robin',
    });
    const clients = [];
    for (let i = 0; i < 30; i++) clients.push(await openWs(res, `${wsUrl}/chat`));
    const landed = await Promise.all(clients.map((ws) => roundTrip(ws, 'whoami')));
    const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
    for (const id of landed) counts[id]!++;
    expect(counts).toEqual({ a: 10, b: 10, c: 10 });
    expect(proxy.backends().map((b) => b.activeConnections)).toEqual([10, 10, 10]);
    expect(proxy.connections()).toHaveLength(30);
    expect(proxy.connections().every((c) => c.protocol === 'websocket')).toBe(true);

    expect(await roundTrip(clients[0]!, 'hello')).toBe('hello');
    for (const ws of clients) ws.close(1000, 'bye');
    await waitFor(() => proxy.connections().length === 0, 5000, 'table to empty');
  });
});
