/**
 * The `--admin` listener: a plain node:http server on its own address (127.0.0.1 unless told)
 * serving whatever request handler `proxy.admin({ token })` returns. Builds without an admin API
 * say so instead of starting.
 * @internal
 * @module
 */
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Proxy } from '../create-proxy';
import { CliError, type HostPort } from './args';

type AdminHandler = (req: IncomingMessage, res: ServerResponse) => void;
type AdminFactory = (options: { token?: string }) => AdminHandler;

/** The proxy's admin handler factory, or undefined in a build that has none. */
function adminFactoryOf(proxy: Proxy): AdminFactory | undefined {
  const admin = (proxy as unknown as { admin?: unknown }).admin;
  return typeof admin === 'function' ? (admin.bind(proxy) as AdminFactory) : undefined;
}

/** Throws a {@link CliError} when this build has no admin API; call it before listening anywhere. */
export function checkAdminAvailable(proxy: Proxy): void {
  if (adminFactoryOf(proxy) === undefined) {
    throw new CliError('--admin: admin API not available in this build (proxy.admin() is missing); run without --admin', 2);
  }
}

/** Starts the admin listener; resolves with its server (closed by the caller) and address. */
export async function startAdmin(proxy: Proxy, where: HostPort, token: string | undefined): Promise<{ server: Server; address: AddressInfo }> {
  const factory = adminFactoryOf(proxy);
  if (factory === undefined) throw new CliError('--admin: admin API not available in this build', 2);
  const handler = factory(token === undefined ? {} : { token });
  const server = createServer(handler);
  server.listen(where.port, where.host);
  await Promise.race([once(server, 'listening'), once(server, 'error').then(([err]) => Promise.reject(err as Error))]);
  return { server, address: server.address() as AddressInfo };
}
