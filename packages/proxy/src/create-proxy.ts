import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Http2SecureServer, Http2ServerRequest, Http2ServerResponse, SecureServerOptions } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';
import type { Backend, BackendSnapshot } from './backends/backend-pool';
import { ConnectionTable, DEFAULT_ROUTE, toRecord, type ConnectionRecord } from './connection-table';
import type { LiveConnection } from './context';
import { BackendDrainingError, ERROR_REPLIES, InvalidOptionError, ProxyClosingError, type SwitchboardError } from './errors';
import type { ProxyEvents } from './events';
import { compileHidden } from './http/header-policy';
import { handleHttpRequest } from './http/http-forward';
import type { BackendSpec, ProxyOptions } from './options';
import { resolveBackend, resolveOptions, type ResolvedOptions } from './resolve-options';
import type { BackendState } from './strategies/strategy';
import { SourceAddressPool } from './backends/source-addresses';
import { handleUpgrade } from './websocket/upgrade';
import { EdgeGuard } from './edge/edge-guard';
import { resolveRoutes } from './routing/resolve-routes';
import { Route, type RouteHost } from './routing/route';
import { Router } from './routing/router';
import { attachLogger, rejectionLogger, resolveLogger } from './logging/proxy-log';
import { createMiddleware, type ConnectMiddleware, type MiddlewareOptions } from './adapters/middleware';
import { gateHttp, gateUpgrade, resolveHooks, type GateDeps } from './routing/request-gate';
import { checkListenOptions, Listener, type ProxyListenOptions } from './edge/listener';
import { attachServer } from './edge/attach-server';
import { http2ServerOptions } from './http2/h2-server';
import { isHttp2Request } from './http2/h2-request';
import { acceptHttp2Request } from './http2/h2-entry';
import { ProxyMetrics } from './admin/proxy-metrics';
import { renderExposition } from './admin/metric-families';
import { promClientMetrics, type MetricsRegistryLike } from './admin/prom-client-compat';
import { createAdminHandler, type AdminHandler, type AdminOptions } from './admin/admin-router';
import { DataPlane, type DataPlaneStatus } from './native/data-plane';
import { resolveSharedState } from './shared-state/shared-state-options';
import type { SharedState, SharedStateStatus } from './shared-state/shared-state';
import { startSharedState } from './shared-state/attach';
import type { FleetMember } from './shared-state/fleet-table';
import { SharedStateError } from './errors';
import { linkInternals } from './proxy-internals';
import { ConnectionWaiters, isSendableCloseCode, shutdown } from './proxy-lifecycle';
import type { DrainOptions, HandleRequestOptions, RouteSelector } from './proxy-method-options';

export type { DrainOptions, HandleRequestOptions, RouteSelector } from './proxy-method-options';

let warned = false;
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(message, { code: 'SWITCHBOARD_TRUST_ALL' });
}

const debug = debuglog('switchboard');

/**
 * An L7 reverse proxy for HTTP and WebSocket traffic. Create it with {@link createProxy}.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { createProxy } from '@switchboard/proxy';
 *
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'] });
 * const server = createServer();
 * const detach = proxy.attach(server);
 * server.listen(8080);
 * // later: detach(); await proxy.close(); server.close();
 * ```
 * @group Proxy
 */
export class Proxy extends EventEmitter<ProxyEvents> {
  readonly #options: ResolvedOptions;
  readonly #table = new ConnectionTable();
  /** Every route by id; `default` holds the top-level backends. Each owns its pool, strategy and health. */
  readonly #routes = new Map<string, Route>();
  readonly #router: Router;
  #listeners: Listener[] = [];
  #closing: Promise<void> | undefined;
  readonly #waiters = new ConnectionWaiters();
  readonly #edge: EdgeGuard;
  /** Hooks and what the request gate needs to answer for them. */
  readonly #gate: GateDeps;
  readonly #metrics: ProxyMetrics;
  readonly #dataPlane: DataPlane;
  readonly #shared: SharedState | undefined;

  /** @internal Use {@link createProxy}. */
  constructor(options: ProxyOptions) {
    super();
    this.#options = resolveOptions(options);
    const sharedOptions = resolveSharedState(options.sharedState);
    const resolved = resolveRoutes(options, this.#options);
    const hooks = resolveHooks(options);
    this.#edge = new EdgeGuard(this.#options);
    this.#metrics = new ProxyMetrics(this, this.#table, () => this.backends());
    const logger = resolveLogger(options.logger);
    this.#gate = { hooks, options: this.#options, edge: this.#edge, logRejected: logger === undefined ? undefined : rejectionLogger(logger), isClosing: () => this.#closing !== undefined, reportError: (err) => this.#reportError(err) };
    this.#dataPlane = new DataPlane(this.#options.dataPlane);
    if (this.#options.trustProxy === true) warnOnce('trustProxy: true believes forwarding headers from every peer: any client can choose the address the proxy and backends see.');
    const host: RouteHost = {
      table: this.#table,
      edge: this.#edge,
      sources: new SourceAddressPool(this.#options.sourceAddresses),
      hidden: compileHidden(this.#options.hiddenHeaders),
      dataPlane: this.#dataPlane,
      isClosing: () => this.#closing !== undefined,
      reportError: (err) => this.#reportError(err),
      observers: this.#metrics,
      opened: (entry) => {
        this.#metrics.opened(entry);
        if (this.listenerCount('connectionOpen') > 0) this.emit('connectionOpen', toRecord(entry));
      },
      finished: (entry, reason) => {
        if (entry !== undefined) this.#metrics.closed(entry, reason);
        if (entry !== undefined && this.listenerCount('connectionClose') > 0) this.emit('connectionClose', toRecord(entry), reason);
        if (reason !== undefined) this.#reportError(reason);
        this.#waiters.notify();
      },
      healthChanged: (route, id, state, reason) => {
        if (state === 'down' && reason.startsWith('ejected')) this.#metrics.ejected(route.id, id);
        // A draining backend stays draining whatever its health; undrain() reads the health state.
        if (route.pool.get(id)?.state !== 'draining') this.#setState(route, id, state, reason);
      },
      panicChanged: (route, panic, healthy, total) => this.emit('panicChange', panic, healthy, total, route.id),
    };
    for (const spec of resolved.routes) this.#routes.set(spec.id, new Route(spec, host, hooks.onResponse));
    this.#router = new Router(resolved.table, this.#routes, hooks.onRequest !== undefined || hooks.onResponse !== undefined);
    if (logger !== undefined) attachLogger(this, logger);
    this.#shared = sharedOptions === undefined ? undefined : startSharedState(this, sharedOptions, {
      routes: this.#routes,
      setState: (route, id, state, reason) => this.#setState(route, id, state, reason),
      connectionCount: () => this.#table.size,
      addresses: () => this.#listeners.map((l) => l.server.address()),
    });
    linkInternals(this, {
      table: this.#table,
      pools: () => [...this.#routes.values()].map((r) => r.pool),
      scrape: () => this.#metrics.scrape(),
      stopAccepting: () => Promise.all(this.#listeners.map((l) => l.close())).then(() => undefined),
    });
  }

  /** Every live connection of every route. */
  #live(): LiveConnection[] {
    const all: LiveConnection[] = [];
    for (const r of this.#routes.values()) all.push(...r.live);
    return all;
  }

  #liveCount(): number {
    let n = 0;
    for (const r of this.#routes.values()) n += r.live.size;
    return n;
  }

  #requireRoute(id: string | undefined): Route {
    const route = this.#routes.get(id ?? DEFAULT_ROUTE);
    if (route === undefined) throw new InvalidOptionError(`no route with id ${JSON.stringify(id ?? DEFAULT_ROUTE)}`);
    return route;
  }

  #reportError(err: SwitchboardError): void {
    this.#metrics.error(err);
    if (this.listenerCount('error') > 0) this.emit('error', err);
    else debug('%s %s (backend %s, client %s)', err.code, err.message, err.backendId ?? '-', err.clientAddress ?? '-');
  }

  /**
   * Handles one HTTP request; for servers or frameworks that own the `request` event.
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * createServer((req, res) => {
   *   if (req.url === '/healthz') res.end('ok');
   *   else proxy.handleRequest(req, res);
   * }).listen(8080);
   * ```
   *
   * @remarks
   * When a body parser already read the request (`express.json()`, a Fastify
   * content-type parser), the stream is spent: the proxy then forwards
   * `options.body`, or else `req.body`, with a fresh Content-Length (see
   * {@link HandleRequestOptions.body}). Fastify keeps its parsed body on
   * `request.body`, not on `request.raw`, so pass it:
   * ```ts
   * import Fastify from 'fastify';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const app = Fastify();
   * app.post('/api/*', (request, reply) => {
   *   reply.hijack(); // the proxy answers on reply.raw
   *   proxy.handleRequest(request.raw, reply.raw, { body: request.body });
   * });
   * ```
   */
  readonly handleRequest = (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse, options?: HandleRequestOptions): void => {
    this.#serve(req as IncomingMessage, res as ServerResponse, req.url ?? '/', options?.body);
  };

  /** Routes (by `target`, the path the client asked for), runs the gate and forwards. */
  #serve(req: IncomingMessage, res: ServerResponse, target: string, body: unknown): void {
    // An HTTP/2 request is made to read as HTTP/1.1 here, once, before anything looks at its headers.
    if (isHttp2Request(req) && !acceptHttp2Request(req, res, this.#options, (err) => this.#reportError(err))) return;
    const route = this.#router.forHttp(req, res, this.#options, (err) => this.#reportError(err), target);
    if (route !== undefined) gateHttp(this.#gate, req, res, () => handleHttpRequest(route.ctx, route.dispatchers, req, res, body));
  }

  /**
   * A Connect / Express middleware that proxies every request it gets. It forwards `req.originalUrl`,
   * so a proxy mounted with `app.use('/api', ...)` keeps `/api` (give the route `stripPrefix: true`
   * to remove it). Bodies already parsed (`req.body`) are forwarded as {@link HandleRequestOptions.body}
   * says. WebSocket upgrades never reach Express: hand the server's `upgrade` event to
   * {@link Proxy.handleUpgrade}.
   *
   * @example
   * ```ts
   * import express from 'express';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'] }] });
   * const app = express();
   * app.use('/api', proxy.middleware());
   * const server = app.listen(8080);
   * server.on('upgrade', proxy.handleUpgrade);
   * ```
   */
  middleware(options?: MiddlewareOptions): ConnectMiddleware {
    return createMiddleware({
      routes: (req, target) => !(this.#router.resolve(req, target) instanceof Error),
      serve: (req, res, target, body) => this.#serve(req, res, target, body),
    }, options);
  }

  /**
   * Handles one upgrade request (WebSocket); for servers or frameworks that own the `upgrade` event.
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const server = createServer(proxy.handleRequest);
   * server.on('upgrade', (req, socket, head) => proxy.handleUpgrade(req, socket, head));
   * ```
   */
  readonly handleUpgrade = (req: IncomingMessage, socket: Duplex, head: Buffer): void => {
    const route = this.#router.forUpgrade(req, socket, this.#options, (err) => this.#reportError(err));
    if (route !== undefined) gateUpgrade(this.#gate, req, socket, head, (early) => handleUpgrade(route.ctx, req, socket, early));
  };

  /**
   * Serves `request` and `upgrade` events of an existing http, https or http2 secure server.
   * Returns a function that removes the listeners again.
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { createProxy } from '@switchboard/proxy';
   * const server = createServer();
   * const detach = createProxy({ backends: ['http://127.0.0.1:9001'] }).attach(server);
   * server.listen(8080);
   * detach();
   * ```
   *
   * @remarks
   * A node:http2 secure server made with `allowHTTP1: true` serves HTTP/2 and HTTP/1.1 (WebSocket upgrades
   * included) on one port; create it with {@link Proxy.http2ServerOptions} so Node's own per-connection limits are
   * set too. Attaching announces the proxy's SETTINGS (`http2` options, extended CONNECT) for connections made from
   * then on and counts every HTTP/2 connection's resets, PINGs and SETTINGS frames (see {@link Http2Options}).
   */
  attach(server: Server | HttpsServer | Http2SecureServer): () => void {
    return attachServer(server, { options: this.#options, handleRequest: this.handleRequest, handleUpgrade: this.handleUpgrade, reportError: (err) => this.#reportError(err) });
  }

  /**
   * The node:http2 server options a server given to {@link Proxy.attach} should be created with (add `key` and
   * `cert`): `allowHTTP1: true`, the SETTINGS of the `http2` options, and Node's own per-connection limits
   * (`maxSessionInvalidFrames`, `maxSessionRejectedStreams`, `maxHeaderListPairs`), which can only be set when a
   * server is created.
   *
   * @example
   * ```ts
   * import { createSecureServer } from 'node:http2';
   * import { readFileSync } from 'node:fs';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const server = createSecureServer({ ...proxy.http2ServerOptions(), key: readFileSync('key.pem'), cert: readFileSync('cert.pem') });
   * proxy.attach(server);
   * ```
   */
  http2ServerOptions(): SecureServerOptions {
    return http2ServerOptions(this.#options.http2, this.#options.maxHeaderCount);
  }

  /**
   * Starts a standalone server for the proxy (HTTP; HTTPS with `tls`; HTTP/2 and HTTP/1.1 on one port with `tls`
   * and `http2: true`); resolves with its address. Bad `tls`/`http2` values reject with `ERR_INVALID_OPTION`.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const { port } = await proxy.listen({ port: 0, host: '127.0.0.1' });
   * console.log(`proxy on 127.0.0.1:${port}`);
   * ```
   * @example
   * ```ts
   * import { readFileSync } from 'node:fs';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * await proxy.listen({ port: 8443, tls: { key: readFileSync('key.pem'), cert: readFileSync('cert.pem') }, http2: true });
   * ```
   */
  listen(options: ProxyListenOptions = {}): Promise<AddressInfo> {
    if (this.#closing !== undefined) return Promise.reject(new ProxyClosingError('proxy is closing'));
    try {
      checkListenOptions(options, this.#options.proxyProtocol);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    const { tls, http2, ...where } = options;
    const listener = new Listener(this.#options, this.#edge, { ...(tls !== undefined && { tls }), ...(http2 !== undefined && { http2 }) });
    this.attach(listener.server);
    this.#listeners.push(listener);
    return listener.listen(where);
  }

  /**
   * Adds a backend at runtime; new connections may land on it at once.
   * Throws `InvalidOptionError` for a bad spec or a duplicate id.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * proxy.addBackend({ url: 'http://127.0.0.1:9002', id: 'b', weight: 2 });
   * // with routes: proxy.addBackend('http://127.0.0.1:9003', { route: 'api' });
   * ```
   */
  addBackend(spec: string | BackendSpec, options: RouteSelector = {}): BackendSnapshot {
    const route = this.#requireRoute(options.route);
    const resolved = resolveBackend(spec, 'backend');
    if (route.pool.get(resolved.id) !== undefined) throw new InvalidOptionError(`backend id already in use: ${resolved.id}`);
    const backend = route.pool.add(resolved);
    route.health?.add(backend);
    const snapshot = backend.snapshot();
    this.emit('backendAdd', snapshot);
    return snapshot;
  }

  /**
   * Removes a backend. New connections stop going to it at once. With
   * `drain: true` its WebSockets are first asked to close (see {@link Proxy.drain})
   * and the promise resolves once they are gone; otherwise live connections are
   * left to end on their own.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001', { url: 'http://127.0.0.1:9002', id: 'b' }] });
   * await proxy.removeBackend('b', { drain: true, timeout: 10_000 });
   * ```
   */
  async removeBackend(id: string, options: { drain?: boolean } & DrainOptions = {}): Promise<void> {
    const route = this.#requireRoute(options.route);
    const backend = this.#requireBackend(route, id);
    if (options.drain === true) await this.drain(id, options);
    if (route.pool.remove(id) === undefined) return;
    route.health?.remove(id);
    route.dispatchers.forget(id);
    this.emit('backendRemove', backend.snapshot());
  }

  /**
   * Changes a backend's weight; strategies rebuild their tables at once.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: [{ url: 'http://127.0.0.1:9001', id: 'a' }] });
   * proxy.setWeight('a', 5);
   * ```
   */
  setWeight(id: string, weight: number, options: RouteSelector = {}): void {
    const route = this.#requireRoute(options.route);
    const backend = this.#requireBackend(route, id);
    if (!Number.isInteger(weight) || weight < 1) throw new InvalidOptionError(`weight must be a positive integer, got ${String(weight)}`);
    const previous = backend.weight;
    if (previous === weight) return;
    route.pool.setWeight(id, weight);
    this.emit('backendWeightChange', backend.snapshot(), previous);
  }

  /**
   * Drains a backend: no new connections go to it, each of its WebSockets gets
   * a close frame (`code`, default 1012 Service Restart) sent to the client and
   * to the backend at a frame boundary, and whatever is still open after
   * `timeout` ms is destroyed. In-flight HTTP requests may finish within the
   * same time. Resolves when the backend has no connection left; the backend
   * stays in the pool in state `draining` (use {@link Proxy.removeBackend} or
   * {@link Proxy.undrain} next).
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: [{ url: 'http://127.0.0.1:9001', id: 'a' }, 'http://127.0.0.1:9002'] });
   * await proxy.drain('a', { timeout: 5000 });
   * ```
   */
  async drain(id: string, options: DrainOptions = {}): Promise<void> {
    const route = this.#requireRoute(options.route);
    this.#requireBackend(route, id);
    const timeout = options.timeout ?? this.#options.drainTimeout;
    const code = options.code ?? ERROR_REPLIES.ERR_BACKEND_DRAINING.closeCode;
    if (!Number.isFinite(timeout) || timeout < 0) throw new InvalidOptionError(`drain timeout must be a non-negative number of milliseconds, got ${String(timeout)}`);
    if (!isSendableCloseCode(code)) throw new InvalidOptionError(`drain code must be a close code an endpoint may send (1000-1003, 1007-1014, 3000-4999), got ${String(code)}`);
    this.#setState(route, id, 'draining', 'drain requested');
    for (const conn of [...route.live]) {
      if (conn.backendId === id) conn.close(code, 'backend draining', timeout, new BackendDrainingError('backend is draining', { backendId: id }));
    }
    const empty = (): boolean => this.#table.countFor(id, route.id) === 0;
    if (await this.#waiters.waitUntil(empty, timeout)) return;
    for (const conn of [...route.live]) if (conn.backendId === id) conn.teardown(new BackendDrainingError('drain timeout: connection destroyed', { backendId: id }));
  }

  /**
   * Puts a drained backend back in service.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: [{ url: 'http://127.0.0.1:9001', id: 'a' }] });
   * await proxy.drain('a', { timeout: 0 });
   * proxy.undrain('a');
   * ```
   */
  undrain(id: string, options: RouteSelector = {}): void {
    const route = this.#requireRoute(options.route);
    const backend = this.#requireBackend(route, id);
    if (backend.state === 'draining') this.#setState(route, id, route.health?.state(id) ?? 'up', 'undrain requested');
  }

  #requireBackend(route: Route, id: string): Backend {
    const backend = route.pool.get(id);
    if (backend === undefined) throw new InvalidOptionError(`no backend with id ${JSON.stringify(id)}${route.id === DEFAULT_ROUTE ? '' : ` in route ${JSON.stringify(route.id)}`}`);
    return backend;
  }

  #setState(route: Route, id: string, state: BackendState, reason: string): void {
    const backend = route.pool.get(id);
    if (backend === undefined) return;
    const previous = backend.current;
    if (!route.pool.setState(id, state)) return;
    const snapshot = backend.snapshot();
    this.#metrics.stateChanged(snapshot, previous, reason);
    this.emit('backendStateChange', snapshot, previous, reason);
  }

  /**
   * True while the proxy is in panic mode: too few backends are up (see `panicThreshold`), so new
   * connections are balanced across every backend that is not draining, down ones included.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * console.log(proxy.isPanicking()); // false
   * ```
   */
  isPanicking(options: RouteSelector = {}): boolean {
    return this.#requireRoute(options.route).pool.panic;
  }

  /**
   * A snapshot of the connection table: one record per live proxied connection.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * console.log(proxy.connections().length); // 0
   * ```
   */
  connections(): ConnectionRecord[] {
    return this.#table.snapshot();
  }

  /**
   * Whether WebSockets can be relayed by the native data plane, and why not (see the `dataPlane` option).
   * Each connection record's `dataPlane` says which plane carries it.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * console.log(proxy.dataPlane.native ? 'native relay' : `JS splice: ${proxy.dataPlane.reason}`);
   * ```
   */
  get dataPlane(): DataPlaneStatus {
    return this.#dataPlane.status;
  }

  /**
   * A snapshot of every backend with its live connection count.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001', { url: 'http://127.0.0.1:9002', id: 'b', weight: 2 }] });
   * console.log(proxy.backends().map((b) => `${b.id}:${b.weight}`)); // ['127.0.0.1:9001:1', 'b:2']
   * ```
   */
  backends(): BackendSnapshot[] {
    const out: BackendSnapshot[] = [];
    for (const route of this.#routes.values()) for (const b of route.pool.all()) out.push(b.snapshot());
    return out;
  }

  /**
   * The proxy's metrics in the Prometheus text exposition format, version 0.0.4 (serve it with
   * `Content-Type: text/plain; version=0.0.4`). Gauges are computed from the connection table and
   * backend pool at the call, so they agree with {@link Proxy.connections} and {@link Proxy.backends};
   * counters move on events. The metrics and their labels are listed in the Admin and metrics guide.
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * createServer((req, res) => {
   *   res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' });
   *   res.end(proxy.metrics());
   * }).listen(9100, '127.0.0.1');
   * ```
   */
  metrics(): string {
    return renderExposition(this.#metrics.scrape());
  }

  /**
   * Adds the proxy's metrics to a prom-client `Registry` (or any registry with prom-client's
   * `registerMetric`), so one scrape of your registry includes them. They stay owned by the proxy:
   * values are read from it at each scrape and a registry reset does not clear them.
   *
   * @example
   * ```ts
   * import { Registry } from 'prom-client';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const registry = new Registry();
   * proxy.registerMetrics(registry);
   * console.log(await registry.metrics());
   * ```
   */
  registerMetrics(registry: MetricsRegistryLike): void {
    for (const metric of promClientMetrics(() => this.#metrics.scrape())) registry.registerMetric(metric as never);
  }

  /**
   * With `sharedState`: whether Redis is usable (`connecting`, `up`, `down`; `closed` once the proxy
   * closes), the fleet and this proxy's id; `undefined` without `sharedState`.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379' } });
   * console.log(proxy.sharedState?.state); // 'connecting'
   * ```
   */
  get sharedState(): SharedStateStatus | undefined {
    return this.#shared?.status;
  }

  /**
   * The fleet table with `sharedState`: one row per live proxy of the fleet (this one included),
   * each written by its proxy and gone once its `summaryTtl` passed without a refresh. Rejects with
   * `SharedStateError` (`ERR_SHARED_STATE`) without `sharedState` or while Redis is unusable.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379' } });
   * proxy.once('sharedStateChange', async () => {
   *   for (const p of await proxy.fleet()) console.log(p.id, p.addresses.join(','), p.connections);
   * });
   * ```
   */
  fleet(): Promise<FleetMember[]> {
    if (this.#shared === undefined) return Promise.reject(new SharedStateError('sharedState is not configured'));
    return this.#shared.fleet();
  }

  /**
   * A request handler serving the admin API, `/metrics`, a live feed and the dashboard page, for
   * a listener of your choosing (bind it to 127.0.0.1 or protect it with `token`). See {@link AdminOptions}.
   *
   * @example
   * ```ts
   * import { createServer } from 'node:http';
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const admin = createServer(proxy.admin({ token: process.env['ADMIN_TOKEN'] }));
   * admin.listen(9901, '127.0.0.1');
   * // later: await admin.close(); (admin.close() also ends live feeds)
   * ```
   */
  admin(options: AdminOptions = {}): AdminHandler {
    return createAdminHandler(this, options);
  }

  /**
   * Graceful shutdown for deploys: stops accepting (new arrivals get 503),
   * sends every live WebSocket a 1001 close frame both ways (at a frame
   * boundary), lets in-flight HTTP requests finish, and destroys what is left
   * after `timeout` (default `closeTimeout`). `{ drain: false }` skips the
   * close frames and waiting; `code` sends another close code than 1001 (a
   * cluster worker retired by a rolling restart sends 1012, Service Restart,
   * so clients reconnect at once). Idempotent; resolves when every socket is gone.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * await proxy.listen({ port: 0 });
   * await proxy.close();
   * ```
   */
  close(options: { drain?: boolean; timeout?: number; code?: number } = {}): Promise<void> {
    const timeout = options.timeout ?? this.#options.closeTimeout;
    if (!Number.isFinite(timeout) || timeout < 0) throw new InvalidOptionError(`close timeout must be a non-negative number of milliseconds, got ${String(timeout)}`);
    const code = options.code ?? ERROR_REPLIES.ERR_PROXY_CLOSING.closeCode;
    if (!isSendableCloseCode(code)) throw new InvalidOptionError(`close code must be a close code an endpoint may send (1000-1003, 1007-1014, 3000-4999), got ${String(code)}`);
    this.#closing ??= this.#shutdown(options.drain ?? true, timeout, code);
    return this.#closing;
  }

  /**
   * Immediate shutdown: destroys every connection now. Idempotent.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * await proxy.destroy();
   * ```
   */
  destroy(): Promise<void> {
    if (this.#closing === undefined) {
      this.#closing = this.#shutdown(false, 0, ERROR_REPLIES.ERR_PROXY_CLOSING.closeCode);
      return this.#closing;
    }
    for (const conn of this.#live()) conn.abort();
    return this.#closing;
  }

  #shutdown(graceful: boolean, closeTimeout: number, code: number): Promise<void> {
    const listeners = this.#listeners;
    this.#listeners = [];
    return shutdown({ listeners, shared: this.#shared, dataPlane: this.#dataPlane, routes: this.#routes.values(), waiters: this.#waiters, live: () => this.#live(), liveCount: () => this.#liveCount() }, graceful, closeTimeout, code);
  }
}

/**
 * Creates a proxy. Throws `InvalidOptionError` (`ERR_INVALID_OPTION`) synchronously for bad options.
 * New to Switchboard? [Getting started](../../../docs/getting-started.md) walks through it; every option
 * is in {@link ProxyOptions}, with its default.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', { url: 'http://127.0.0.1:9002', id: 'b', weight: 2 }],
 *   strategy: 'round-robin',
 * });
 * const addr = await proxy.listen({ port: 0, host: '127.0.0.1' });
 * console.log(addr.port);
 * await proxy.close();
 * ```
 * @group Proxy
 */
export function createProxy(options: ProxyOptions): Proxy {
  return new Proxy(options);
}
