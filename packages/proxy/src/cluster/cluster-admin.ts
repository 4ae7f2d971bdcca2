/**
 * The admin API of a cluster primary: the single-proxy routes over the whole machine (reads merged
 * from every worker, writes fanned out to every worker) plus the workers themselves. Same auth rules
 * as {@link Proxy.admin}: a bearer token, and mutating routes refused without one.
 * @internal
 * @module
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AdminHandler, AdminOptions } from '../admin/admin-router';
import { BearerAuth } from '../admin/auth';
import { AdminHttpError, onlyKeys, optionalInteger, readJsonObject } from '../admin/json-body';
import { matchBackendPath } from '../admin/backend-path';
import { readBackendBody } from '../admin/admin-routes';
import { backendView, connectionView } from '../admin/views';
import { DEFAULT_ROUTE } from '../connection-table';
import { InvalidOptionError } from '../errors';
import { renderExposition } from '../admin/metric-families';
import { mergeBackends, mergeConnections } from './aggregate';
import type { Cluster } from './primary';

interface Answer {
  readonly status: number;
  readonly body: unknown;
}

const MAX_PAGE = 1000;

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store', 'content-length': Buffer.byteLength(text) }).end(text);
}

function integerParam(query: URLSearchParams, key: string, fallback: number, min: number, max: number): number {
  const raw = query.get(key);
  if (raw === null) return fallback;
  const value = Number(raw);
  if (!/^\d+$/.test(raw) || value < min || value > max) throw new AdminHttpError(400, `query "${key}" must be an integer from ${min} to ${max}`);
  return value;
}

async function listConnections(cluster: Cluster, query: URLSearchParams, pageSize: number): Promise<Answer> {
  for (const key of query.keys()) {
    if (!['route', 'backend', 'client', 'protocol', 'worker', 'offset', 'limit'].includes(key)) throw new AdminHttpError(400, `unknown query parameter "${key}"`);
  }
  const offset = integerParam(query, 'offset', 0, 0, Number.MAX_SAFE_INTEGER);
  const limit = integerParam(query, 'limit', pageSize, 1, MAX_PAGE);
  const worker = query.has('worker') ? integerParam(query, 'worker', 0, 0, Number.MAX_SAFE_INTEGER) : undefined;
  const { answers, missing } = await cluster.collect({ op: 'connections' });
  const now = Date.now();
  const rows = [];
  for (const c of mergeConnections(answers)) {
    const view = { ...connectionView(c, now), worker: c.worker };
    if (worker !== undefined && c.worker !== worker) continue;
    if (query.has('route') && view.route !== query.get('route')) continue;
    if (query.has('backend') && view.backend !== query.get('backend')) continue;
    if (query.has('protocol') && view.protocol !== query.get('protocol')) continue;
    if (query.has('client') && !view.client.includes(query.get('client')!)) continue;
    rows.push(view);
  }
  return { status: 200, body: { total: rows.length, offset, limit, connections: rows.slice(offset, offset + limit), missingWorkers: missing } };
}

async function listBackends(cluster: Cluster, showAddresses: boolean): Promise<Answer> {
  const { answers, missing } = await cluster.collect({ op: 'backends' });
  const backends = mergeBackends(answers).map((b) => ({ ...backendView(b, showAddresses), byWorker: b.byWorker }));
  return { status: 200, body: { backends, missingWorkers: missing } };
}

/** Runs a fanned-out change, mapping the workers' refusals to the statuses the single-proxy API uses. */
async function change(run: () => Promise<void>, answer: Answer): Promise<Answer> {
  try {
    await run();
    return answer;
  } catch (err) {
    if (err instanceof InvalidOptionError) {
      const m = err.message;
      throw new AdminHttpError(m.includes('already in use') ? 409 : m.startsWith('no backend') || m.startsWith('no route') ? 404 : 400, m);
    }
    throw err;
  }
}

async function backendAction(cluster: Cluster, id: string, action: string | undefined, method: string, query: URLSearchParams, req: IncomingMessage, limit: number): Promise<Answer> {
  const route = query.get('route') ?? DEFAULT_ROUTE;
  if (action === undefined) {
    if (method !== 'DELETE') throw new AdminHttpError(405, 'use DELETE');
    const drain = query.get('drain');
    if (drain !== null && drain !== 'true' && drain !== 'false') throw new AdminHttpError(400, 'query "drain" must be true or false');
    const timeout = query.has('timeout') ? integerParam(query, 'timeout', 0, 0, 3_600_000) : undefined;
    return change(() => cluster.removeBackend(id, { route, drain: drain !== 'false', ...(timeout !== undefined && { timeout }) }), { status: 200, body: { removed: id } });
  }
  if (method !== 'POST') throw new AdminHttpError(405, 'use POST');
  const body = await readJsonObject(req, limit);
  if (action === 'drain') {
    onlyKeys(body, ['timeout', 'code']);
    const timeout = optionalInteger(body, 'timeout', 0, 3_600_000);
    const code = optionalInteger(body, 'code', 1000, 4999);
    // The drain answers 202 at once and goes on in the background, so refuse an unknown id here.
    if (!(await cluster.backends()).some((b) => b.id === id && b.route === route)) throw new AdminHttpError(404, `no backend with id ${JSON.stringify(id)} in route ${JSON.stringify(route)}`);
    const draining = cluster.drain(id, { route, ...(timeout !== undefined && { timeout }), ...(code !== undefined && { code }) });
    // A bad close code is refused by the workers before they drain anything: give it a moment to come back.
    const early = await Promise.race([draining.then(() => undefined, (err: unknown) => err), new Promise<undefined>((r) => setTimeout(r, 50, undefined))]);
    draining.catch(() => undefined);
    if (early instanceof Error) return change(() => Promise.reject(early), { status: 202, body: {} });
    return { status: 202, body: { draining: id } };
  }
  if (action === 'undrain') {
    onlyKeys(body, []);
    return change(() => cluster.undrain(id, { route }), { status: 200, body: { undrained: id } });
  }
  onlyKeys(body, ['weight']);
  const weight = optionalInteger(body, 'weight', 1, 1_000_000);
  if (weight === undefined) throw new AdminHttpError(400, '"weight" is required');
  return change(() => cluster.setWeight(id, weight, { route }), { status: 200, body: { id, weight } });
}

async function addBackend(cluster: Cluster, req: IncomingMessage, limit: number): Promise<Answer> {
  const { route, spec } = await readBackendBody(req, limit);
  return change(() => cluster.addBackend(spec, { route }), { status: 201, body: { backend: { ...spec, route } } });
}

/** @internal */
export function createClusterAdminHandler(cluster: Cluster, options: AdminOptions): AdminHandler {
  if (options.token !== undefined && (typeof options.token !== 'string' || options.token.length < 1 || /\s/.test(options.token))) {
    throw new InvalidOptionError('admin token must be a non-empty string without whitespace');
  }
  const auth = options.token === undefined ? undefined : new BearerAuth(options.token);
  const limit = options.maxBodyBytes ?? 16_384;
  const pageSize = options.pageSize ?? 100;

  const route = async (req: IncomingMessage, res: ServerResponse): Promise<Answer | undefined> => {
    const url = new URL(req.url ?? '/', 'http://admin.invalid');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    const authorized = auth !== undefined && auth.allows(req);
    if (auth !== undefined && !authorized) {
      res.setHeader('www-authenticate', 'Bearer realm="switchboard"');
      throw new AdminHttpError(401, 'missing or wrong bearer token');
    }
    const reading = method === 'GET' || method === 'HEAD';
    if (!reading && !authorized && options.allowUnauthenticatedWrites !== true) {
      throw new AdminHttpError(403, 'mutating routes need a token: set the admin token (or allowUnauthenticatedWrites)');
    }
    if (path === '/metrics') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      const text = renderExposition(await cluster.families());
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8', 'cache-control': 'no-store' }).end(method === 'HEAD' ? undefined : text);
      return undefined;
    }
    if (path === '/api/workers') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      return { status: 200, body: { workers: cluster.workers() } };
    }
    if (path === '/api/workers/rolling-restart') {
      if (method !== 'POST') throw new AdminHttpError(405, 'use POST');
      onlyKeys(await readJsonObject(req, limit), []);
      cluster.rollingRestart().catch((err: unknown) => process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'SWITCHBOARD_ROLLING_RESTART' }));
      return { status: 202, body: { restarting: cluster.workers().map((w) => w.id) } };
    }
    if (path === '/api/connections') {
      if (!reading) throw new AdminHttpError(405, 'use GET');
      return listConnections(cluster, url.searchParams, pageSize);
    }
    if (path === '/api/backends') {
      if (reading) return listBackends(cluster, authorized);
      if (method === 'POST') return addBackend(cluster, req, limit);
      throw new AdminHttpError(405, 'use GET or POST');
    }
    const backend = matchBackendPath(path);
    if (backend !== undefined) return backendAction(cluster, backend.id, backend.action, method, url.searchParams, req, limit);
    throw new AdminHttpError(404, 'no such route (a cluster primary serves /metrics, /api/backends, /api/connections and /api/workers)');
  };

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    route(req, res).then(
      (answer) => {
        if (answer !== undefined) sendJson(res, answer.status, answer.body);
      },
      (err: unknown) => {
        if (res.headersSent) return void res.destroy();
        if (err instanceof AdminHttpError) sendJson(res, err.status, { error: err.message });
        else if (err instanceof InvalidOptionError) sendJson(res, 400, { error: err.message });
        else {
          sendJson(res, 500, { error: 'internal error' });
          process.emitWarning(err instanceof Error ? err : new Error(String(err)), { code: 'SWITCHBOARD_ADMIN' });
        }
      },
    );
  };
  return Object.assign(handler, { close: () => undefined });
}
