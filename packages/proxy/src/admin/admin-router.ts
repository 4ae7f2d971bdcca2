import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Proxy } from '../create-proxy';
import { InvalidOptionError } from '../errors';
import { addBackend, drainBackend, listBackends, listConnections, listFleet, removeBackend, setBackendWeight, undrainBackend, type JsonAnswer } from './admin-routes';
import { BearerAuth } from './auth';
import { DASHBOARD_HTML } from './dashboard-page';
import { AdminFeed } from './feed';
import { AdminHttpError } from './json-body';
import { matchBackendPath } from './backend-path';

/**
 * Options of {@link Proxy.admin}.
 *
 * @example
 * ```ts
 * import type { AdminOptions } from '@switchboard/proxy';
 * const opts: AdminOptions = { token: 'a-long-random-secret', maxBodyBytes: 8192 };
 * ```
 * @group Admin
 */
export interface AdminOptions {
  /**
   * A bearer token required on every route (`Authorization: Bearer <token>`), compared in
   * constant time; a request without it gets 401.
   *
   * @defaultValue undefined (read routes open, mutating routes refused with 403)
   * @remarks
   * The dashboard page asks for it once and keeps it in the tab's sessionStorage. Without a token
   * the API never shows backend URLs, but backend ids (by default `host:port`) still appear in
   * `/metrics` and `/api/*`: name backends with `id` or set a token if the listener is reachable
   * from anywhere but the machine itself.
   */
  readonly token?: string;
  /**
   * Serve the mutating routes (drain, undrain, weight, add, delete) without a token.
   *
   * @defaultValue false
   * @remarks
   * Only for an admin listener nobody else can reach. Even then each mutating request must carry
   * `Content-Type: application/json`, which a cross-site page cannot send without a CORS preflight
   * (which this handler never grants).
   */
  readonly allowUnauthenticatedWrites?: boolean;
  /**
   * Largest JSON body accepted, in bytes; larger ones get 413.
   * @defaultValue 16384
   * @remarks Admin bodies are a few fields; a small cap keeps a hostile client from making the proxy buffer.
   */
  readonly maxBodyBytes?: number;
  /**
   * Most live feed (`/api/feed`) streams at once; more get 503.
   * @defaultValue 16
   * @remarks Every stream gets every open and close: the cap bounds that work.
   */
  readonly maxFeedClients?: number;
  /**
   * Connections per page of `/api/connections` when the request gives no `limit` (at most 1000).
   * @defaultValue 100
   * @remarks The table may hold 100k entries; pages keep answers small.
   */
  readonly pageSize?: number;
}

/**
 * The admin request handler {@link Proxy.admin} returns: pass it to `http.createServer`, or call it
 * from your own server's request handler. `close()` ends the live feed streams it holds open.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * const handler = proxy.admin({ token: 'secret' });
 * const server = createServer(handler).listen(9901, '127.0.0.1');
 * // shutting down:
 * handler.close();
 * server.close();
 * ```
 * @group Admin
 */
export interface AdminHandler {
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends every live feed stream. */
  close(): void;
}

function positiveInteger(value: number | undefined, name: string, fallback: number, max: number): number {
  if (value === undefined) return fallback;
  if (!Number.isInteger(value) || value < 1 || value > max) throw new InvalidOptionError(`admin ${name} must be an integer from 1 to ${max}, got ${String(value)}`);
  return value;
}

function sendJson(res: ServerResponse, status: number, body: unknown, extra: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text), ...extra });
  res.end(text);
}

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  // The page is self-contained: nothing may load from elsewhere, nor may another site frame it.
  'content-security-policy': "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; img-src data:; frame-ancestors 'none'",
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
};

/**
 * Builds the admin handler: auth first, then one route per path and method.
 * @internal
 */
export function createAdminHandler(proxy: Proxy, options: AdminOptions): AdminHandler {
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 1 || /\s/.test(options.token))) {
    throw new InvalidOptionError('admin token must be a non-empty string without whitespace');
  }
  const auth = options.token === undefined ? undefined : new BearerAuth(options.token);
  const openWrites = options.allowUnauthenticatedWrites === true;
  const bodyLimit = positiveInteger(options.maxBodyBytes, 'maxBodyBytes', 16_384, 1024 * 1024);
  const pageSize = positiveInteger(options.pageSize, 'pageSize', 100, 1000);
  const feed = new AdminFeed(proxy, positiveInteger(options.maxFeedClients, 'maxFeedClients', 16, 10_000));

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<JsonAnswer | undefined> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const authorized = auth !== undefined && auth.allows(req);
    if (auth !== undefined && !authorized) {
      const challenge = { 'www-authenticate': 'Bearer realm="switchboard"' };
      // The page itself (no data in it) comes with the 401, so a browser can ask for the token.
      if (path === '/' && method === 'GET') res.writeHead(401, { ...PAGE_HEADERS, ...challenge }).end(DASHBOARD_HTML);
      else sendJson(res, 401, { error: 'missing or wrong bearer token' }, challenge);
      return undefined;
    }
    const reading = method === 'GET' || method === 'HEAD';
    if (!reading && !authorized && !openWrites) {
      throw new AdminHttpError(403, 'mutating routes need a token: set the admin token (or allowUnauthenticatedWrites)');
    }
    if (path === '/' || path === '/index.html') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      res.writeHead(200, PAGE_HEADERS).end(method === 'HEAD' ? undefined : DASHBOARD_HTML);
      return undefined;
    }
    if (path === '/metrics') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      const text = proxy.metrics();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' }).end(method === 'HEAD' ? undefined : text);
      return undefined;
    }
    if (path === '/api/feed') {
      if (method !== 'GET') throw new AdminHttpError(405, 'use GET');
      if (!feed.subscribe(res, authorized)) throw new AdminHttpError(503, 'too many feed clients');
      return undefined;
    }
    if (path === '/api/connections') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      return listConnections(proxy, url.searchParams, pageSize);
    }
    if (path === '/api/fleet') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      return listFleet(proxy, authorized);
    }
    if (path === '/api/backends') {
      if (reading) return listBackends(proxy, authorized);
      if (method === 'POST') return addBackend(proxy, req, bodyLimit);
      throw new AdminHttpError(405, 'use GET or POST');
    }
    const backend = matchBackendPath(path);
    if (backend !== undefined) {
      const { id, action } = backend;
      if (action === undefined) {
        if (method === 'DELETE') return removeBackend(proxy, id, url.searchParams);
        throw new AdminHttpError(405, 'use DELETE');
      }
      if (method !== 'POST') throw new AdminHttpError(405, 'use POST');
      if (action === 'drain') return drainBackend(proxy, id, url.searchParams, req, bodyLimit);
      if (action === 'undrain') return undrainBackend(proxy, id, url.searchParams, req, bodyLimit);
      return setBackendWeight(proxy, id, url.searchParams, req, bodyLimit);
    }
    throw new AdminHttpError(404, 'no such route');
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).then(
      (answer) => {
        if (answer !== undefined) sendJson(res, answer.status, answer.body);
      },
      (err: unknown) => {
        if (res.headersSent) {
          res.destroy();
          return;
        }
        if (err instanceof AdminHttpError) sendJson(res, err.status, { error: err.message });
        else if (err instanceof InvalidOptionError) sendJson(res, 400, { error: err.message });
        else {
          // Unexpected: keep the detail out of the answer, but never swallow it.
          sendJson(res, 500, { error: 'internal error' });
          process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'SWITCHBOARD_ADMIN' });
        }
      },
    );
  };
  return Object.assign(handler, { close: () => feed.close() });
}
