/**
 * Guide example (docs/frameworks.md, "Next.js custom server"): Next renders pages, the proxy takes
 * `/api` and WebSocket upgrades under `/ws`; Next's own upgrades (hot reload) stay with Next.
 * Typed against the part of Next's API it uses, so it compiles without Next installed.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createProxy, type Proxy } from '@switchboard/proxy';

/** What `next({ dev })` returns, as far as a custom server uses it. */
export interface NextAppLike {
  prepare(): Promise<void>;
  getRequestHandler(): (req: IncomingMessage, res: ServerResponse) => Promise<void>;
  getUpgradeHandler?(): (req: IncomingMessage, socket: Duplex, head: Buffer) => Promise<void>;
}

const underPrefix = (url: string | undefined, prefix: string): boolean => url === prefix || (url ?? '').startsWith(`${prefix}/`) || (url ?? '').startsWith(`${prefix}?`);

export async function createNextServer(nextApp: NextAppLike, apiBackend: string, wsBackend: string): Promise<{ server: Server; proxy: Proxy }> {
  await nextApp.prepare();
  const handle = nextApp.getRequestHandler();
  const upgrade = nextApp.getUpgradeHandler?.();
  const proxy = createProxy({
    routes: [
      { id: 'api', path: '/api', backends: [apiBackend] },
      { id: 'ws', path: '/ws', backends: [wsBackend] },
    ],
  });
  const server = createServer((req, res) => {
    if (underPrefix(req.url, '/api')) proxy.handleRequest(req, res);
    else void handle(req, res);
  });
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    if (underPrefix(req.url, '/ws')) proxy.handleUpgrade(req, socket, head);
    else if (upgrade !== undefined) void upgrade(req, socket, head);
    else socket.destroy();
  });
  return { server, proxy };
}
