/**
 * The Fastify plugin: `@switchboard/proxy/fastify`.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createProxy } from '@switchboard/proxy';
 * import { switchboard } from '@switchboard/proxy/fastify';
 *
 * const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'] }] });
 * const app = Fastify();
 * await app.register(switchboard, { proxy, prefix: '/api' });
 * await app.listen({ port: 8080 });
 * ```
 */
import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { FastifyInstance, FastifyPluginCallback } from 'fastify';
import type { Proxy } from '../create-proxy';
import { underPrefix } from '../routing/route-table';

/**
 * Options of the {@link switchboard} Fastify plugin.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * import type { SwitchboardPluginOptions } from '@switchboard/proxy/fastify';
 * const opts: SwitchboardPluginOptions = { proxy: createProxy({ backends: ['http://127.0.0.1:9001'] }), prefix: '/api' };
 * ```
 */
export interface SwitchboardPluginOptions {
  /** The proxy that serves the requests. */
  readonly proxy: Proxy;
  /**
   * Fastify's own register prefix: requests under it (all methods) go to the proxy, with their full
   * path (routes see `/api/x`, not `/x`), and so do WebSocket upgrades under it on Fastify's server.
   * @defaultValue `''`: every path
   */
  readonly prefix?: string;
  /**
   * Serve WebSocket upgrades under `prefix` from Fastify's own server.
   * @defaultValue true
   */
  readonly websocket?: boolean;
}

/**
 * Registers catch-all routes under the plugin's prefix that hand requests to the proxy
 * (`reply.hijack()`, Fastify's parsed body forwarded as {@link HandleRequestOptions.body}), and an
 * `upgrade` listener on Fastify's server for WebSockets under the prefix, removed on close.
 *
 * @remarks
 * Bodies of content types Fastify parses (JSON, text) are re-sent from `request.body`; any other
 * content type is not parsed inside this plugin and streams to the backend byte for byte.
 *
 * @example
 * ```ts
 * import Fastify from 'fastify';
 * import { createProxy } from '@switchboard/proxy';
 * import { switchboard } from '@switchboard/proxy/fastify';
 *
 * const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'] }] });
 * const app = Fastify();
 * app.get('/health', async () => ({ ok: true }));
 * await app.register(switchboard, { proxy, prefix: '/api' });
 * await app.listen({ port: 8080 });
 * ```
 */
export const switchboard: FastifyPluginCallback<SwitchboardPluginOptions> = (fastify: FastifyInstance, options, done) => {
  const { proxy } = options;
  if (proxy === undefined || typeof proxy.handleRequest !== 'function') {
    done(new TypeError('the switchboard plugin needs { proxy } from createProxy()'));
    return;
  }
  const prefix = (options.prefix ?? '').replace(/\/$/, '');
  // Inside this plugin only: bodies Fastify has no parser for stream through untouched.
  fastify.addContentTypeParser('*', (_request, _payload, parsed) => parsed(null, undefined));
  const handler = (request: { raw: IncomingMessage; body: unknown }, reply: { hijack(): void; raw: import('node:http').ServerResponse }): void => {
    reply.hijack();
    proxy.handleRequest(request.raw, reply.raw, { body: request.body });
  };
  fastify.all('/', handler);
  fastify.all('/*', handler);
  if (options.websocket !== false) {
    const onUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
      const path = (req.url ?? '/').split('?')[0]!;
      if (prefix === '' || underPrefix(path, prefix)) proxy.handleUpgrade(req, socket, head);
    };
    fastify.server.on('upgrade', onUpgrade);
    fastify.addHook('onClose', (_instance, closed) => {
      fastify.server.removeListener('upgrade', onUpgrade);
      closed();
    });
  }
  done();
};

export default switchboard;
