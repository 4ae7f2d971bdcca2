/**
 * Validates `routes` (and the top-level forwarding options of the default route) into resolved routes,
 * each with its own fully resolved options.
 * @internal
 */
import { DEFAULT_ROUTE } from '../connection-table';
import { InvalidOptionError } from '../errors';
import type { ProxyOptions } from '../options';
import { resolveOptions, type ResolvedOptions } from '../resolve-options';
import type { ForwardingOptions, PerRouteOptionName, RouteOptions } from './route-options';
import { normalisePrefix, RouteTable } from './route-table';

/** @internal */
export interface ResolvedForwarding {
  readonly changeOrigin: boolean;
  /** Lowercase name -> value, or null to remove. */
  readonly headers: ReadonlyMap<string, string | null>;
  readonly rewrite: ((path: string) => string) | undefined;
}

/** @internal */
export interface ResolvedRoute extends ResolvedForwarding {
  readonly id: string;
  readonly host: string | undefined;
  readonly path: string | undefined;
  /** The path prefix stripped before forwarding, '' for none. */
  readonly strip: string;
  readonly options: ResolvedOptions;
}

const PER_ROUTE = [
  'strategy', 'retries', 'connectTimeout', 'handshakeTimeout', 'headersTimeout', 'bodyTimeout', 'idleTimeout',
  'healthCheck', 'outlierDetection', 'panicThreshold', 'maxFramePayload', 'maxMessageSize', 'rewriteLocation',
] as const satisfies readonly PerRouteOptionName[];

const ROUTE_KEYS = new Set<string>(['id', 'host', 'path', 'backends', 'stripPrefix', 'changeOrigin', 'headers', 'rewrite', ...PER_ROUTE]);

/** Top-level names that are not options of a route's own pool. */
const NOT_POOL_OPTIONS = new Set<string>(['routes', 'changeOrigin', 'headers', 'rewrite', 'onRequest', 'onResponse', 'errorResponse', 'logger']);

/** Names the proxy writes itself: a route setting them would be overwritten or break framing. */
const RESERVED_HEADERS = new Set(['connection', 'upgrade', 'keep-alive', 'transfer-encoding', 'content-length', 'te', 'trailer', 'forwarded', 'host']);

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Why a header edit is refused, or undefined. Request edits (`response` false) may not touch names
 * the proxy writes itself; response edits may not touch framing.
 * @internal
 */
export function headerEditProblem(name: unknown, value: unknown, response = false): string | undefined {
  if (typeof name !== 'string' || !TOKEN.test(name)) return `invalid header name ${JSON.stringify(name)}`;
  const lower = name.toLowerCase();
  if (response ? FRAMING.has(lower) : RESERVED_HEADERS.has(lower) || lower.startsWith('x-forwarded-')) {
    return `cannot set ${lower}: the proxy writes it${response ? '' : ' (use changeOrigin for Host)'}`;
  }
  if (value !== null && (typeof value !== 'string' || /[\r\n\0]/.test(value))) return `${lower} must be a string without CR, LF or NUL${response ? '' : ', or null'}`;
  return undefined;
}

/** Response headers that frame the body: the proxy owns them. */
const FRAMING = new Set(['connection', 'keep-alive', 'transfer-encoding', 'content-length', 'trailer', 'upgrade']);

function fail(message: string): never {
  throw new InvalidOptionError(message);
}

/** Validates forwarding options found at `where` (`options` or `options.routes[i]`). @internal */
export function resolveForwarding(input: ForwardingOptions, where: string): ResolvedForwarding {
  const { changeOrigin, headers, rewrite } = input;
  if (changeOrigin !== undefined && typeof changeOrigin !== 'boolean') fail(`${where}.changeOrigin must be a boolean`);
  if (rewrite !== undefined && typeof rewrite !== 'function') fail(`${where}.rewrite must be a function (path) => string`);
  const map = new Map<string, string | null>();
  if (headers !== undefined) {
    if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) fail(`${where}.headers must be an object { name: value | null }`);
    for (const [name, value] of Object.entries(headers)) {
      const problem = headerEditProblem(name, value);
      if (problem !== undefined) fail(`${where}.headers: ${problem}`);
      map.set(name.toLowerCase(), value);
    }
  }
  return { changeOrigin: changeOrigin ?? false, headers: map, rewrite };
}

function poolInput(input: ProxyOptions): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) if (!NOT_POOL_OPTIONS.has(k)) out[k] = v;
  return out;
}

/**
 * The default route (top-level `backends`, when any) and every configured route, validated; plus the
 * matcher. Throws `ERR_INVALID_OPTION` with the route's index for anything wrong.
 * @internal
 */
export function resolveRoutes(input: ProxyOptions, base: ResolvedOptions): { routes: ResolvedRoute[]; table: RouteTable<ResolvedRoute> } {
  const routes: ResolvedRoute[] = [];
  if (base.backends.length > 0) {
    routes.push({ id: DEFAULT_ROUTE, host: undefined, path: undefined, strip: '', options: base, ...resolveForwarding(input, 'options') });
  }
  const list = input.routes;
  if (list !== undefined && !Array.isArray(list)) fail('options.routes must be an array of { id, host?, path?, backends }');
  const inherited = poolInput(input);
  const strategies = new Set<unknown>();
  if (routes.length > 0 && typeof input.strategy === 'object') strategies.add(input.strategy);
  (list ?? []).forEach((route: RouteOptions, i) => {
    const where = `options.routes[${i}]`;
    if (typeof route !== 'object' || route === null) fail(`${where} must be an object { id, host?, path?, backends }`);
    for (const k of Object.keys(route)) if (!ROUTE_KEYS.has(k)) fail(`${where}.${k} is not a route option`);
    if (typeof route.id !== 'string' || route.id.length === 0 || !/^[\x21-\x7e]+$/.test(route.id)) fail(`${where}.id must be a non-empty string of visible ASCII`);
    if (route.id === DEFAULT_ROUTE && routes.some((r) => r.id === DEFAULT_ROUTE)) fail(`${where}.id "default" is taken by the top-level backends`);
    if (route.stripPrefix !== undefined && typeof route.stripPrefix !== 'boolean') fail(`${where}.stripPrefix must be a boolean`);
    if (route.stripPrefix === true && route.path === undefined) fail(`${where}.stripPrefix needs a path to strip`);
    const own: Record<string, unknown> = { ...inherited, backends: route.backends };
    for (const k of PER_ROUTE) if (route[k] !== undefined) own[k] = route[k];
    // A strategy object keeps per-pool state (tables, counts): one object cannot serve two pools.
    const strategy = own['strategy'];
    if (typeof strategy === 'object' && strategy !== null) {
      if (strategies.has(strategy)) fail(`${where}.strategy: a strategy object serves one route only; give each route its own (or a strategy name)`);
      strategies.add(strategy);
    }
    let options: ResolvedOptions;
    try {
      options = resolveOptions(own as unknown as ProxyOptions);
    } catch (err) {
      throw new InvalidOptionError(`${where}: ${(err as Error).message.replace(/^options\./, '')}`, { cause: err });
    }
    routes.push({
      id: route.id,
      host: route.host,
      path: route.path,
      strip: route.stripPrefix === true ? normalisePrefix(route.path) : '',
      options,
      ...resolveForwarding(route, where),
    });
  });
  if (routes.length === 0) fail('options.backends must be a non-empty array (or give options.routes)');
  let table: RouteTable<ResolvedRoute>;
  try {
    table = new RouteTable(routes);
  } catch (err) {
    throw new InvalidOptionError(`options.routes: ${(err as Error).message}`, { cause: err });
  }
  return { routes, table };
}
