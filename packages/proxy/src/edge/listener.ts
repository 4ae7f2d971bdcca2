import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo, type ListenOptions, type Server as NetServer, type Socket } from 'node:net';
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
 * The server `proxy.listen()` runs: node:http with a short headers timeout
 * (slowloris) and, with `proxyProtocol`, a TCP listener in front that reads
 * the PROXY header of trusted peers before the HTTP parser sees a byte.
 * @internal
 */
export class Listener {
  readonly server: Server;
  readonly #front: NetServer | undefined;
  readonly #pending = new Set<Socket>();

  constructor(options: ResolvedOptions, edge: EdgeGuard) {
    const headersTimeout = options.clientHeadersTimeout;
    this.server = createHttpServer({
      headersTimeout,
      requestTimeout: Math.max(300_000, headersTimeout),
      // Node checks the timeouts on this period: keep it well under the timeout itself.
      connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.floor(headersTimeout / 4))),
    });
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
    this.server.closeIdleConnections();
    return Promise.all(closing).then(() => undefined);
  }
}
