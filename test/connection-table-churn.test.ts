import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy } from '@switchboard/proxy';
import { waitFor } from './helpers/servers';

const CYCLES = 2000;
const CONCURRENCY = 25;
const KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** Counts of live handles by kind (TCPSocketWrap, Timeout, ...). */
function resources(): Record<string, number> {
  const out: Record<string, number> = {};
  for (const r of process.getActiveResourcesInfo()) out[r] = (out[r] ?? 0) + 1;
  return out;
}

/**
 * A backend whose behaviour is chosen by the request path:
 * /ws echo, /slow-ws answers the handshake after 50 ms, /drop-ws destroys the
 * socket instead of answering, /http answers, /slow-http streams for a while.
 */
async function startChurnBackend(): Promise<{ server: Server; wss: WebSocketServer; port: number; sockets: Set<Socket> }> {
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    if (req.url === '/slow-http') {
      res.writeHead(200);
      const timer = setInterval(() => res.write('x'), 5);
      res.on('close', () => clearInterval(timer));
      return;
    }
    res.end('ok');
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ noServer: true });
  wss.on('connection', (ws, req) => {
    const cycle = new URL(req.url ?? '/', 'http://x').searchParams.get('c');
    if (cycle !== null) {
      backendSides.set(cycle, ws);
      ws.on('close', () => backendSides.delete(cycle));
    }
    ws.on('message', (m) => ws.send(m));
  });
  server.on('upgrade', (req, socket: Socket, head) => {
    socket.on('error', () => undefined);
    if (req.url?.startsWith('/drop-ws')) return socket.destroy();
    const accept = (): void => {
      if (socket.destroyed) return;
      wss.handleUpgrade(req, socket, head, (ws) => wss.emit('connection', ws, req));
    };
    if (req.url?.startsWith('/slow-ws')) setTimeout(accept, 50);
    else accept();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return { server, wss, port: (server.address() as AddressInfo).port, sockets };
}

/** The backend-side WebSocket of each cycle, keyed by the `c` query parameter. */
const backendSides = new Map<string, WebSocket>();

type Scenario = (proxyPort: number, cycle: number) => Promise<void>;

function wsOpen(port: number, path = '/ws'): Promise<WebSocket> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}${path}`);
  ws.on('error', () => undefined);
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve(ws));
    ws.once('unexpected-response', () => reject(new Error('refused')));
    ws.once('close', () => reject(new Error('closed before open')));
  });
}

async function echoOnce(ws: WebSocket): Promise<void> {
  ws.send('ping');
  await once(ws, 'message');
}

function closed(ws: WebSocket): Promise<unknown> {
  return ws.readyState === WebSocket.CLOSED ? Promise.resolve() : once(ws, 'close');
}

/** Every order in which clients and backends can end a connection. */
const SCENARIOS: Record<string, Scenario> = {
  'client closes cleanly': async (port, i) => {
    const ws = await wsOpen(port, `/ws?c=${i}`);
    await echoOnce(ws);
    ws.close(1000);
    await closed(ws);
  },
  'client destroys its socket': async (port, i) => {
    const ws = await wsOpen(port, `/ws?c=${i}`);
    await echoOnce(ws);
    ws.terminate();
    await closed(ws);
  },
  'client resets (RST)': async (port, i) => {
    const ws = await wsOpen(port, `/ws?c=${i}`);
    await echoOnce(ws);
    (ws as unknown as { _socket: Socket })._socket.resetAndDestroy();
    await closed(ws);
  },
  'backend closes cleanly': async (port, i) => {
    const ws = await wsOpen(port, `/ws?c=${i}`);
    await echoOnce(ws);
    const c = closed(ws);
    backendSides.get(String(i))!.close(1001);
    await c;
  },
  'backend destroys its socket': async (port, i) => {
    const ws = await wsOpen(port, `/ws?c=${i}`);
    await echoOnce(ws);
    const c = closed(ws);
    backendSides.get(String(i))!.terminate();
    await c;
  },
  'client leaves mid-handshake': async (port) => {
    const s = connect(port, '127.0.0.1');
    s.on('error', () => undefined);
    s.write(`GET /slow-ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${KEY}\r\nSec-WebSocket-Version: 13\r\n\r\n`);
    await new Promise((r) => setTimeout(r, 10));
    s.destroy();
  },
  'backend drops the handshake': async (port) => {
    await wsOpen(port, '/drop-ws').then(
      () => Promise.reject(new Error('should not open')),
      () => undefined,
    );
  },
  'http request completes': async (port) => {
    await new Promise<void>((resolve, reject) => {
      request({ port, host: '127.0.0.1', path: '/http', agent: false }, (res) => {
        res.resume();
        res.on('end', resolve);
      })
        .on('error', reject)
        .end();
    });
  },
  'http client leaves mid-response': async (port) => {
    await new Promise<void>((resolve) => {
      const req = request({ port, host: '127.0.0.1', path: '/slow-http', agent: false }, (res) => {
        res.once('data', () => {
          req.destroy();
          resolve();
        });
      });
      req.on('error', () => undefined);
      req.end();
    });
  },
};

describe('connection table under churn', () => {
  it(`is empty and leaks no socket or timer after ${CYCLES} open/close cycles ending in every order`, async () => {
    const backends = await Promise.all([startChurnBackend(), startChurnBackend(), startChurnBackend()]);
    const proxy = createProxy({ backends: backends.map((b) => `http://127.0.0.1:${b.port}`), halfCloseTimeout: 200 });
    const errors = new Map<string, number>();
    proxy.on('error', (e) => errors.set(e.code, (errors.get(e.code) ?? 0) + 1));
    let opened = 0;
    let closedCount = 0;
    proxy.on('connectionOpen', () => opened++);
    proxy.on('connectionClose', () => closedCount++);
    const { port } = await proxy.listen({ port: 0, host: '127.0.0.1' });
    const baseline = resources();

    const names = Object.keys(SCENARIOS);
    const counts = new Map<string, number>();
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < CYCLES) {
        const i = next++;
        const name = names[i % names.length]!;
        counts.set(name, (counts.get(name) ?? 0) + 1);
        await SCENARIOS[name]!(port, i);
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));

    await waitFor(() => proxy.connections().length === 0, 10_000, 'the table to empty');
    expect(proxy.backends().map((b) => b.activeConnections)).toEqual([0, 0, 0]);
    expect(opened).toBe(closedCount);
    for (const name of names) expect(counts.get(name)).toBeGreaterThanOrEqual(Math.floor(CYCLES / names.length));
    // Failures were reported with codes, never thrown.
    expect(errors.get('ERR_BACKEND_RESET') ?? 0).toBeGreaterThan(0);

    // No socket or timer outlives its connection (jest and the servers keep theirs).
    await waitFor(() => {
      const now = resources();
      return (now['TCPSocketWrap'] ?? 0) <= (baseline['TCPSocketWrap'] ?? 0) && (now['Timeout'] ?? 0) <= (baseline['Timeout'] ?? 0);
    }, 10_000, `handles to return to baseline ${JSON.stringify(baseline)}; now ${JSON.stringify(resources())}`);

    expect(backendSides.size).toBe(0);
    await proxy.close();
    for (const b of backends) {
      for (const c of b.wss.clients) c.terminate();
      b.wss.close();
      for (const s of b.sockets) s.destroy();
      await new Promise<void>((r) => b.server.close(() => r()));
    }
  }, 120_000);
});
