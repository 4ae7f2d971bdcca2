/**
 * Embedding Switchboard in a node:http server you already have.
 *
 *   node packages/examples/dist/embed-node-http.js http://127.0.0.1:9001 http://127.0.0.1:9002
 *
 * `proxy.attach(server)` serves the server's `request` and `upgrade` events
 * (HTTP and WebSocket). `PORT` sets the port (default 8081).
 */
import { createServer } from 'node:http';
import { createProxy } from '@switchboard/proxy';

const backends = process.argv.slice(2);
if (backends.length === 0) {
  console.error('usage: embed-node-http.js <backend-url> [<backend-url> ...]');
  process.exit(2);
}

const proxy = createProxy({ backends, strategy: 'round-robin' });
const server = createServer();
const detach = proxy.attach(server);
// A server with routes of its own calls the handlers itself instead:
//   createServer((req, res) => (req.url === '/healthz' ? res.end('ok') : proxy.handleRequest(req, res)))
//     .on('upgrade', proxy.handleUpgrade);
proxy.on('connectionOpen', (c) => console.log(`${c.protocol} ${c.client.address}:${c.client.port} -> ${c.backend.id}`));

server.listen(Number(process.env['PORT'] ?? 8081), '127.0.0.1', () => console.log('listening on', server.address()));

process.once('SIGINT', () => {
  detach();
  server.close();
  server.closeAllConnections();
  void proxy.close();
});
