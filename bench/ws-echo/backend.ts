/**
 * The backend: a `ws` echo server on 127.0.0.1 (own process). Reports `{ type: 'ready', port }`.
 */
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { exitOnStop, send } from '../lib/ipc';

const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false, clientTracking: true });
wss.on('connection', (ws) => {
  ws.on('error', () => undefined);
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
});
wss.on('error', (err) => {
  send({ type: 'fatal', message: `backend: ${err.message}` });
  process.exit(1);
});
wss.on('listening', () => send({ type: 'ready', port: (wss.address() as AddressInfo).port }));
exitOnStop(
  () =>
    new Promise<void>((resolve) => {
      for (const ws of wss.clients) ws.terminate();
      wss.close(() => resolve());
    }),
);
