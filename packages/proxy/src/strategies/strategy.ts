import type { IncomingMessage } from 'node:http';

/**
 * Health and admission state of a backend.
 *
 * @remarks
 * `up` backends receive new connections. `draining` backends keep their live
 * connections but receive no new ones. `down` backends receive nothing.
 *
 * @example
 * ```ts
 * import type { BackendState } from '@switchboard/proxy';
 * const s: BackendState = 'draining';
 * ```
 * @group Strategies
 */
export type BackendState = 'up' | 'down' | 'draining';

/**
 * A read-only view of one backend, as strategies and `proxy.backends()` see it.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * for (const b of proxy.backends()) console.log(b.id, b.weight, b.activeConnections);
 * ```
 * @group Strategies
 */
export interface BackendView {
  /** Stable identifier: the `id` given in the spec, or the URL's `host` (`127.0.0.1:9001`). */
  readonly id: string;
  /** The backend's base URL (never shown to clients). */
  readonly url: string;
  /** Relative weight, a positive integer (default 1). */
  readonly weight: number;
  /** Admission state. */
  readonly state: BackendState;
  /** Live proxied connections on this backend, read from the connection table. */
  readonly activeConnections: number;
  /** Connection limit for this backend, or `Infinity`. */
  readonly maxConnections: number;
}

/**
 * The protocol of a proxied connection.
 *
 * @example
 * ```ts
 * import type { ConnectionProtocol } from '@switchboard/proxy';
 * const p: ConnectionProtocol = 'websocket';
 * ```
 * @group Strategies
 */
export type ConnectionProtocol = 'http' | 'websocket';

/**
 * What a strategy knows about the connection it must place.
 *
 * @example
 * ```ts
 * import type { PickContext, Strategy } from '@switchboard/proxy';
 * const firstForAdmins: Strategy = {
 *   name: 'admins-first',
 *   pick: (ctx: PickContext, candidates) =>
 *     ctx.req.headers['x-role'] === 'admin' ? candidates[0] : candidates[candidates.length - 1],
 * };
 * ```
 * @group Strategies
 */
export interface PickContext {
  /** The client's request (the upgrade request for WebSockets). Read it; do not consume its body. */
  readonly req: IncomingMessage;
  /** The client's address and port as the proxy sees them. */
  readonly client: { readonly address: string; readonly port: number };
  /** Whether this is an HTTP request or a WebSocket upgrade. */
  readonly protocol: ConnectionProtocol;
  /**
   * Ids of backends this connection must not go to, e.g. those that already
   * failed it on a retry (HAProxy's `srvtoavoid`).
   * @remarks `candidates` never includes them; a strategy that picks from its
   * own table (a hash ring, a cookie map) must skip them itself.
   */
  readonly avoid?: ReadonlySet<string>;
}

/**
 * A load-balancing strategy: picks one backend among the candidates.
 *
 * @remarks
 * A strategy is pure: no sockets, timers or header writes. `candidates` holds
 * only backends that may take a new connection (up, below their limit), in the
 * order backends were configured; it is never empty when `pick` is called.
 * Returning `undefined` makes the proxy answer 503 ({@link NoBackendError}).
 *
 * `update()` is called with every backend (whatever its state) when the set or
 * a weight changes, so table-building strategies (hash rings) rebuild there and
 * keep `pick()` a cheap lookup. `onConnectionOpen` / `onConnectionClose` mirror
 * HAProxy's take_conn/drop_conn for strategies that keep their own counters.
 *
 * @example
 * ```ts
 * import { createProxy, type Strategy } from '@switchboard/proxy';
 * const random: Strategy = {
 *   name: 'random',
 *   pick: (_ctx, candidates) => candidates[Math.floor(Math.random() * candidates.length)],
 * };
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], strategy: random });
 * ```
 * @group Strategies
 */
export interface Strategy {
  /** A short name, used in logs and errors. */
  readonly name: string;
  /** Choose a backend for this connection, or `undefined` for none. */
  pick(context: PickContext, candidates: readonly BackendView[]): BackendView | undefined;
  /** Called with every configured backend when membership, weight or state changes. */
  update?(backends: readonly BackendView[]): void;
  /**
   * Called when connection counts this process does not see changed: in a cluster worker, the other
   * workers' connections (reported through the primary every few ms; see the Workers guide). Backends'
   * `activeConnections` already include them; a strategy that keeps backends ordered by load re-sorts here.
   * Membership, states and weights are unchanged (those come through `update()`).
   */
  onLoadChange?(backends: readonly BackendView[]): void;
  /** Called once when a connection placed on `backend` is opened. */
  onConnectionOpen?(backend: BackendView, context: PickContext): void;
  /** Called once when a connection placed on `backend` is closed. */
  onConnectionClose?(backend: BackendView): void;
  /**
   * Extra response headers for a connection placed on `backend` (added to the
   * HTTP response or the 101), e.g. an affinity `Set-Cookie`. Keep values opaque:
   * they reach the client.
   */
  responseHeaders?(backend: BackendView, context: PickContext): Readonly<Record<string, string | readonly string[]>> | undefined;
}
