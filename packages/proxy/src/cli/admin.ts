/**
 * The `--admin` listener: a plain node:http server on its own address (127.0.0.1 unless told)
 * serving the handler `proxy.admin({ token })` returns.
 * @internal
 * @module
 */
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AdminHandler, AdminOptions } from '../admin/admin-router';
import type { HostPort } from './args';

/** A running admin listener; `close()` ends the live feeds, then the server. */
export interface AdminListener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Starts the admin listener (of a proxy, or of a cluster primary: both have `admin()`); rejects with the listen error (EADDRINUSE...) after closing what it opened. */
export async function startAdmin(proxy: { admin(options: AdminOptions): AdminHandler }, where: HostPort, token: string | undefined): Promise<AdminListener> {
  const handler = proxy.admin(token === undefined ? {} : { token });
  const server: Server = createServer(handler);
  server.listen(where.port, where.host);
  try {
    await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  } catch (err) {
    handler.close();
    throw err;
  }
  const close = (): Promise<void> =>
    new Promise((resolve) => {
      // Feeds are long-lived responses: end them first, or server.close() would wait for them.
      handler.close();
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { address: server.address() as AddressInfo, close };
}
