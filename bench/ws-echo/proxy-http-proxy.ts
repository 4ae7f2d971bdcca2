/**
 * http-proxy 1.18 as a fair user would configure it (TOOLCHAIN pitfall 10): a keep-alive agent,
 * `ws: true`, and the upgrade event handed to `proxy.ws`. argv[2]: backend URL; argv[3] (optional):
 * JSON `{ "localAddresses": [...] }`, rotated per proxied request/upgrade (http-proxy's per-call
 * `localAddress` option) to get past the ~28k source ports toward one backend address.
 */
import { Agent, createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import httpProxy from 'http-proxy';
import { answerEluRequests, answerGcRequests, exitOnStop, send } from '../lib/ipc';
import { enableWindowProfiling } from '../lib/profiler';

enableWindowProfiling();
answerGcRequests();
answerEluRequests();

const target = process.argv[2];
if (target === undefined) throw new Error('usage: proxy-http-proxy <backend-url>');

const agent = new Agent({ keepAlive: true });
const proxy = httpProxy.createProxyServer({ target, ws: true, agent });
let errors = 0;
proxy.on('error', (_err, _req, resOrSocket) => {
  errors += 1;
  const maybeSocket = resOrSocket as Partial<Socket>;
  if (typeof maybeSocket.destroy === 'function') maybeSocket.destroy();
});

const localAddresses = (JSON.parse(process.argv[3] ?? '{}') as { localAddresses?: string[] }).localAddresses ?? [];
let nextLocal = 0;
const perCall = (): httpProxy.ServerOptions | undefined => {
  if (localAddresses.length === 0) return undefined;
  nextLocal = (nextLocal + 1) % localAddresses.length;
  return { localAddress: localAddresses[nextLocal] };
};

const server = createServer((req, res) => proxy.web(req, res, perCall()));
server.on('upgrade', (req, socket, head) => proxy.ws(req, socket, head, perCall()));
server.on('error', (err) => {
  send({ type: 'fatal', message: `http-proxy listen: ${err.message}` });
  process.exit(1);
});
server.listen(0, '127.0.0.1', () => send({ type: 'ready', port: (server.address() as AddressInfo).port }));

exitOnStop(() => {
  if (errors > 0) process.stderr.write(`http-proxy: ${errors} error event(s)\n`);
  server.closeAllConnections();
  agent.destroy();
  proxy.close();
});
