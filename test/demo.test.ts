import { once } from 'node:events';
import { WebSocket } from 'ws';
import { startDemo, type Demo } from '../packages/examples/src/demo';
import { waitFor } from './helpers/servers';

describe('the npm start demo', () => {
  let demo: Demo | undefined;
  const lines: string[] = [];
  const clients: WebSocket[] = [];

  beforeEach(async () => {
    lines.length = 0;
    demo = await startDemo({ port: 0, log: (line) => lines.push(line) });
  });

  afterEach(async () => {
    for (const ws of clients.splice(0)) if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
    await demo?.close();
    demo = undefined;
  });

  async function connect(d: Demo): Promise<{ ws: WebSocket; next: () => Promise<string> }> {
    const ws = new WebSocket(`ws://127.0.0.1:${d.port}/ws`);
    clients.push(ws);
    const queue: string[] = [];
    const waiting: ((text: string) => void)[] = [];
    ws.on('message', (data: Buffer) => {
      const text = data.toString();
      const w = waiting.shift();
      if (w) w(text);
      else queue.push(text);
    });
    await once(ws, 'open');
    const next = (): Promise<string> =>
      queue.length > 0 ? Promise.resolve(queue.shift()!) : new Promise((resolve) => waiting.push(resolve));
    return { ws, next };
  }

  it('echoes WebSocket messages through the proxy from a named node and logs the connection', async () => {
    const d = demo!;
    expect(d.port).toBeGreaterThan(0);
    const { ws, next } = await connect(d);
    const greeting = await next();
    const node = /^(node-[123]): connected/.exec(greeting)?.[1];
    expect(node).toBeDefined();
    ws.send('hello demo');
    expect(await next()).toBe(`${node}: hello demo`);

    expect(d.proxy.connections()).toEqual([expect.objectContaining({ protocol: 'websocket', backend: { id: node } })]);
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^open +websocket +127\\.0\\.0\\.1:\\d+ -> ${node}$`)));

    ws.close(1000, 'bye');
    const [code] = (await once(ws, 'close')) as [number];
    expect(code).toBe(1000);
    await waitFor(() => d.proxy.connections().length === 0, 5000, 'table to empty');
    expect(lines).toContainEqual(expect.stringMatching(new RegExp(`^close +websocket +127\\.0\\.0\\.1:\\d+ -> ${node} \\(`)));
  });

  it('spreads three WebSockets over the three nodes (round-robin)', async () => {
    const d = demo!;
    const landed: string[] = [];
    for (let i = 0; i < 3; i++) {
      const { next } = await connect(d);
      landed.push((await next()).split(':')[0]!);
    }
    expect(landed.sort()).toEqual(['node-1', 'node-2', 'node-3']);
    expect(d.proxy.backends().map((b) => b.activeConnections)).toEqual([1, 1, 1]);
  });

  it('serves the HTML client page at / without leaking backend headers', async () => {
    const d = demo!;
    const res = await fetch(`${d.url}/`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    expect(res.headers.get('x-powered-by')).toBeNull();
    expect(res.headers.get('x-backend-node')).toBeNull();
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain('new WebSocket(');
    expect(html).toMatch(/served by <span id="page-node">node-[123]<\/span>/);
    for (const n of d.nodes) expect(html).not.toContain(n.url);
  });

  it('close() ends live WebSockets, empties the table and is idempotent', async () => {
    const d = demo!;
    const { ws, next } = await connect(d);
    await next();
    expect(d.proxy.connections()).toHaveLength(1);
    const closed = once(ws, 'close');
    await Promise.all([d.close(), d.close()]);
    await closed;
    expect(d.proxy.connections()).toEqual([]);
    expect(d.proxy.backends().every((b) => b.activeConnections === 0)).toBe(true);
    await expect(fetch(`${d.url}/`)).rejects.toThrow();
  });

  it('rejects with EADDRINUSE when the port is taken', async () => {
    await expect(startDemo({ port: demo!.port, log: () => undefined })).rejects.toMatchObject({ code: 'EADDRINUSE' });
  });
});
