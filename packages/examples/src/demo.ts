/**
 * The `npm start` demo: three backend nodes (HTTP page + WebSocket echo) and a
 * Switchboard proxy in front of them, all in one process.
 *
 * Open http://127.0.0.1:8080 in a browser: the page is served by one node, its
 * WebSocket lands on the next one (round-robin), and every connection the proxy
 * opens or closes is printed here. `PORT` overrides the port (0 picks a free one).
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import { createProxy, type ConnectionRecord, type Proxy, type SwitchboardError } from '@switchboard/proxy';
import { stopOnSignals } from './shutdown';
import { escapeHtml } from './html';

const HOST = '127.0.0.1';
const DEFAULT_PORT = 8080;
const NODE_NAMES = ['node-1', 'node-2', 'node-3'] as const;
/** How long `close()` lets in-flight HTTP requests finish, in ms. */
const CLOSE_TIMEOUT = 2000;

/** One backend node of the demo. */
export interface DemoNode {
  /** The node's name; also its backend id in the proxy. */
  readonly name: string;
  /** Where the proxy reaches it (never shown to clients). */
  readonly url: string;
  close(): Promise<void>;
}

export interface DemoOptions {
  /** Port for the proxy on 127.0.0.1; 0 picks a free one. Default 8080. */
  readonly port?: number;
  /** Receives one line per event; default `console.log`. */
  readonly log?: (line: string) => void;
}

export interface Demo {
  /** The port the proxy listens on. */
  readonly port: number;
  /** `http://127.0.0.1:<port>` */
  readonly url: string;
  readonly proxy: Proxy;
  readonly nodes: readonly DemoNode[];
  /** Closes the proxy (ending its connections), then the nodes. Idempotent. */
  close(): Promise<void>;
}

/** The page every node serves at `/`: a tiny WebSocket client that talks back through the proxy. */
function pageFor(name: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>Switchboard demo</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; max-width: 40rem; margin: 2rem auto; padding: 0 1rem; }
  code, #ws-node, #page-node { font-family: ui-monospace, monospace; font-weight: bold; }
  #log { list-style: none; padding: 0; font-family: ui-monospace, monospace; }
  #log li { padding: 0.15rem 0; border-bottom: 1px solid #eee; }
</style>
</head>
<body>
<h1>Switchboard demo</h1>
<p>This page was served by <span id="page-node">${escapeHtml(name)}</span>.</p>
<p>WebSocket: <span id="status">connecting…</span>, landed on <span id="ws-node">?</span>.
   Reload to be placed again (round-robin over three nodes).</p>
<form id="form"><input id="input" autocomplete="off" placeholder="type a message" autofocus> <button>Send</button></form>
<ul id="log"></ul>
<script>
  const $ = (id) => document.getElementById(id);
  const log = (text) => { const li = document.createElement('li'); li.textContent = text; $('log').prepend(li); };
  const scheme = location.protocol === 'https:' ? 'wss:' : 'ws:';
  const ws = new WebSocket(scheme + '//' + location.host + '/ws');
  ws.onopen = () => { $('status').textContent = 'open'; };
  ws.onmessage = (event) => {
    const text = String(event.data);
    const node = text.slice(0, text.indexOf(':'));
    if (node) $('ws-node').textContent = node;
    log(text);
  };
  ws.onclose = (event) => { $('status').textContent = 'closed (' + event.code + ')'; };
  $('form').onsubmit = (event) => {
    event.preventDefault();
    const text = $('input').value;
    if (text && ws.readyState === WebSocket.OPEN) { ws.send(text); $('input').value = ''; }
  };
</script>
</body>
</html>
`;
}

function nodeOnRequest(name: string, req: IncomingMessage, res: ServerResponse): void {
  // Headers a backend typically leaks; the proxy removes them by default.
  res.setHeader('X-Powered-By', 'switchboard-demo');
  res.setHeader('X-Backend-Node', name);
  const path = (req.url ?? '/').split('?')[0];
  if (path === '/') {
    res.setHeader('Content-Type', 'text/html; charset=utf-8');
    res.end(pageFor(name));
  } else if (path === '/whoami') {
    res.setHeader('Content-Type', 'application/json');
    res.end(JSON.stringify({ node: name }));
  } else if (path === '/favicon.ico') {
    res.statusCode = 204;
    res.end();
  } else {
    res.statusCode = 404;
    res.setHeader('Content-Type', 'text/plain; charset=utf-8');
    res.end('not found\n');
  }
}

/** Starts one backend: `/` (HTML client), `/whoami` (JSON) and a WebSocket echo that prefixes replies with its name. */
async function startNode(name: string): Promise<DemoNode> {
  const sockets = new Set<Socket>();
  const server: Server = createServer((req, res) => nodeOnRequest(name, req, res));
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  const wss = new WebSocketServer({ server });
  wss.on('connection', (ws) => {
    ws.on('error', () => ws.terminate());
    ws.send(`${name}: connected, type something`);
    ws.on('message', (data, isBinary) => {
      ws.send(isBinary ? data : `${name}: ${data.toString()}`, { binary: isBinary });
    });
  });
  server.listen(0, HOST);
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  let closed: Promise<void> | undefined;
  return {
    name,
    url: `http://${HOST}:${port}`,
    close() {
      closed ??= new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closed;
    },
  };
}

function formatOpen(c: ConnectionRecord): string {
  return `open  ${c.protocol.padEnd(9)} ${c.client.address}:${c.client.port} -> ${c.backend.id}`;
}

function formatClose(c: ConnectionRecord, reason: SwitchboardError | undefined): string {
  const seconds = ((Date.now() - c.openedAt) / 1000).toFixed(1);
  const why = reason === undefined ? '' : ` ${reason.code}: ${reason.message}`;
  return `close ${c.protocol.padEnd(9)} ${c.client.address}:${c.client.port} -> ${c.backend.id} (${seconds} s, ${c.bytesIn} B in, ${c.bytesOut} B out)${why}`;
}

/**
 * Starts three nodes and the proxy on 127.0.0.1:`port` in front of them (round-robin).
 * Resolves once everything listens; on failure (e.g. the port is taken) it closes what it started and rejects.
 */
export async function startDemo(options: DemoOptions = {}): Promise<Demo> {
  const log = options.log ?? ((line: string) => console.log(line));
  const nodes = await Promise.all(NODE_NAMES.map(startNode));
  const proxy = createProxy({
    backends: nodes.map((n) => ({ url: n.url, id: n.name })),
    strategy: 'round-robin',
    closeTimeout: CLOSE_TIMEOUT,
  });
  // A connection that ends by an error is reported twice: `connectionClose` with the reason, then `error`.
  const shownOnClose = new WeakSet<SwitchboardError>();
  proxy.on('connectionOpen', (c) => log(formatOpen(c)));
  proxy.on('connectionClose', (c, reason) => {
    if (reason !== undefined) shownOnClose.add(reason);
    log(formatClose(c, reason));
  });
  proxy.on('error', (err) => {
    // What is left was refused before it got a table entry (400, 426, 503). The proxy keeps serving either way.
    if (!shownOnClose.has(err)) log(`refused ${err.clientAddress ?? '-'} ${err.code}: ${err.message}`);
  });
  let port: number;
  try {
    ({ port } = await proxy.listen({ port: options.port ?? DEFAULT_PORT, host: HOST }));
  } catch (err) {
    await proxy.destroy();
    await Promise.all(nodes.map((n) => n.close()));
    throw err;
  }
  const url = `http://${HOST}:${port}`;
  log(`Switchboard demo on ${url} -> ${nodes.map((n) => `${n.name} (${n.url})`).join(', ')}`);
  let closing: Promise<void> | undefined;
  return {
    port,
    url,
    proxy,
    nodes,
    close() {
      closing ??= (async () => {
        await proxy.close();
        await Promise.all(nodes.map((n) => n.close()));
      })();
      return closing;
    },
  };
}

function portFromEnv(value: string | undefined): number {
  if (value === undefined || value === '') return DEFAULT_PORT;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`PORT must be an integer from 0 to 65535, got ${value}`);
  return port;
}

async function main(): Promise<void> {
  let demo: Demo;
  try {
    demo = await startDemo({ port: portFromEnv(process.env['PORT']) });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') console.error(`Port ${process.env['PORT'] ?? DEFAULT_PORT} is in use; try PORT=8081 npm start`);
    else console.error(err instanceof Error ? err.message : err);
    process.exitCode = 1;
    return;
  }
  console.log(`Open ${demo.url} in a browser. Ctrl-C stops.`);
  stopOnSignals(() => demo.close());
}

if (require.main === module) void main();
