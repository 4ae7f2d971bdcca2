/**
 * Guide example (docs/frameworks.md, "Fastify 5"): the `@switchboard/proxy/fastify` plugin under a
 * prefix; HTTP and WebSocket upgrades on Fastify's own server.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { createProxy, type Proxy } from '@switchboard/proxy';
import { switchboard } from '@switchboard/proxy/fastify';

export async function createFastifyGateway(apiBackend: string): Promise<{ app: FastifyInstance; proxy: Proxy }> {
  const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: [apiBackend], stripPrefix: true }] });
  const app = Fastify();
  app.get('/healthz', async () => 'ok');
  await app.register(switchboard, { proxy, prefix: '/api' });
  // The proxy's sockets end with Fastify's server.
  app.addHook('onClose', async () => proxy.close());
  return { app, proxy };
}

if (require.main === module) {
  void createFastifyGateway(process.argv[2] ?? 'http://127.0.0.1:9001').then(({ app }) => app.listen({ port: 8080 }));
}
