import { EventEmitter } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { AddressInfo, ListenOptions } from 'node:net';
import type { Duplex } from 'node:stream';
import { debuglog } from 'node:util';
import { BackendPool, type Backend, type BackendSnapshot } from './backend-pool';
import { ConnectionTable, toRecord, type ConnectionEntry, type ConnectionRecord } from './connection-table';
import type { LiveConnection, ProxyContext } from './context';
import { ProxyClosingError, type SwitchboardError } from './errors';
import type { ProxyEvents } from './events';
import { hostKey, type ResponsePolicy } from './header-policy';
import { BackendDispatchers, handleHttpRequest } from './http-forward';
import { resolveOptions, type ProxyOptions, type ResolvedOptions } from './options';
import type { ConnectionProtocol, PickContext } from './strategies/strategy';
import { handleUpgrade } from './upgrade';

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
 */
export class Proxy extends EventEmitter<ProxyEvents> {
  readonly #options: ResolvedOptions;
  readonly #table = new ConnectionTable();
  readonly #pool: BackendPool;
  readonly #live = new Set<LiveConnection>();
  readonly #dispatchers: BackendDispatchers;
  readonly #ctx: ProxyContext;
  #servers: Server[] = [];
  #closing: Promise<void> | undefined;

  /** @internal Use {@link createProxy}. */
  constructor(options: ProxyOptions) {
    super();
    this.#options = resolveOptions(options);
    this.#pool = new BackendPool(this.#options.backends, this.#table);
    const strategy = this.#options.strategy;
    this.#pool.onChange = (all) => strategy.update?.(all);
    strategy.update?.(this.#pool.all());
    const responsePolicy: ResponsePolicy = {
      hidden: this.#options.hiddenHeaders,
      server: this.#options.server,
      backendHosts: this.#options.rewriteLocation ? new Set(this.#options.backends.map((b) => hostKey(b.url))) : undefined,
    };
    this.#ctx = {
      options: this.#options,
      pool: this.#pool,
      table: this.#table,
      responsePolicy,
      live: this.#live,
      isClosing: () => this.#closing !== undefined,
      open: (req, protocol) => this.#open(req, protocol),
      finish: (backend, entry, reason) => this.#finish(backend, entry, reason),
      reportError: (err) => this.#reportError(err),
    };
    this.#dispatchers = new BackendDispatchers(this.#ctx);
  }

  #open(req: IncomingMessage, protocol: ConnectionProtocol): { backend: Backend; entry: ConnectionEntry; pick: PickContext } | undefined {
    const candidates = this.#pool.candidates();
    if (candidates.length === 0) return undefined;
    const pick: PickContext = {
      req,
      client: { address: req.socket.remoteAddress ?? '', port: req.socket.remotePort ?? 0 },
      protocol,
    };
    const chosen = this.#options.strategy.pick(pick, candidates);
    // A strategy may only return one of the live backend objects it was given.
    const backend = chosen === undefined ? undefined : this.#pool.get(chosen.id);
    // Custom strategies are not trusted to honour state and limits.
    if (backend === undefined || backend.state !== 'up' || this.#table.countFor(backend.id) >= backend.maxConnections) return undefined;
    const entry = this.#table.add(pick.client.address, pick.client.port, backend.id, protocol);
    this.#options.strategy.onConnectionOpen?.(backend, pick);
    if (this.listenerCount('connectionOpen') > 0) this.emit('connectionOpen', toRecord(entry));
    return { backend, entry, pick };
  }

  #finish(backend: Backend | undefined, entry: ConnectionEntry | undefined, reason: SwitchboardError | undefined): void {
    if (entry !== undefined && this.#table.remove(entry)) {
      if (backend !== undefined) this.#options.strategy.onConnectionClose?.(backend);
      if (this.listenerCount('connectionClose') > 0) this.emit('connectionClose', toRecord(entry), reason);
    }
    if (reason !== undefined) this.#reportError(reason);
  }

  #reportError(err: SwitchboardError): void {
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
   */
  readonly handleRequest = (req: IncomingMessage, res: ServerResponse): void => {
    handleHttpRequest(this.#ctx, this.#dispatchers, req, res);
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
    return () => {
      server.removeListener('request', this.handleRequest);
      server.removeListener('upgrade', this.handleUpgrade);
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
    const server = createServer();
    this.attach(server);
    this.#servers.push(server);
    return new Promise((resolve, reject) => {
      server.once('error', reject);
      server.listen(options, () => {
        server.removeListener('error', reject);
        resolve(server.address() as AddressInfo);
      });
    });
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
   * Graceful shutdown: stops accepting (new arrivals get 503), sends every live
   * WebSocket a 1001 close frame both ways (at a frame boundary), lets
   * in-flight HTTP requests finish, and destroys what is left after
   * `closeTimeout`. Idempotent; resolves when every socket is gone.
   *
   * @example
   * ```ts
   * import { createProxy } from '@switchboard/proxy';
   * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
   * await proxy.listen({ port: 0 });
   * await proxy.close();
   * ```
   */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown(true);
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
      this.#closing = this.#shutdown(false);
      return this.#closing;
    }
    for (const conn of [...this.#live]) conn.abort();
    return this.#closing;
  }

  async #shutdown(graceful: boolean): Promise<void> {
    const servers = this.#servers;
    this.#servers = [];
    const serversClosed = Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))));
    for (const s of servers) s.closeIdleConnections();
    if (graceful) {
      const { closeTimeout } = this.#options;
      for (const conn of [...this.#live]) conn.shutdown(closeTimeout);
      if (this.#live.size > 0) await this.#waitForLive(closeTimeout);
    }
    for (const conn of [...this.#live]) conn.abort();
    for (const s of servers) s.closeAllConnections();
    await this.#dispatchers.close(graceful);
    await serversClosed;
  }

  #waitForLive(timeout: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, timeout);
      const onClose = (): void => {
        if (this.#live.size === 0) done();
      };
      const self = this;
      function done(): void {
        clearTimeout(timer);
        self.removeListener('connectionClose', onClose);
        resolve();
      }
      this.on('connectionClose', onClose);
    });
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
