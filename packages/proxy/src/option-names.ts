/**
 * Strict top-level option names: an unknown name throws instead of being
 * silently ignored, and the names http-proxy and http-proxy-middleware users
 * bring along get a pointer to what Switchboard does instead.
 * @internal
 */
import { InvalidOptionError } from './errors';
import type { ProxyOptions } from './options';

/**
 * Every top-level option `createProxy()` accepts. `satisfies` makes a new
 * field of {@link ProxyOptions} a compile error here until it is listed.
 */
const KNOWN = {
  backends: true, strategy: true, connectTimeout: true, handshakeTimeout: true, headersTimeout: true, bodyTimeout: true,
  closeTimeout: true, halfCloseTimeout: true, xForwarded: true, forwarded: true, hideHeaders: true, server: true,
  rewriteLocation: true, retryAfter: true, retries: true, maxConnections: true, idleTimeout: true, idlePing: true,
  trustProxy: true, proxyProtocol: true, allowedOrigins: true, requireOrigin: true, maxConnectionsPerClient: true,
  upgradeRate: true, maxTrackedClients: true, maxUrlLength: true, maxHeaderCount: true, clientHeadersTimeout: true,
  maxFramePayload: true, maxMessageSize: true, healthCheck: true, outlierDetection: true, panicThreshold: true,
  backendTls: true, sourceAddresses: true, frameTracking: true, drainTimeout: true, dataPlane: true,
  routes: true, changeOrigin: true, headers: true, rewrite: true, onRequest: true, onResponse: true, errorResponse: true, logger: true,
  http2: true,
  sharedState: true,
} as const satisfies Record<keyof ProxyOptions, true>;

/** What http-proxy / http-proxy-middleware option names map to (docs/migrating.md has the full table). */
const MIGRATION: Readonly<Record<string, string>> = {
  target: "use backends: ['http://host:port'] instead",
  forward: 'is not supported: Switchboard answers from one backend and does not mirror requests',
  agent: 'is not supported: backend connections are pooled by the proxy; use backendTls and sourceAddresses instead',
  ssl: 'is not supported: serve TLS with your own https.createServer() and proxy.attach(server) instead',
  ws: 'is not needed: WebSocket upgrades are always proxied',
  xfwd: 'use xForwarded instead (on by default)',
  secure: 'use backendTls: { rejectUnauthorized } instead',
  toProxy: 'is not supported: backends are origin servers, not forward proxies',
  prependPath: 'is not needed: a backend URL path is always prepended',
  ignorePath: "use rewrite: () => '/' instead",
  localAddress: 'use sourceAddresses instead',
  preserveHeaderKeyCase: 'is not needed: header names are forwarded as the client spelled them',
  auth: "use headers: { authorization: 'Basic ...' } instead",
  hostRewrite: 'use rewriteLocation instead (on by default)',
  autoRewrite: 'use rewriteLocation instead (on by default)',
  protocolRewrite: 'use rewriteLocation instead (on by default)',
  cookieDomainRewrite: 'use a route with stripPrefix and cookieDomain instead',
  cookiePathRewrite: 'use a route with stripPrefix instead: cookie Paths are rewritten for the stripped prefix',
  proxyTimeout: 'use headersTimeout and bodyTimeout instead',
  timeout: 'use clientHeadersTimeout instead',
  followRedirects: 'is not supported: a reverse proxy relays redirects to the client',
  selfHandleResponse: 'use onResponse instead',
  buffer: 'use proxy.handleRequest(req, res, { body }) instead',
  method: 'is not supported: requests are forwarded with the client\'s method',
  pathRewrite: 'use a route with stripPrefix or rewrite: (path) => string instead',
  router: 'use routes: [{ id, host?, path?, backends }] instead',
  pathFilter: 'use routes: [{ id, path, backends }] instead',
  on: "use proxy.on('error' | 'connectionOpen' | 'connectionClose', ...) and the onRequest / onResponse hooks instead",
  onProxyReq: 'use onRequest instead',
  onProxyReqWs: 'use onRequest instead (it runs for upgrades too)',
  onProxyRes: 'use onResponse instead',
  onError: "use errorResponse and proxy.on('error') instead",
  onOpen: "use proxy.on('connectionOpen') instead",
  onClose: "use proxy.on('connectionClose') instead",
  plugins: 'is not supported: use the onRequest / onResponse hooks instead',
  ejectPlugins: 'is not supported: Switchboard installs no default plugins',
  logLevel: 'use logger instead (a pino-compatible object)',
  logProvider: 'use logger instead (a pino-compatible object)',
};

/**
 * Every top-level option name, in declaration order (the CLI checks config-file keys against it).
 * @internal
 */
export const PROXY_OPTION_NAMES: readonly (keyof ProxyOptions)[] = Object.keys(KNOWN) as (keyof ProxyOptions)[];

/** Names accepted on top of {@link KNOWN}, registered by modules that add options (routes, hooks, logger). */
const extra = new Set<string>();

/**
 * Accepts more top-level names; for options declared outside ProxyOptions' main block.
 * @internal
 */
export function acceptOptionNames(...names: string[]): void {
  for (const n of names) extra.add(n);
}

/**
 * Throws `ERR_INVALID_OPTION` for the first top-level name createProxy does not know.
 * @internal
 */
export function checkOptionNames(input: object): void {
  for (const name of Object.keys(input)) {
    if (Object.hasOwn(KNOWN, name) || extra.has(name)) continue;
    const hint = MIGRATION[name];
    if (hint !== undefined) throw new InvalidOptionError(`options.${name} is an http-proxy / http-proxy-middleware option: ${hint}`);
    throw new InvalidOptionError(`options.${name} is not a Switchboard option (see docs/migrating.md)`);
  }
}
