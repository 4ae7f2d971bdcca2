import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import { createSecureServer, type Http2SecureServer, type Http2Session } from 'node:http2';
import { createServer as createNetServer, type AddressInfo, type ListenOptions, type Server as NetServer, type Socket } from 'node:net';
import type { TlsOptions } from 'node:tls';
import { InvalidOptionError } from '../errors';
import { http2ServerOptions } from '../http2/h2-server';
import type { Duplex } from 'node:stream';
import type { EdgeGuard } from './edge-guard';
import { sendRawStatus, wasAnswered } from '../http/error-response';
import type { ResolvedOptions } from '../resolve-options';
import { readProxyHeader } from './proxy-protocol';
import { statusForClientError } from './request-guard';

/**
 * Answers what Node's HTTP parser refused (malformed requests, oversized
 * headers, slowloris timeouts) with a bare status and closes the socket. A
 * socket the proxy already answered (its request guard refused the request,
 * then the parser choked on the body) gets nothing more.
 * @internal
 */
export function onClientError(err: Error & { code?: string }, socket: Duplex): void {
  const status = statusForClientError(err);
  if (status === undefined || !socket.writable || wasAnswered(socket)) {
    socket.destroy();
    return;
  }
  sendRawStatus(socket, status, { 'Content-Type': 'text/plain; charset=utf-8' });
}

/**
 * Options of {@link Proxy.listen}: where to listen (node:net's `ListenOptions`) and, optionally, TLS and HTTP/2.
 *
 * @example
 * ```ts
 * import { readFileSync } from 'node:fs';
 * import type { ProxyListenOptions } from '@switchboard/proxy';
 * const opts: ProxyListenOptions = {
 *   port: 8443,
 *   tls: { key: readFileSync('key.pem'), cert: readFileSync('cert.pem') },
 *   http2: true,
 * };
 * ```
 * @group Proxy
 */
export interface ProxyListenOptions extends ListenOptions {
  /**
   * Serve HTTPS with these TLS options (`key`, `cert`, `ca`, ...; those of `tls.createServer()`).
   * @defaultValue plain HTTP
   */
  readonly tls?: TlsOptions;
  /**
   * Serve HTTP/2 as well (ALPN `h2`), next to HTTP/1.1 (`http/1.1`, WebSocket upgrades included) on the same port.
   * Needs `tls`: browsers speak HTTP/2 only over TLS, and cleartext HTTP/2 is not offered.
   * @defaultValue false
   * @remarks The limits HTTP/2 connections are held to are the proxy's `http2` option group.
   */
  readonly http2?: boolean;
}

/** A server `listen()` can run: the request and upgrade events are the same on all three. */
type FrontServer = Server | HttpsServer | Http2SecureServer;

/** Checks the TLS / HTTP/2 part of listen()'s options. @internal */
export function checkListenOptions(options: ProxyListenOptions, proxyProtocol: boolean): void {
  if (options.tls !== undefined && (typeof options.tls !== 'object' || options.tls === null)) throw new InvalidOptionError('listen options.tls must be an object of TLS server options');
  if (options.http2 !== undefined && typeof options.http2 !== 'boolean') throw new InvalidOptionError(`listen options.http2 must be a boolean, got ${String(options.http2)}`);
  if (options.http2 === true && options.tls === undefined) throw new InvalidOptionError('listen options.http2 needs options.tls: HTTP/2 is served over TLS only');
  // The PROXY header's client is recorded per TCP socket, but requests over TLS carry the TLS socket: every client
  // would be seen as the balancer. Refused until the identity follows the TLS socket.
  if (options.tls !== undefined && proxyProtocol) throw new InvalidOptionError('listen options.tls cannot be combined with the proxyProtocol option yet');
}

/** The node:http(s) timeouts against slowloris; an http2 server with allowHTTP1 takes them as properties. */
function httpTimeouts(headersTimeout: number): { headersTimeout: number; requestTimeout: number; connectionsCheckingInterval: number } {
  return {
    headersTimeout,
    requestTimeout: Math.max(300_000, headersTimeout),
    // Node checks the timeouts on this period: keep it well under the timeout itself.
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
  };
}

function createFrontServer(options: ResolvedOptions, listen: ProxyListenOptions): FrontServer {
  const timeouts = httpTimeouts(options.clientHeadersTimeout);
  if (listen.tls === undefined) return createHttpServer(timeouts);
  if (listen.http2 !== true) return createHttpsServer({ ...listen.tls, ...timeouts });
  const server = createSecureServer({ ...listen.tls, ...http2ServerOptions(options.http2, options.maxHeaderCount) });
  // Node's http2 server reads these for its HTTP/1.1 connections (allowHTTP1) when it starts listening.
  Object.assign(server, timeouts);
  return server;
}

/**
 * The server `proxy.listen()` runs: node:http (node:https with `tls`, node:http2 with `tls` and `http2`, serving
 * HTTP/1.1 too) with a short headers timeout (slowloris) and, with `proxyProtocol`, a TCP listener in front that
 * reads the PROXY header of trusted peers before the HTTP parser (or the TLS handshake) sees a byte.
 * @internal
 */
export class Listener {
  readonly server: FrontServer;
  readonly #front: NetServer | undefined;
  readonly #pending = new Set<Socket>();
  /** Client sockets of an http2 server, which (unlike node:http) cannot close its connections itself. */
  readonly #sockets = new Set<Socket>();
  /** Its HTTP/2 sessions, told GOAWAY on close() so clients stop opening streams while the rest finish. */
  readonly #sessions = new Set<Http2Session>();

  constructor(options: ResolvedOptions, edge: EdgeGuard, listen: ProxyListenOptions = {}) {
    const headersTimeout = options.clientHeadersTimeout;
    this.server = createFrontServer(options, listen);
    if (!('closeAllConnections' in this.server)) {
      this.server.on('secureConnection', (socket: Socket) => {
        this.#sockets.add(socket);
        socket.once('close', () => this.#sockets.delete(socket));
      });
      this.server.on('session', (session: Http2Session) => {
        this.#sessions.add(session);
        session.once('close', () => this.#sessions.delete(session));
      });
    }
    this.server.on('clientError', onClientError);
    if (!options.proxyProtocol) return;
    this.#front = createNetServer({ allowHalfOpen: true }, (socket) => {
      const peer = socket.remoteAddress ?? '';
      if (!edge.isTrusted(peer)) {
        // Untrusted peers speak plain HTTP; a forged PROXY line fails the HTTP parser (400).
        this.server.emit('connection', socket);
        return;
      }
      this.#pending.add(socket);
      void readProxyHeader(socket, { timeout: headersTimeout }).then((result) => {
        this.#pending.delete(socket);
        if (result.status !== 'done' || socket.destroyed) {
          socket.destroy();
          return;
        }
        edge.setProxiedClient(socket, result.source);
        this.server.emit('connection', socket);
      });
    });
  }

  listen(options: ListenOptions): Promise<AddressInfo> {
    const target: NetServer = this.#front ?? this.server;
    return new Promise((resolve, reject) => {
      target.once('error', reject);
      target.listen(options, () => {
        target.removeListener('error', reject);
        // The http server does not listen itself behind the front; its timeout checks start on 'listening'.
        if (this.#front !== undefined) this.server.emit('listening');
        resolve(target.address() as AddressInfo);
      });
    });
  }

  /** Stops accepting; resolves when the listening socket is closed (connections are the caller's). */
  close(): Promise<void> {
    for (const s of this.#pending) s.destroy();
    this.#pending.clear();
    const closing = [new Promise<void>((resolve) => this.server.close(() => resolve()))];
    if (this.#front !== undefined) closing.push(new Promise<void>((resolve) => this.#front!.close(() => resolve())));
    if ('closeIdleConnections' in this.server) this.server.closeIdleConnections();
    for (const session of this.#sessions) if (!session.closed) session.close();
    return Promise.all(closing).then(() => undefined);
  }

  /** Destroys every client connection still open. */
  closeAllConnections(): void {
    if ('closeAllConnections' in this.server) this.server.closeAllConnections();
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
  }
}
