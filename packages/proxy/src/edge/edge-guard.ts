import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { ClientLimits } from './client-limits';
import type { ConnectionProtocol } from '../strategies/strategy';
import {
  BadHandshakeError,
  BadRequestError,
  ClientLimitError,
  HeadersTooLargeError,
  HttpVersionError,
  OriginForbiddenError,
  UriTooLongError,
  type SwitchboardError,
} from '../errors';
import { formatIp, parseIp } from './ip-address';
import { createOriginPolicy, type OriginCheck } from './origin-policy';
import type { ProxyEndpoint } from './proxy-protocol';
import type { ResolvedOptions } from '../resolve-options';
import { createRequestGuard, type RequestGuard } from './request-guard';
import { isAdaptedHttp2 } from '../http2/h2-request';
import { createTrustPolicy, resolveClientAddress, type TrustPolicy } from './trust-proxy';

/**
 * Everything decided about a client before a backend is picked: who it is
 * (trusted PROXY headers and forwarding headers), whether its request is
 * well-formed enough to forward, whether its Origin may open a WebSocket, and
 * whether it is within its per-client limits.
 * @internal
 */
export class EdgeGuard {
  readonly #trust: TrustPolicy;
  readonly #guard: RequestGuard;
  readonly #origin: OriginCheck | undefined;
  readonly #limits: ClientLimits | undefined;
  /** Client endpoints announced by a trusted PROXY protocol header, per connection. */
  readonly #proxied = new WeakMap<Socket, ProxyEndpoint>();

  constructor(options: ResolvedOptions) {
    this.#trust = createTrustPolicy(options.trustProxy);
    this.#guard = createRequestGuard({ maxUrlLength: options.maxUrlLength, maxHeaderCount: options.maxHeaderCount });
    this.#origin = options.allowedOrigins === undefined ? undefined : createOriginPolicy(options.allowedOrigins, { requireOrigin: options.requireOrigin });
    const { maxConnectionsPerClient, upgradeRate, maxTrackedClients } = options;
    this.#limits =
      maxConnectionsPerClient === undefined && upgradeRate === undefined
        ? undefined
        : new ClientLimits({
            ...(maxConnectionsPerClient === undefined ? {} : { maxConnectionsPerClient }),
            ...(upgradeRate === undefined ? {} : { upgradeRate }),
            ...(maxTrackedClients === undefined ? {} : { maxTrackedClients }),
          });
  }

  /** True when the peer may speak for its clients (forwarding headers, PROXY protocol). */
  isTrusted(address: string): boolean {
    return this.#trust.isTrusted(address);
  }

  /**
   * Records what a trusted PROXY header said about this connection's client.
   *
   * @param endpoint - the announced source, or undefined when the header names
   *   none (v1 UNKNOWN; v2 LOCAL, AF_UNSPEC or AF_UNIX). The peer itself then
   *   stands as the client, and its forwarding headers are not believed: they
   *   were written by whoever the balancer relayed (a balancer health check
   *   sends no HTTP of its own), so believing them would let any client choose
   *   its address.
   */
  setProxiedClient(socket: Socket, endpoint: ProxyEndpoint | undefined): void {
    if (endpoint !== undefined) {
      this.#proxied.set(socket, endpoint);
      return;
    }
    const peer = socket.remoteAddress ?? '';
    const ip = parseIp(peer);
    this.#proxied.set(socket, { address: ip === undefined ? peer : formatIp(ip.bytes), port: socket.remotePort ?? 0 });
  }

  /**
   * The client as the proxy should see it: the PROXY protocol source when a
   * trusted balancer sent one, else the address resolved through trusted
   * forwarding headers (with the peer's port), else the peer itself.
   */
  clientOf(req: IncomingMessage): { address: string; port: number } {
    const socket = req.socket;
    const proxied = this.#proxied.get(socket);
    if (proxied !== undefined) return { address: proxied.address, port: proxied.port };
    const peer = socket.remoteAddress ?? '';
    const port = socket.remotePort ?? 0;
    if (!this.#trust.isTrusted(peer)) return { address: peer, port };
    const xff = req.headers['x-forwarded-for'];
    const forwarded = req.headers['forwarded'];
    return { address: resolveClientAddress(peer, typeof xff === 'string' ? xff : undefined, forwarded, this.#trust), port };
  }

  /** The incoming X-Forwarded-For chain to extend, when the peer is trusted to have written it. */
  forwardedChain(req: IncomingMessage): string | undefined {
    if (this.#proxied.has(req.socket) || !this.#trust.isTrusted(req.socket.remoteAddress ?? '')) return undefined;
    const xff = req.headers['x-forwarded-for'];
    return typeof xff === 'string' && xff.length > 0 ? xff : undefined;
  }

  /** Request checks (smuggling, sizes, version, Origin for upgrades); undefined when it may go on. */
  check(req: IncomingMessage, protocol: ConnectionProtocol, clientAddress: string): SwitchboardError | undefined {
    const rejected = this.#guard(req, isAdaptedHttp2(req));
    if (rejected !== undefined) {
      const ctx = { clientAddress };
      switch (rejected.status) {
        case 414:
          return new UriTooLongError(rejected.reason, ctx);
        case 431:
          return new HeadersTooLargeError(rejected.reason, ctx);
        case 505:
          return new HttpVersionError(rejected.reason, ctx);
        default:
          return protocol === 'websocket' ? new BadHandshakeError(rejected.reason, ctx) : new BadRequestError(rejected.reason, ctx);
      }
    }
    if (protocol === 'websocket' && this.#origin !== undefined) {
      const origin = req.headers.origin;
      if (!this.#origin(origin)) return new OriginForbiddenError('Origin not in allowedOrigins', { clientAddress });
    }
    return undefined;
  }

  /** Takes a per-client slot (and an upgrade token); returns its release, or the 429 to answer. */
  acquire(address: string, protocol: ConnectionProtocol): (() => void) | ClientLimitError {
    if (this.#limits === undefined) return noop;
    const got = this.#limits.acquire(address, protocol === 'websocket' ? 'upgrade' : 'connection');
    if (got.ok) return got.release;
    return new ClientLimitError(got.reason === 'rate' ? 'client exceeded upgradeRate' : 'client exceeded maxConnectionsPerClient', {
      clientAddress: address,
      retryAfter: got.retryAfter,
    });
  }
}

function noop(): void {}
