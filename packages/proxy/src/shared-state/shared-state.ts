/**
 * The `sharedState` option at run time: the Redis link, shared affinity, shared backend changes and
 * the fleet table, and the one up/down state the proxy reports (`sharedStateChange`, once per
 * change). Redis is never on a connection's path: while it is away the proxy serves from its local
 * state, and on its return it publishes what changed here and loads what changed elsewhere.
 * @internal
 */
import { hostname } from 'node:os';
import type { BackendSnapshot } from '../backends/backend-pool';
import { SharedStateError } from '../errors';
import { AffinityStrategy } from '../strategies/affinity';
import type { Strategy } from '../strategies/strategy';
import { StickyCookieStrategy } from '../strategies/sticky-cookie';
import { randomBytes } from 'node:crypto';
import { FleetTable, type FleetMember } from './fleet-table';
import { RedisLink } from './redis-link';
import { SharedAffinity, type AffinityMessage } from './shared-affinity';
import { SharedBackends, type BackendHost, type BackendMessage } from './shared-backends';
import type { ResolvedSharedState } from './shared-state-options';

/**
 * The argument of the `sharedStateChange` event.
 *
 * @example
 * ```ts
 * import { createProxy, type SharedStateChange } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379' } });
 * proxy.on('sharedStateChange', (change: SharedStateChange) => {
 *   if (change.state === 'down') console.warn(`Redis lost (${change.reason}): serving from local state`);
 * });
 * ```
 * @group Shared state
 */
export interface SharedStateChange {
  /** `up`: connected and in sync with the fleet; `down`: Redis is unusable, local state only. */
  readonly state: 'up' | 'down';
  readonly fleet: string;
  readonly proxyId: string;
  /** `connected` (the first time), `resynchronised` (after an outage), or the Redis error. */
  readonly reason: string;
  /** On `up` after an outage: how long Redis was unusable, in ms. */
  readonly downForMs?: number;
}

/**
 * What {@link Proxy.sharedState} reports.
 *
 * @example
 * ```ts
 * import type { SharedStateStatus } from '@switchboard/proxy';
 * const status: SharedStateStatus = { state: 'connecting', fleet: 'default', proxyId: 'edge-1' };
 * ```
 * @group Shared state
 */
export interface SharedStateStatus {
  /** `closed` once the proxy's `close()` or `destroy()` began. */
  readonly state: 'connecting' | 'up' | 'down' | 'closed';
  readonly fleet: string;
  readonly proxyId: string;
}

/** What shared state needs of its proxy. @internal */
export interface SharedStateHost extends BackendHost {
  /** Each route's id and strategy. */
  strategies(): Iterable<readonly [string, Strategy]>;
  backends(): readonly BackendSnapshot[];
  connectionCount(): number;
  /** `host:port` of each listen() server. */
  addresses(): string[];
  changed(change: SharedStateChange): void;
}

/** How long after a failed resync (with Redis reachable) the next one starts, in ms. */
const RESYNC_RETRY_INTERVAL = 1000;
/** Bytes of the fleet's sticky-cookie secret. */
const FLEET_SECRET_BYTES = 32;

/** @internal */
export class SharedState {
  readonly #options: ResolvedSharedState;
  readonly #host: SharedStateHost;
  readonly #link: RedisLink;
  readonly #affinity: SharedAffinity;
  readonly #backends: SharedBackends;
  readonly #fleet: FleetTable;
  #state: 'connecting' | 'up' | 'down' = 'connecting';
  #syncing = false;
  #closed = false;
  #downSince = 0;
  #upSince = 0;
  #everUp = false;
  /** Counts the link's ready reports, so a resync can tell it raced with a reconnection. */
  #readyCount = 0;
  #refresh: NodeJS.Timeout | undefined;
  #retry: NodeJS.Timeout | undefined;
  /** The fleet's sticky-cookie secret (hex) this proxy signs with, once adopted. */
  #stickySecret: string | undefined;

  constructor(options: ResolvedSharedState, host: SharedStateHost) {
    this.#options = options;
    this.#host = host;
    this.#link = new RedisLink(options.redis, `${options.prefix}events`, {
      ready: () => this.#ready(),
      lost: (error) => this.#lost(error),
      message: (text) => this.#message(text),
    });
    this.#affinity = new SharedAffinity(this.#link, options.prefix, options.proxyId);
    this.#backends = new SharedBackends(this.#link, options.prefix, options.proxyId, host);
    this.#fleet = new FleetTable(this.#link, options.prefix, options.proxyId, options.summaryTtl);
    for (const [route, strategy] of host.strategies()) {
      if (strategy instanceof AffinityStrategy) this.#affinity.attach(route, strategy);
    }
  }

  get status(): SharedStateStatus {
    return { state: this.#closed ? 'closed' : this.#state, fleet: this.#options.fleet, proxyId: this.#options.proxyId };
  }

  /** A backend was added, re-weighted or changed state here. */
  backendChanged(b: BackendSnapshot, reason?: string): void {
    if (!this.#closed) this.#backends.changed(b, reason);
  }

  /** A backend was removed here. */
  backendRemoved(b: BackendSnapshot): void {
    if (!this.#closed) this.#backends.removed(b);
  }

  #ready(): void {
    this.#readyCount++;
    if (this.#state === 'up' || this.#syncing || this.#closed) return;
    this.#syncing = true;
    const round = this.#readyCount;
    this.#resync().then(
      () => {
        this.#syncing = false;
        if (this.#closed || !this.#link.usable) return;
        // The link dropped and came back while this ran: messages of the gap may be missing, sync again.
        if (round !== this.#readyCount) return this.#ready();
        const wasDown = this.#state === 'down';
        this.#state = 'up';
        this.#refresh = setInterval(() => this.#writeRow(), Math.max(100, Math.floor(this.#options.summaryTtl / 3)));
        this.#announce('up', this.#everUp ? 'resynchronised' : 'connected', wasDown ? Date.now() - this.#downSince : undefined);
        this.#everUp = true;
      },
      (err: unknown) => {
        this.#syncing = false;
        this.#lost(err instanceof Error ? err.message : String(err));
        // The link is usable (it came back while this failed, or Redis answered with an error such as
        // NOPERM): try again later rather than never, and not in a tight loop.
        if (this.#link.usable && !this.#closed) {
          clearTimeout(this.#retry);
          this.#retry = setTimeout(() => this.#ready(), RESYNC_RETRY_INTERVAL);
        }
      },
    );
  }

  async #resync(): Promise<void> {
    if (this.#upSince === 0) this.#upSince = Date.now();
    await this.#backends.resync();
    await this.#affinity.resync();
    await this.#shareStickySecret();
    await this.#fleet.write(this.#row());
  }

  /**
   * Sticky-cookie strategies made without a secret sign with the fleet's: the first proxy to
   * connect stores a random one (SET NX), every proxy uses what is stored. A proxy that already
   * signs with the fleet's secret offers that one, so a Redis that restarted empty gets the same
   * secret back and the clients' cookies stay valid.
   */
  async #shareStickySecret(): Promise<void> {
    const sticky = [...this.#host.strategies()].map(([, s]) => s).filter((s): s is StickyCookieStrategy => s instanceof StickyCookieStrategy);
    if (sticky.length === 0) return;
    const key = `${this.#options.prefix}sticky-secret`;
    await this.#link.command.set(key, this.#stickySecret ?? randomBytes(FLEET_SECRET_BYTES).toString('hex'), 'NX');
    const stored = await this.#link.command.get(key);
    if (stored === null || !/^[0-9a-f]{32,}$/.test(stored) || stored === this.#stickySecret) return;
    this.#stickySecret = stored;
    for (const s of sticky) s.adoptFleetSecret(Buffer.from(stored, 'hex'));
  }

  #lost(error: string): void {
    if (this.#state === 'down' || this.#closed) return;
    // A drop during the first sync of a fresh start counts like any other: say it once.
    clearInterval(this.#refresh);
    this.#refresh = undefined;
    this.#state = 'down';
    this.#downSince = Date.now();
    this.#announce('down', error);
  }

  #announce(state: 'up' | 'down', reason: string, downForMs?: number): void {
    const { fleet, proxyId } = this.#options;
    this.#host.changed({ state, fleet, proxyId, reason, ...(downForMs !== undefined && { downForMs }) });
  }

  #message(text: string): void {
    let message: AffinityMessage | BackendMessage;
    try {
      message = JSON.parse(text) as AffinityMessage | BackendMessage;
    } catch {
      return;
    }
    if (typeof message !== 'object' || message === null || message.from === this.#options.proxyId) return;
    if (message.t === 'a') this.#affinity.onMessage(message);
    else if (message.t === 'b') this.#backends.onMessage(message);
  }

  #row(): FleetMember {
    const listening = this.#host.addresses();
    const addresses = this.#options.advertise !== undefined ? [this.#options.advertise] : listening.length > 0 ? listening : [hostname()];
    return {
      id: this.#options.proxyId,
      addresses,
      upSince: this.#upSince,
      updatedAt: Date.now(),
      connections: this.#host.connectionCount(),
      backends: this.#host.backends().map((b) => ({ route: b.route, id: b.id, state: b.state, connections: b.activeConnections })),
    };
  }

  #writeRow(): void {
    if (this.#state !== 'up' || this.#closed) return;
    // A failed refresh is an outage the link reports itself.
    this.#fleet.write(this.#row()).catch(() => undefined);
  }

  /** The fleet table; rejects with `ERR_SHARED_STATE` while Redis is unusable. */
  async fleet(): Promise<FleetMember[]> {
    if (this.#closed || this.#state !== 'up' || !this.#link.usable) throw new SharedStateError(`shared state is ${this.#closed ? 'closed' : this.#state}: the fleet table is in Redis`);
    try {
      return await this.#fleet.read();
    } catch (cause) {
      throw new SharedStateError('reading the fleet table from Redis failed', { cause });
    }
  }

  /** Leaves the fleet table (when connected) and closes the Redis connections. Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    const wasUp = this.#state === 'up' && this.#link.usable;
    this.#closed = true;
    clearTimeout(this.#retry);
    clearInterval(this.#refresh);
    this.#refresh = undefined;
    this.#affinity.detach();
    this.#backends.close();
    if (wasUp) await this.#fleet.remove().catch(() => undefined);
    await this.#link.close();
  }
}
