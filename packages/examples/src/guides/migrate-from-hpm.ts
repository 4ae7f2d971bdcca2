/**
 * Guide example (docs/migrating.md): an http-proxy-middleware setup and its Switchboard equivalent.
 *
 * Before (http-proxy-middleware 3):
 *   app.use('/api', createProxyMiddleware({
 *     target: 'http://127.0.0.1:9001', changeOrigin: true, pathRewrite: { '^/api': '' }, ws: true,
 *     on: { proxyReq: (proxyReq) => proxyReq.setHeader('x-api-key', 'k'), error: (err) => console.error(err) },
 *   }));
 */
import type { Server } from 'node:http';
import express from 'express';
import { createProxy, type Proxy } from '@switchboard/proxy';

export function createMigratedApp(): { app: express.Express; proxy: Proxy; attach(server: Server): void } {
  const proxy = createProxy({
    routes: [
      {
        id: 'api',
        path: '/api',
        backends: ['http://127.0.0.1:9001'], // target
        changeOrigin: true, // changeOrigin
        stripPrefix: true, // pathRewrite: { '^/api': '' }
        headers: { 'x-api-key': 'k' }, // on.proxyReq setting a header
      },
    ],
    logger: console, // logger
  });
  proxy.on('error', (err) => console.error(err.code, err.message)); // on.error
  const app = express();
  app.use('/api', proxy.middleware());
  // ws: true -> upgrades are always proxied; Express never sees them, so the server hands them over.
  return { app, proxy, attach: (server) => server.on('upgrade', proxy.handleUpgrade) };
}
