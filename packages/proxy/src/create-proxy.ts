import { EventEmitter } from 'node:events';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, ListenOptions } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';
import { BackendPool, type Backend, type BackendSnapshot } from './backends/backend-pool';
import { ConnectionTable, toRecord, type ConnectionEntry, type ConnectionRecord } from './connection-table';
import type { LiveConnection, Opened, ProxyContext } from './context';
import { BackendDrainingError, ERROR_REPLIES, InvalidOptionError, ProxyClosingError, type SwitchboardError } from './errors';
import type { ProxyEvents } from './events';
import { compileHidden, type ResponsePolicy } from './http/header-policy';
import { BackendDispatchers, handleHttpRequest } from './http/http-forward';
import type { BackendSpec, ProxyOptions } from './options';
import { resolveBackend, resolveOptions, type ResolvedOptions } from './resolve-options';
import type { BackendState, ConnectionProtocol } from './strategies/strategy';
import { placeConnection } from './backends/placement';
import { SourceAddressPool } from './backends/source-addresses';
import { handleUpgrade } from './websocket/upgrade';
import { HealthChecker } from './backends/health';
import { EdgeGuard } from './edge/edge-guard';
import { Listener, onClientError } from './edge/listener';
import { ProxyMetrics } from './admin/proxy-metrics';
import { renderExposition } from './admin/metric-families';
import { promClientMetrics, type MetricsRegistryLike } from './admin/prom-client-compat';
import { createAdminHandler, type AdminHandler, type AdminOptions } from './admin/admin-router';

let warned = false;
function warnOnce(message: string): void {
  if (warned) return;
  warned = true;
  process.emitWarning(message, { code: 'SWITCHBOARD_TRUST_ALL' });
}

const debug = debuglog('switchboard');

/** Close codes RFC 6455 lets an endpoint put in a close frame. */
function isSendableCloseCode(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999));
}

/**
 * Options of {@link Proxy.drain}.
 *
 * @example
 * ```ts
 * import type { DrainOptions } from '@switchboard/proxy';
 * const opts: DrainOptions = { timeout: 10_000, code: 1012 };
 * ```
 */
export interface DrainOptions {
  /**
   * How long WebSockets get to close before they are destroyed, in ms.
   * @defaultValue the proxy's `drainTimeout` (30000)
   */
  readonly timeout?: number;
  /**
   * The close code sent to both sides.
   * @defaultValue 1012 (Service Restart)
   */
  readonly code?: number;
}

/**
 * Options of {@link Proxy.handleRequest}.
 *
 * @example
 * ```ts
 * import type { HandleRequestOptions } from '@switchboard/proxy';
 * const opts: HandleRequestOptions = { body: { name: 'x' } };
 * ```
 */
export interface HandleRequestOptions {
  /**
   * The request body a framework already read from `req`, forwarded in place
   * of the spent stream. A Buffer goes as is, a string in the Content-Type's
   * charset, an object serialized as JSON (`application/json`,
   * `application/*+json`) or as a form (`application/x-www-form-urlencoded`).
   *
   * @defaultValue `req.body` (where Express's body parsers put it)
   * @remarks
   * Used only when the request announced a body and another reader already
   * took it; an unread request is streamed byte for byte as always. The body
   * is sent with its own Content-Length (Transfer-Encoding dropped; for a
   * string or object also Content-Encoding, as parsers decode it). A spent
   * request with no usable body is refused with `ERR_BODY_CONSUMED` (500)
   * before any backend is contacted.
   */
  readonly body?: unknown;
}

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
 */
export class Proxy extends EventEmitter<ProxyEvents> {
  readonly #options: ResolvedOptions;
  readonly #table = new ConnectionTable();
  readonly #pool: BackendPool;
  readonly #live = new Set<LiveConnection>();
  readonly #dispatchers: BackendDispatchers;
  readonly #ctx: ProxyContext;
  #listeners: Listener[] = [];
  #closing: Promise<void> | undefined;
  readonly #waiters = new Set<() => void>();
  readonly #health: HealthChecker | undefined;
  readonly #edge: EdgeGuard;
  readonly #metrics: ProxyMetrics;

  /** @internal Use {@link createProxy}. */
  constructor(options: ProxyOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#pool = new BackendPool(this.#options.backends, this.#table, this.#options.panicThreshold);
    this.#pool.onPanicChange = (panic, healthy, total) => this.emit('panicChange', panic, healthy, total);
    this.#edge = new EdgeGuard(this.#options);
    this.#metrics = new ProxyMetrics(this, this.#table, () => this.backends());
    if (this.#options.trustProxy === true) warnOnce('trustProxy: true believes forwarding headers from every peer: any client can choose the address the proxy and backends see.');
    const strategy = this.#options.strategy;
    this.#pool.onChange = (all) => strategy.update?.(all);
    strategy.update?.(this.#pool.all());
    const responsePolicy: ResponsePolicy = {
      hidden: compileHidden(this.#options.hiddenHeaders),
      server: this.#options.server,
      backendHosts: this.#options.rewriteLocation ? this.#pool.hosts : undefined,
    };
    this.#ctx = {
      options: this.#options,
      pool: this.#pool,
      table: this.#table,
      responsePolicy,
      live: this.#live,
      sources: new SourceAddressPool(this.#options.sourceAddresses),
      edge: this.#edge,
      isClosing: () => this.#closing !== undefined,
      open: (req, protocol, exclude) => this.#open(req, protocol, exclude),
      finish: (backend, entry, reason) => this.#finish(backend, entry, reason),
      reportError: (err) => this.#reportError(err),
      backendFailed: (backend, kind) => this.#health?.reportFailure(backend.id, kind),
      backendSucceeded: (backend) => this.#health?.reportSuccess(backend.id),
      observer: this.#metrics,
    };
    this.#dispatchers = new BackendDispatchers(this.#ctx);
    const { healthCheck, outlierDetection } = this.#options;
    if (healthCheck !== false || outlierDetection !== false) {
      const health = new HealthChecker({ active: healthCheck, outlier: outlierDetection });
      health.on('change', (id, state, reason) => {
        if (state === 'down' && reason.startsWith('ejected')) this.#metrics.ejected(id);
        // A draining backend stays draining whatever its health; undrain() reads the health state.
        if (this.#pool.get(id)?.state !== 'draining') this.#setState(id, state, reason);
      });
      for (const b of this.#pool.all()) health.add(b);
      this.#health = health;
    }
  }

  #open(req: IncomingMessage, protocol: ConnectionProtocol, exclude?: ReadonlySet<string>): Opened | SwitchboardError {
    const placed = placeConnection({ options: this.#options, pool: this.#pool, table: this.#table, edge: this.#edge }, req, protocol, exclude);
    if (!('entry' in placed)) return placed;
    this.#metrics.opened(placed.entry);
    if (this.listenerCount('connectionOpen') > 0) this.emit('connectionOpen', toRecord(placed.entry));
    return placed;
  }

  #finish(backend: Backend | undefined, entry: ConnectionEntry | undefined, reason: SwitchboardError | undefined): void {
    if (entry !== undefined && this.#table.remove(entry)) {
      entry.release?.();
      entry.release = undefined;
      if (backend !== undefined) this.#options.strategy.onConnectionClose?.(backend);
      this.#metrics.closed(entry, reason);
      if (this.listenerCount('connectionClose') > 0) this.emit('connectionClose', toRecord(entry), reason);
    }
    if (reason !== undefined) this.#reportError(reason);
    for (const waiter of this.#waiters) waiter();
  }

  /** Resolves true once `check()` holds after a connection ends, false after `timeout` ms. */
  #waitUntil(check: () => boolean, timeout: number): Promise<boolean> {
    if (check()) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.#waiters.delete(waiter);
        resolve(ok);
      };
      const waiter = (): void => {
        if (check()) done(true);
      };
      const timer = setTimeout(() => done(false), timeout);
      this.#waiters.add(waiter);
    });
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
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse, options?: HandleRequestOptions): void => {
    handleHttpRequest(this.#ctx, this.#dispatchers, req, res, options?.body);
  };

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
    handleUpgrade(this.#ctx, req, socket, head);
  };

  /**
   * Serves `request` and `upgrade` events of an existing http or https server.
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
   */
  attach(server: Server | HttpsServer): () => void {
    server.on('request', this.handleRequest);
    server.on('upgrade', this.handleUpgrade);
    // Without a clientError listener Node answers parser errors itself; ours adds the generic bodies.
    const ownsClientErrors = server.listenerCount('clientError') === 0;
    if (ownsClientErrors) server.on('clientError', onClientError);
    return () => {
      server.removeListener('request', this.handleRequest);
      server.removeListener('upgrade', this.handleUpgrade);
      if (ownsClientErrors) server.removeListener('clientError', onClientError);
    };
  }

  /**
   * Starts a standalone HTTP server for the proxy; resolves with its address.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * const { port } = await proxy.listen({ port: 0, host: '127.0.0.1' });
   * console.log(`proxy on 127.0.0.1:${port}`);
   * ```
   */
  listen(options: ListenOptions = {}): Promise<AddressInfo> {
    if (this.#closing !== undefined) return Promise.reject(new ProxyClosingError('proxy is closing'));
    const listener = new Listener(this.#options, this.#edge);
    this.attach(listener.server);
    this.#listeners.push(listener);
    return listener.listen(options);
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
   * ```
   */
  addBackend(spec: string | BackendSpec): BackendSnapshot {
    const resolved = resolveBackend(spec, 'backend');
    if (this.#pool.get(resolved.id) !== undefined) throw new InvalidOptionError(`backend id already in use: ${resolved.id}`);
    const backend = this.#pool.add(resolved);
    this.#health?.add(backend);
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
    const backend = this.#requireBackend(id);
    if (options.drain === true) await this.drain(id, options);
    if (this.#pool.remove(id) === undefined) return;
    this.#health?.remove(id);
    this.#dispatchers.forget(id);
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
  setWeight(id: string, weight: number): void {
    const backend = this.#requireBackend(id);
    if (!Number.isInteger(weight) || weight < 1) throw new InvalidOptionError(`weight must be a positive integer, got ${String(weight)}`);
    const previous = backend.weight;
    if (previous === weight) return;
    this.#pool.setWeight(id, weight);
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
    this.#requireBackend(id);
    const timeout = options.timeout ?? this.#options.drainTimeout;
    const code = options.code ?? ERROR_REPLIES.ERR_BACKEND_DRAINING.closeCode;
    if (!Number.isFinite(timeout) || timeout < 0) throw new InvalidOptionError(`drain timeout must be a non-negative number of milliseconds, got ${String(timeout)}`);
    if (!isSendableCloseCode(code)) throw new InvalidOptionError(`drain code must be a close code an endpoint may send (1000-1003, 1007-1014, 3000-4999), got ${String(code)}`);
    this.#setState(id, 'draining', 'drain requested');
    for (const conn of [...this.#live]) {
      if (conn.backendId === id) conn.close(code, 'backend draining', timeout, new BackendDrainingError('backend is draining', { backendId: id }));
    }
    const empty = (): boolean => this.#table.countFor(id) === 0;
    if (await this.#waitUntil(empty, timeout)) return;
    for (const conn of [...this.#live]) if (conn.backendId === id) conn.teardown(new BackendDrainingError('drain timeout: connection destroyed', { backendId: id }));
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
  undrain(id: string): void {
    const backend = this.#requireBackend(id);
    if (backend.state === 'draining') this.#setState(id, this.#health?.state(id) ?? 'up', 'undrain requested');
  }

  #requireBackend(id: string): Backend {
    const backend = this.#pool.get(id);
    if (backend === undefined) throw new InvalidOptionError(`no backend with id ${JSON.stringify(id)}`);
    return backend;
  }

  #setState(id: string, state: BackendState, reason: string): void {
    const backend = this.#pool.get(id);
    if (backend === undefined) return;
    const previous = backend.current;
    if (!this.#pool.setState(id, state)) return;
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
  isPanicking(): boolean {
    return this.#pool.panic;
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
    return this.#pool.all().map((b) => b.snapshot());
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
   * close frames and waiting. Idempotent; resolves when every socket is gone.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * await proxy.listen({ port: 0 });
   * await proxy.close();
   * ```
   */
  close(options: { drain?: boolean; timeout?: number } = {}): Promise<void> {
    const timeout = options.timeout ?? this.#options.closeTimeout;
    if (!Number.isFinite(timeout) || timeout < 0) throw new InvalidOptionError(`close timeout must be a non-negative number of milliseconds, got ${String(timeout)}`);
    this.#closing ??= this.#shutdown(options.drain ?? true, timeout);
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
      this.#closing = this.#shutdown(false, 0);
      return this.#closing;
    }
    for (const conn of [...this.#live]) conn.abort();
    return this.#closing;
  }

  async #shutdown(graceful: boolean, closeTimeout: number): Promise<void> {
    const listeners = this.#listeners;
    this.#listeners = [];
    const serversClosed = Promise.all(listeners.map((l) => l.close()));
    if (graceful) {
      const code = ERROR_REPLIES.ERR_PROXY_CLOSING.closeCode;
      for (const conn of [...this.#live]) conn.close(code, 'proxy shutting down', closeTimeout, new ProxyClosingError('proxy is shutting down', { backendId: conn.backendId }));
      await this.#waitUntil(() => this.#live.size === 0, closeTimeout);
    }
    for (const conn of [...this.#live]) conn.abort();
    for (const l of listeners) l.server.closeAllConnections();
    await this.#health?.close();
    await this.#dispatchers.close(graceful);
    await serversClosed;
  }
}

/**
 * Creates a proxy. Throws `InvalidOptionError` (`ERR_INVALID_OPTION`) synchronously for bad options.
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
 */
export function createProxy(options: ProxyOptions): Proxy {
  return new Proxy(options);
}
