/**
 * Guide example (docs/frameworks.md, "Express 5"): an Express app with its own routes, `/api` proxied
 * with the mount path kept, and WebSocket upgrades handed to the proxy from the server.
 */
import type { Server } from 'node:http';
import express from 'express';
import { createProxy, type Proxy } from '@switchboard/proxy';

export function createExpressGateway(apiBackend: string, chatBackend: string): { app: express.Express; proxy: Proxy } {
  const proxy = createProxy({
    routes: [
      // The backend serves /api/...: the mount path is kept (add stripPrefix: true to remove it).
      { id: 'api', path: '/api', backends: [apiBackend] },
      { id: 'chat', path: '/chat', backends: [chatBackend] },
    ],
  });
  const app = express();
  app.get('/healthz', (_req, res) => {
    res.send('ok');
  });
  app.use('/api', proxy.middleware());
  return { app, proxy };
}

/** Upgrades never reach Express: the server hands them to the proxy. */
export function serveWebSockets(server: Server, proxy: Proxy): void {
  server.on('upgrade', proxy.handleUpgrade);
}

if (require.main === module) {
  const { app, proxy } = createExpressGateway(process.argv[2] ?? 'http://127.0.0.1:9001', process.argv[3] ?? 'http://127.0.0.1:9002');
  const server = app.listen(8080);
  serveWebSockets(server, proxy);
}
