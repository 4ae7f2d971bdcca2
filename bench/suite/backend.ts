/**
 * The suite's backend (own process), HTTP and WebSocket on one port of 127.0.0.1:
 *   - any plain HTTP request: 200 with a 13-byte body (`hello, world\n`), keep-alive;
 *   - WebSocket `/echo`: echoes every message;
 *   - WebSocket `/stream`: sends `STREAM_BYTES`-byte binary messages as fast as the connection takes
 *     them (at most 4 sends in flight per connection, each next one sent from the previous one's write
 *     callback), until the client closes.
 * argv[2] (optional): JSON `{ "host": "127.0.0.1", "streamBytes": 65536 }`. Reports `{ type: 'ready', port }`.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, WebSocket } from 'ws';
import { exitOnStop, send } from '../lib/ipc';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { host?: string; streamBytes?: number };
const body = Buffer.from('hello, world\n');
const chunk = Buffer.alloc(cfg.streamBytes ?? 65536, 0x62);
const IN_FLIGHT = 4;

const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'text/plain', 'content-length': body.length });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.headersTimeout = 61_000;
server.requestTimeout = 0;
server.maxRequestsPerSocket = 0;

const wss = new WebSocketServer({ server, perMessageDeflate: false, clientTracking: true, maxPayload: 1 << 24 });
wss.on('connection', (ws, req) => {
  ws.on('error', () => undefined);
  if (req.url === '/stream') {
    const pump = (): void => {
      if (ws.readyState !== WebSocket.OPEN) return;
      ws.send(chunk, { binary: true }, (err) => {
        if (err === undefined || err === null) pump();
      });
    };
    for (let i = 0; i < IN_FLIGHT; i++) pump();
    return;
  }
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
server.on('error', (err) => {
  send({ type: 'fatal', message: `backend: ${err.message}` });
  process.exit(1);
});
server.listen({ host: cfg.host ?? '127.0.0.1', port: 0, backlog: 65535 }, () => send({ type: 'ready', port: (server.address() as AddressInfo).port }));
exitOnStop(
  () =>
    new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      server.closeAllConnections();
      wss.close();
      server.close(() => resolve());
    }),
);
