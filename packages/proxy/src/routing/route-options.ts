import type { BackendSpec, ProxyOptions } from '../options';

/**
 * How a request is rewritten toward its backend; a route's, or the default route's when given at the top level.
 *
 * @example
 * ```ts
 * import type { ForwardingOptions } from '@switchboard/proxy';
 * const fwd: ForwardingOptions = { changeOrigin: true, headers: { 'x-api-key': 'k', cookie: null } };
 * ```
 */
export interface ForwardingOptions {
  /**
   * Send the backend's own `host:port` as Host instead of the client's.
   * @defaultValue false
   * @remarks X-Forwarded-Host carries the client's Host either way. Virtual-hosted backends (a CDN, a
   * PaaS router) need it; an app that builds absolute URLs from Host usually does not.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * createProxy({ backends: ['https://api.example.net'], changeOrigin: true });
   * ```
   */
  readonly changeOrigin?: boolean;
  /**
   * Request headers set (a string) or removed (`null`) toward the backend, after the client's.
   * @defaultValue `{}`
   * @remarks Names are case-insensitive. Hop-by-hop and forwarding headers the proxy writes itself
   * (Connection, Upgrade, X-Forwarded-*, Forwarded) cannot be set this way.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * createProxy({ backends: ['http://127.0.0.1:9001'], headers: { authorization: 'Bearer t', cookie: null } });
   * ```
   */
  readonly headers?: Readonly<Record<string, string | null>>;
  /**
   * Rewrites the path (with its query) after `stripPrefix` and before the backend URL's path is prepended.
   * @defaultValue none
   * @remarks Must return a string starting with `/`; anything else answers 500 and emits `error`.
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * createProxy({ backends: ['http://127.0.0.1:9001'], rewrite: (path) => path.replace(/^\/v1\//, '/') });
   * ```
   */
  readonly rewrite?: (path: string) => string;
}

/**
 * Top-level options a route may override for its own backends.
 *
 * @example
 * ```ts
 * import { createProxy, type PerRouteOptionName, type ProxyOptions } from '@switchboard/proxy';
 * const slowRoute: Pick<ProxyOptions, PerRouteOptionName> = { strategy: 'least-connections', idleTimeout: 600_000 };
 * createProxy({ routes: [{ id: 'reports', path: '/reports', backends: ['http://127.0.0.1:9004'], ...slowRoute }] });
 * ```
 */
export type PerRouteOptionName =
  | 'strategy'
  | 'retries'
  | 'connectTimeout'
  | 'handshakeTimeout'
  | 'headersTimeout'
  | 'bodyTimeout'
  | 'idleTimeout'
  | 'healthCheck'
  | 'outlierDetection'
  | 'panicThreshold'
  | 'maxFramePayload'
  | 'maxMessageSize'
  | 'rewriteLocation';

/**
 * One route: which requests (by Host and path prefix) go to which backend group, and how they are
 * rewritten. Plain data apart from `rewrite` and hooks, so a config file can hold it.
 *
 * @remarks
 * The most specific route wins: a route with `host` before one without, an exact host before a
 * wildcard, then the longest `path`. HTTP requests and WebSocket upgrades are routed alike. Each
 * route has its own pool, strategy, health checks and connection counts; the top-level
 * `backends` make the route `default`.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9000'],
 *   routes: [
 *     { id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'], stripPrefix: true },
 *     { id: 'chat', path: '/ws', backends: ['http://127.0.0.1:9002'], strategy: 'least-connections' },
 *     { id: 'admin', host: 'admin.example.com', backends: ['http://127.0.0.1:9003'], changeOrigin: true },
 *   ],
 * });
 * ```
 */
export interface RouteOptions extends ForwardingOptions, Pick<ProxyOptions, PerRouteOptionName> {
  /** Stable id: in `connections()`, `backends()`, events, logs and membership calls. */
  readonly id: string;
  /**
   * Host to match: exact (`api.example.com`) or one wildcard label (`*.example.com`, which matches
   * any subdomain but not `example.com`). Case-insensitive; the port is ignored.
   * @defaultValue any host
   */
  readonly host?: string;
  /**
   * Path prefix on segment boundaries: `/api` matches `/api` and `/api/x`, not `/apix`.
   * @defaultValue any path
   */
  readonly path?: string;
  /** This route's backend group. At least one. */
  readonly backends: readonly (string | BackendSpec)[];
  /**
   * Remove the route's `path` before forwarding (`/api/users` -> `/users`, `/api` -> `/`), and put
   * it back on the Path of cookies the backend sets.
   * @defaultValue false
   */
  readonly stripPrefix?: boolean;
}

/**
 * The routing part of {@link ProxyOptions}.
 *
 * @example
 * ```ts
 * import type { RoutingOptions } from '@switchboard/proxy';
 * const routing: RoutingOptions = { routes: [{ id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'] }] };
 * ```
 */
export interface RoutingOptions extends ForwardingOptions {
  /**
   * Routes by Host and path, each to its own backend group.
   * @defaultValue none: every request goes to the top-level `backends`
   * @remarks A request no route matches goes to the top-level `backends` (route `default`), or gets
   * 404 with the generic body when there are none.
   */
  readonly routes?: readonly RouteOptions[];
}
