/**
 * Guide example (docs/frameworks.md, "Koa 3"): Koa keeps Node's objects on ctx.req / ctx.res;
 * `ctx.respond = false` tells Koa the proxy answers.
 */
import { createServer, type Server } from 'node:http';
import Koa from 'koa';
import { createProxy, type Proxy } from '@switchboard/proxy';

export function createKoaGateway(apiBackend: string): { server: Server; proxy: Proxy } {
  const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: [apiBackend] }] });
  const app = new Koa();
  app.use(async (ctx, next) => {
    if (ctx.path !== '/api' && !ctx.path.startsWith('/api/')) return next();
    ctx.respond = false;
    proxy.handleRequest(ctx.req, ctx.res);
  });
  app.use((ctx) => {
    ctx.body = 'koa';
  });
  const server = createServer(app.callback());
  server.on('upgrade', proxy.handleUpgrade);
  return { server, proxy };
}

if (require.main === module) {
  createKoaGateway(process.argv[2] ?? 'http://127.0.0.1:9001').server.listen(8080);
}
