import type { IncomingMessage } from 'node:http';
import type { Proxy } from '../create-proxy';
import { DEFAULT_ROUTE } from '../connection-table';
import { InvalidOptionError, isSwitchboardError } from '../errors';
import { AdminHttpError, onlyKeys, optionalInteger, optionalString, readJsonObject } from './json-body';
import { backendView, connectionView, type BackendView, type ConnectionView } from './views';

/** An answer of the JSON API: status and body. @internal */
export interface JsonAnswer {
  readonly status: number;
  readonly body: unknown;
}

const MAX_PAGE = 1000;

/** The `route` query parameter (default `default`) of a backend action, checked to hold backend `id`. */
function requireBackend(proxy: Proxy, id: string, query: URLSearchParams): { route: string } {
  const route = query.get('route') ?? DEFAULT_ROUTE;
  if (!proxy.backends().some((b) => b.id === id && b.route === route)) throw new AdminHttpError(404, `no backend with id ${JSON.stringify(id)} in route ${JSON.stringify(route)}`);
  return { route };
}

function integerParam(query: URLSearchParams, key: string, fallback: number, min: number, max: number): number {
  const raw = query.get(key);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new AdminHttpError(400, `query "${key}" must be an integer from ${min} to ${max}`);
  return value;
}

/** `GET /api/backends`. @internal */
export function listBackends(proxy: Proxy, showAddresses: boolean): JsonAnswer {
  const backends: BackendView[] = proxy.backends().map((b) => backendView(b, showAddresses));
  return { status: 200, body: { backends, panic: proxy.isPanicking() } };
}

/**
 * `GET /api/connections?route=&backend=&client=&protocol=&offset=&limit=`: the table filtered
 * (route, backend and protocol exact; client a substring of `ip:port`), oldest first, one page.
 * @internal
 */
export function listConnections(proxy: Proxy, query: URLSearchParams, defaultPage: number): JsonAnswer {
  for (const key of query.keys()) {
    if (!['route', 'backend', 'client', 'protocol', 'offset', 'limit'].includes(key)) throw new AdminHttpError(400, `unknown query parameter "${key}"`);
  }
  const offset = integerParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = integerParam(query, 'limit', defaultPage, 1, MAX_PAGE);
  const route = query.get('route');
  const backend = query.get('backend');
  const client = query.get('client');
  const protocol = query.get('protocol');
  const now = Date.now();
  const matching: ConnectionView[] = [];
  for (const c of proxy.connections()) {
    const view = connectionView(c, now);
    if (route !== null && view.route !== route) continue;
    if (backend !== null && view.backend !== backend) continue;
    if (protocol !== null && view.protocol !== protocol) continue;
    if (client !== null && !view.client.includes(client)) continue;
    matching.push(view);
  }
  return { status: 200, body: { total: matching.length, offset, limit, connections: matching.slice(offset, offset + limit) } };
}

/** A new backend as `POST /api/backends` describes it. @internal */
export interface BackendBody {
  readonly route: string;
  readonly spec: { readonly url: string; readonly id?: string; readonly weight?: number; readonly maxConnections?: number };
}

/**
 * Reads and checks the body of `POST /api/backends`: `{ url, id?, weight?, maxConnections?, route? }`. Shared by a
 * proxy's admin and a cluster primary's, so both refuse the same bodies with the same messages. @internal
 */
export async function readBackendBody(req: IncomingMessage, bodyLimit: number): Promise<BackendBody> {
  const body = await readJsonObject(req, bodyLimit);
  onlyKeys(body, ['url', 'id', 'weight', 'maxConnections', 'route']);
  const route = optionalString(body, 'route', 256) ?? DEFAULT_ROUTE;
  const url = optionalString(body, 'url');
  if (url === undefined) throw new AdminHttpError(400, '"url" is required');
  const id = optionalString(body, 'id', 256);
  const weight = optionalInteger(body, 'weight', 1, 1_000_000);
  const maxConnections = optionalInteger(body, 'maxConnections', 1);
  return { route, spec: { url, ...(id !== undefined && { id }), ...(weight !== undefined && { weight }), ...(maxConnections !== undefined && { maxConnections }) } };
}

/** `POST /api/backends` with `{ url, id?, weight?, maxConnections? }`. @internal */
export async function addBackend(proxy: Proxy, req: IncomingMessage, bodyLimit: number): Promise<JsonAnswer> {
  const { route, spec } = await readBackendBody(req, bodyLimit);
  const id = spec.id;
  if (id !== undefined && proxy.backends().some((b) => b.id === id && b.route === route)) throw new AdminHttpError(409, `backend id already in use: ${id}`);
  try {
    const added = proxy.addBackend(spec, { route });
    return { status: 201, body: { backend: backendView(added, true) } };
  } catch (err) {
    if (err instanceof InvalidOptionError) throw new AdminHttpError(err.message.includes('already in use') ? 409 : err.message.startsWith('no route') ? 404 : 400, err.message);
    throw err;
  }
}

/** `DELETE /api/backends/:id?drain=false&timeout=ms`: drains (unless `drain=false`), then removes. @internal */
export async function removeBackend(proxy: Proxy, id: string, query: URLSearchParams): Promise<JsonAnswer> {
  const { route } = requireBackend(proxy, id, query);
  const drainParam = query.get('drain');
  if (drainParam !== null && drainParam !== 'true' && drainParam !== 'false') throw new AdminHttpError(400, 'query "drain" must be true or false');
  const timeout = query.get('timeout') === null ? undefined : integerParam(query, 'timeout', 0, 0, 3_600_000);
  await proxy.removeBackend(id, { route, drain: drainParam !== 'false', ...(timeout !== undefined && { timeout }) });
  return { status: 200, body: { removed: id } };
}

/**
 * `POST /api/backends/:id/drain` with `{ timeout?, code? }`: answers 202 at once (the backend is
 * `draining` from this moment); the drain goes on in the background.
 * @internal
 */
export async function drainBackend(proxy: Proxy, id: string, query: URLSearchParams, req: IncomingMessage, bodyLimit: number): Promise<JsonAnswer> {
  const body = await readJsonObject(req, bodyLimit);
  onlyKeys(body, ['timeout', 'code']);
  const { route } = requireBackend(proxy, id, query);
  const timeout = optionalInteger(body, 'timeout', 0, 3_600_000);
  const code = optionalInteger(body, 'code', 1000, 4999);
  // drain() validates synchronously before its first await; a bad close code surfaces here as a 400.
  const draining = proxy.drain(id, { route, ...(timeout !== undefined && { timeout }), ...(code !== undefined && { code }) });
  const early = await Promise.race([draining.then(() => undefined), new Promise<undefined>((r) => setImmediate(r, undefined))]).catch((err: unknown) => err);
  if (early instanceof InvalidOptionError) throw new AdminHttpError(400, early.message);
  draining.catch(() => undefined);
  return { status: 202, body: { draining: id } };
}

/** `POST /api/backends/:id/undrain`. @internal */
export async function undrainBackend(proxy: Proxy, id: string, query: URLSearchParams, req: IncomingMessage, bodyLimit: number): Promise<JsonAnswer> {
  onlyKeys(await readJsonObject(req, bodyLimit), []);
  const { route } = requireBackend(proxy, id, query);
  proxy.undrain(id, { route });
  return { status: 200, body: { undrained: id } };
}

/** `POST /api/backends/:id/weight` with `{ weight }`. @internal */
export async function setBackendWeight(proxy: Proxy, id: string, query: URLSearchParams, req: IncomingMessage, bodyLimit: number): Promise<JsonAnswer> {
  const body = await readJsonObject(req, bodyLimit);
  onlyKeys(body, ['weight']);
  const weight = optionalInteger(body, 'weight', 1, 1_000_000);
  if (weight === undefined) throw new AdminHttpError(400, '"weight" is required');
  const { route } = requireBackend(proxy, id, query);
  proxy.setWeight(id, weight, { route });
  return { status: 200, body: { id, weight } };
}

/**
 * `GET /api/fleet`: the fleet table of `sharedState` (404 without it, 503 while Redis is unusable).
 * Proxy addresses are shown only to an authorized caller, as backend URLs are.
 * @internal
 */
export async function listFleet(proxy: Proxy, showAddresses: boolean): Promise<JsonAnswer> {
  const status = proxy.sharedState;
  if (status === undefined) throw new AdminHttpError(404, 'sharedState is not configured');
  try {
    const proxies = await proxy.fleet();
    return { status: 200, body: { fleet: status.fleet, self: status.proxyId, proxies: proxies.map((p) => (showAddresses ? p : { ...p, addresses: [] })) } };
  } catch (err) {
    if (isSwitchboardError(err) && err.code === 'ERR_SHARED_STATE') throw new AdminHttpError(503, err.message);
    throw err;
  }
}
