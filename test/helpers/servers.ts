import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocket, WebSocketServer } from 'ws';
import { createProxy, type Proxy, type ProxyOptions, type SwitchboardError } from '@switchboard/proxy';

/** Things a test opened, closed in reverse order by `cleanup()`. */
export class Resources {
  #closers: (() => Promise<void> | void)[] = [];
  add(fn: () => Promise<void> | void): void {
    this.#closers.push(fn);
  }
  async cleanup(): Promise<void> {
    const fns = this.#closers.reverse();
    this.#closers = [];
    for (const fn of fns) await fn();
  }
}

export interface TestBackend {
  readonly id: string;
  readonly url: string;
  readonly port: number;
  readonly server: Server;
  readonly wss: WebSocketServer;
  /** Server-side sockets currently open on this backend. */
  readonly sockets: Set<Socket>;
}

export type HttpHandler = (req: IncomingMessage, res: ServerResponse, backend: { id: string }) => void;

/**
 * A real backend: HTTP (default: echoes method/url/headers as JSON with the backend id)
 * and a WebSocket echo server that also answers 'whoami' with its id.
 */
/**
 * Listens on 127.0.0.1 port 0 and has `res` shut it all down at clean-up: the WebSocket server's
 * clients and itself, the `sockets` given (upgraded ones the HTTP server no longer tracks), every
 * HTTP connection, then the server. Resolves with the port.
 */
export async function listenLocal(
  res: Resources,
  server: Server | HttpsServer,
  extra: { wss?: WebSocketServer; sockets?: Iterable<Socket> } = {},
): Promise<number> {
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  res.add(async () => {
    if (extra.wss !== undefined) {
      for (const c of extra.wss.clients) c.terminate();
      extra.wss.close();
    }
    for (const s of extra.sockets ?? []) s.destroy();
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  return (server.address() as AddressInfo).port;
}

export async function startBackend(res: Resources, id: string, handler?: HttpHandler): Promise<TestBackend> {
  const sockets = new Set<Socket>();
  const server = createServer((req, response) => {
    if (handler) return handler(req, response, { id });
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ id, method: req.method, url: req.url, headers: req.headers }));
  });
  server.on('connection', (s: Socket) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  const wss = new WebSocketServer({ server, perMessageDeflate: true });
  wss.on('connection', (ws) => {
    ws.on('message', (data, isBinary) => {
      if (!isBinary && data.toString() === 'whoami') ws.send(id);
      else ws.send(data, { binary: isBinary });
    });
  });
  const port = await listenLocal(res, server, { wss, sockets });
  return { id, url: `http://127.0.0.1:${port}`, port, server, wss, sockets };
}

export async function startProxy(res: Resources, options: ProxyOptions): Promise<{ proxy: Proxy; port: number; url: string; wsUrl: string }> {
  const proxy = createProxy(options);
  const addr = await proxy.listen({ port: 0, host: '127.0.0.1' });
  res.add(() => proxy.close());
  return { proxy, port: addr.port, url: `http://127.0.0.1:${addr.port}`, wsUrl: `ws://127.0.0.1:${addr.port}` };
}

/**
 * Starts proxies for a block of tests that must each end with every connection table empty:
 * call {@link CheckedProxies.expectEmptyTables} in `afterEach`, before `res.cleanup()`.
 */
export class CheckedProxies {
  readonly #res: Resources;
  readonly #proxies: Proxy[] = [];

  constructor(res: Resources) {
    this.#res = res;
  }

  async start(options: ProxyOptions): ReturnType<typeof startProxy> {
    const started = await startProxy(this.#res, options);
    this.#proxies.push(started.proxy);
    return started;
  }

  /** Waits up to 3 s for every table to empty; forgets the proxies either way. */
  async expectEmptyTables(): Promise<void> {
    try {
      await waitFor(() => this.#proxies.every((p) => p.connections().length === 0), 3000, 'empty tables');
    } finally {
      this.#proxies.length = 0;
    }
  }
}

/**
 * The usual frame of a proxy spec file: its resources, checked proxies, the errors they reported, and an
 * `afterEach` that expects empty tables, forgets the errors and cleans up. Call it inside `describe`.
 */
export function proxySuite(): {
  res: Resources;
  proxies: CheckedProxies;
  errors: SwitchboardError[];
  start(options: ProxyOptions): ReturnType<CheckedProxies['start']>;
} {
  const res = new Resources();
  const proxies = new CheckedProxies(res);
  const errors: SwitchboardError[] = [];
  afterEach(async () => {
    try {
      await proxies.expectEmptyTables();
    } finally {
      errors.length = 0;
      await res.cleanup();
    }
  });
  const start = async (options: ProxyOptions): ReturnType<CheckedProxies['start']> => {
    const started = await proxies.start(options);
    started.proxy.on('error', (e) => errors.push(e));
    return started;
  };
  return { res, proxies, errors, start };
}

/** Opens a ws client and waits for 'open'. */
export async function openWs(res: Resources, url: string, options?: ConstructorParameters<typeof WebSocket>[2]): Promise<WebSocket> {
  const ws = new WebSocket(url, options);
  res.add(() => {
    if (ws.readyState !== WebSocket.CLOSED) ws.terminate();
  });
  await once(ws, 'open');
  return ws;
}

/** Sends a text message and resolves with the next message. */
export async function roundTrip(ws: WebSocket, text: string): Promise<string> {
  ws.send(text);
  const [data] = (await once(ws, 'message')) as [Buffer];
  return data.toString();
}

/** Polls until `check()` is true, or fails after `timeoutMs`. */
export async function waitFor(check: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export interface Refusal {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** Tries a WebSocket handshake that the proxy (or backend) must refuse; resolves with the HTTP answer. */
export async function expectRefusal(url: string, options?: ConstructorParameters<typeof WebSocket>[2]): Promise<Refusal> {
  const ws = new WebSocket(url, options);
  ws.on('error', () => undefined);
  try {
    const result = await new Promise<Refusal>((resolve, reject) => {
      ws.once('open', () => reject(new Error('handshake unexpectedly succeeded')));
      ws.once('unexpected-response', (_req: unknown, response: IncomingMessage) => {
        const chunks: Buffer[] = [];
        response.on('data', (c: Buffer) => chunks.push(c));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString() }));
        response.on('error', reject);
      });
    });
    return result;
  } finally {
    ws.terminate();
  }
}
