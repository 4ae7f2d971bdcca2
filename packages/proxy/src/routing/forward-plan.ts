/**
 * What a request's route changes on its way to the backend: path (stripPrefix, rewrite, the backend
 * URL's path), Host (changeOrigin), request headers (route `headers`, onRequest edits), and on the way
 * back the Domain and Path of cookies. Kept per request in a WeakMap, so the HTTP and upgrade paths
 * only ask for it where they build the backend request and the response head.
 * @internal
 */
import type { IncomingMessage } from 'node:http';
import type { Backend } from '../backends/backend-pool';
import { HookError, type SwitchboardError } from '../errors';
import type { ResolvedRoute } from './resolve-routes';
import { underPrefix } from './route-table';
import type { HookOptions } from './hook-options';
import type { HiddenHeaders } from '../http/header-policy';
import { runOnResponse } from './hooks';

/** @internal */
export interface ForwardPlan {
  readonly route: ResolvedRoute;
  /** Path and query to send, before the backend URL's path is prepended. */
  path: string;
  /** Lowercase header name -> value to set, or null to remove; route `headers` first, then onRequest's edits. */
  readonly edits: Map<string, string | null>;
  /** The embedder's onResponse hook, when there is one. */
  readonly onResponse: HookOptions['onResponse'];
}

const plans = new WeakMap<IncomingMessage, ForwardPlan>();

/** True when a route changes nothing a plan holds (the common case: no plan is made). */
function isPlain(route: ResolvedRoute): boolean {
  return route.strip === '' && route.rewrite === undefined && !route.changeOrigin && route.headers.size === 0;
}

/**
 * Makes the request's plan: strips the route prefix from `target` (the request target as the client
 * sent it; a mounted middleware passes `originalUrl`) and applies `rewrite`. `force` makes a plan even
 * for a plain route (hooks edit it). Returns a HookError when `rewrite` fails.
 * @internal
 */
export function planForward(
  req: IncomingMessage,
  route: ResolvedRoute,
  target: string,
  force: boolean,
  onResponse?: HookOptions['onResponse'],
): ForwardPlan | SwitchboardError | undefined {
  if (!force && isPlain(route) && target === req.url) {
    plans.delete(req);
    return undefined;
  }
  let path = stripPrefix(target, route.strip);
  if (route.rewrite !== undefined) {
    try {
      const rewritten: unknown = route.rewrite(path);
      if (typeof rewritten !== 'string' || !rewritten.startsWith('/') || /[\s\0]/.test(rewritten)) {
        return new HookError(`route ${route.id}: rewrite returned ${JSON.stringify(rewritten)}, not a path starting with /`);
      }
      path = rewritten;
    } catch (err) {
      return new HookError(`route ${route.id}: rewrite threw`, { cause: err });
    }
  }
  const plan: ForwardPlan = { route, path, edits: new Map(route.headers), onResponse };
  plans.set(req, plan);
  return plan;
}

/** The plan made for a request, if any. @internal */
export function planOf(req: IncomingMessage): ForwardPlan | undefined {
  return plans.get(req);
}

/** `/api/users?x` -> `/users?x`, `/api` -> `/`, `/api?x` -> `/?x` for prefix `/api`. @internal */
export function stripPrefix(target: string, prefix: string): string {
  if (prefix === '') return target;
  const q = target.indexOf('?');
  const path = q < 0 ? target : target.slice(0, q);
  if (!underPrefix(path, prefix)) return target;
  const rest = path.slice(prefix.length) || '/';
  return q < 0 ? rest : rest + target.slice(q);
}

/** The backend URL's path without its trailing slash; '' for none. */
function backendPrefix(backend: Backend): string {
  const p = backend.target.pathname;
  if (p === '/' || p === '') return '';
  return p.endsWith('/') ? p.slice(0, -1) : p;
}

/**
 * The path to send to `backend`.
 * @internal
 */
export function forwardPath(req: IncomingMessage, backend: Backend): string {
  const path = plans.get(req)?.path ?? req.url ?? '/';
  const prefix = backendPrefix(backend);
  return prefix === '' ? path : prefix + path;
}

/**
 * Applies changeOrigin and header edits to the headers the proxy built for the backend (flat
 * name/value list). Returns the list unchanged without a plan.
 * @internal
 */
export function editForwardHeaders(headers: string[], req: IncomingMessage, backend: Backend): string[] {
  const plan = plans.get(req);
  if (plan === undefined) return headers;
  const { edits } = plan;
  const changeOrigin = plan.route.changeOrigin;
  if (edits.size === 0 && !changeOrigin) return headers;
  const out: string[] = [];
  for (let i = 0; i < headers.length; i += 2) {
    const name = headers[i]!;
    const lower = name.toLowerCase();
    if (edits.has(lower)) continue;
    out.push(name, changeOrigin && lower === 'host' ? backend.target.host : headers[i + 1]!);
  }
  for (const [name, value] of edits) if (value !== null) out.push(name, value);
  return out;
}

/**
 * The last edits of an HTTP response head before it goes out: cookies, then onResponse. Returns the
 * list, or a HookError when onResponse threw.
 * @internal
 */
export function editResponseHead(headers: string[], status: number, req: IncomingMessage, backend: Backend, hidden: HiddenHeaders): string[] | SwitchboardError {
  const edited = editResponseCookies(headers, req, backend);
  const plan = plans.get(req);
  if (plan?.onResponse === undefined) return edited;
  return runOnResponse(plan.onResponse, edited, status, { route: plan.route.id, backend: backend.id, request: req }, hidden);
}

/**
 * Rewrites Set-Cookie attributes the client would otherwise misapply: a Path under the backend URL's
 * path loses it, a Path gains the stripped route prefix, and a Domain naming the backend's own host
 * (which the browser would reject for the proxy's origin) is dropped, leaving a host-only cookie.
 * @internal
 */
export function editResponseCookies(headers: string[], req: IncomingMessage, backend: Backend): string[] {
  const plan = plans.get(req);
  const strip = plan?.route.strip ?? '';
  const prefix = backendPrefix(backend);
  let out: string[] | undefined;
  for (let i = 0; i < headers.length; i += 2) {
    if (headers[i]!.toLowerCase() !== 'set-cookie') continue;
    const value = rewriteCookie(headers[i + 1]!, strip, prefix, backend.target.hostname.toLowerCase());
    if (value === headers[i + 1]) continue;
    out ??= headers.slice();
    out[i + 1] = value;
  }
  return out ?? headers;
}

/** One Set-Cookie value with its Path and Domain attributes rewritten. @internal */
export function rewriteCookie(cookie: string, strip: string, backendPath: string, backendHost: string): string {
  const parts = cookie.split(';');
  const kept: string[] = [parts[0]!];
  for (let i = 1; i < parts.length; i++) {
    const attr = parts[i]!;
    const eq = attr.indexOf('=');
    const name = (eq < 0 ? attr : attr.slice(0, eq)).trim().toLowerCase();
    const value = eq < 0 ? '' : attr.slice(eq + 1).trim();
    if (name === 'domain' && value.replace(/^\./, '').toLowerCase() === backendHost) continue;
    if (name === 'path' && value.startsWith('/')) {
      let path = value;
      if (backendPath !== '' && underPrefix(path, backendPath)) path = path.slice(backendPath.length) || '/';
      if (strip !== '') path = path === '/' ? strip : strip + path;
      kept.push(` Path=${path}`);
      continue;
    }
    kept.push(attr);
  }
  return kept.join(';');
}
