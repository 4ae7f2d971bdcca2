/**
 * Guide example (docs/frameworks.md, "Plain http and https"): one handler answers its own paths and
 * hands the rest (and every upgrade) to the proxy; TLS is the server's, the proxy does not care.
 */
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { createProxy, type Proxy } from '@switchboard/proxy';

export function createNodeGateway(backend: string, tls?: ServerOptions): { server: Server; proxy: Proxy } {
  const proxy = createProxy({ backends: [backend], logger: console });
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): void => {
    if (req.url === '/healthz') res.end('ok');
    else proxy.handleRequest(req, res);
  };
  const server = tls === undefined ? createHttpServer(handler) : createHttpsServer(tls, handler);
  server.on('upgrade', proxy.handleUpgrade);
  return { server, proxy };
}

if (require.main === module) {
  createNodeGateway(process.argv[2] ?? 'http://127.0.0.1:9001').server.listen(8080);
}
