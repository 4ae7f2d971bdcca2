import { LRUCache } from 'lru-cache';
import { InvalidOptionError } from '../errors';
import { isCandidate } from './admission';
import { normalizeIp } from './request-keys';
import type { BackendView, PickContext, Strategy } from './strategy';

/**
 * Options of {@link withAffinity}. Both bounds are required: an affinity table
 * without them grows with every client ever seen.
 *
 * @example
 * ```ts
 * import type { AffinityOptions } from '@switchboard/proxy';
 * const affinity: AffinityOptions = { ttl: 10 * 60_000, max: 100_000 };
 * ```
 * @group Strategies
 */
export interface AffinityOptions {
  /**
   * How long, in ms, a client is remembered after its last connection started.
   * @remarks Counted from the start of the client's latest connection, not its
   * end (the strategy is not told which client a closing connection was), so
   * for WebSockets choose more than a typical connection's life plus the
   * reconnect window.
   */
  readonly ttl: number;
  /**
   * Most clients remembered; the least recently seen are forgotten first.
   * @remarks About 100 bytes per entry.
   */
  readonly max: number;
  /**
   * The client's identity.
   * @defaultValue the client IP (`ctx.client.address`, with `::ffff:` IPv4 mapping removed)
   */
  readonly key?: (context: PickContext) => string | undefined;
  /**
   * Clock used for `ttl`, with `now()` in ms.
   * @internal For tests.
   */
  readonly clock?: { now(): number };
}

/**
 * A strategy that remembers which backend each client used: see {@link withAffinity}.
 *
 * @example
 * ```ts
 * import { withAffinity, LeastConnectionsStrategy, type AffinityStrategy } from '@switchboard/proxy';
 * const strategy: AffinityStrategy = withAffinity(new LeastConnectionsStrategy(), { ttl: 60_000, max: 10_000 });
 * console.log(strategy.size); // 0
 * ```
 * @group Strategies
 */
export class AffinityStrategy implements Strategy {
  readonly name: string;
  readonly #inner: Strategy;
  readonly #key: (context: PickContext) => string | undefined;
  readonly #memory: LRUCache<string, string>;
  #byId = new Map<string, BackendView>();

  /** @internal Use {@link withAffinity}. */
  constructor(inner: Strategy, options: AffinityOptions) {
    if (typeof inner !== 'object' || inner === null || typeof inner.pick !== 'function') {
      throw new InvalidOptionError('withAffinity: the first argument must be a strategy object with pick()');
    }
    if (typeof options !== 'object' || options === null) {
      throw new InvalidOptionError('withAffinity: options { ttl, max } are required');
    }
    const { ttl, max } = options;
    if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl <= 0) {
      throw new InvalidOptionError(`withAffinity: ttl must be a positive finite number of ms, got ${String(ttl)}`);
    }
    if (!Number.isSafeInteger(max) || max < 1) {
      throw new InvalidOptionError(`withAffinity: max must be a positive integer, got ${String(max)}`);
    }
    if (options.key !== undefined && typeof options.key !== 'function') {
      throw new InvalidOptionError(`withAffinity: key must be a function, got ${typeof options.key}`);
    }
    this.#inner = inner;
    this.name = `${inner.name}+affinity`;
    const key = options.key;
    this.#key = key === undefined ? (ctx) => normalizeIp(ctx.client.address) : (ctx) => key(ctx);
    this.#memory = new LRUCache<string, string>({
      max,
      ttl,
      // A reconnect renews the memory, so an active client keeps its node.
      updateAgeOnGet: true,
      // Read the clock on every lookup: the default caches it with a timer,
      // and a strategy owns no timers.
      ttlResolution: 0,
      ...(options.clock === undefined ? {} : { perf: options.clock }),
    });
  }

  /** Clients currently remembered (expired entries may count until touched). */
  get size(): number {
    return this.#memory.size;
  }

  /** Forgets every client. */
  clear(): void {
    this.#memory.clear();
  }

  update(backends: readonly BackendView[]): void {
    this.#byId = new Map(backends.map((b) => [b.id, b]));
    this.#inner.update?.(backends);
  }

  onLoadChange(backends: readonly BackendView[]): void {
    this.#inner.onLoadChange?.(backends);
  }

  pick(context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    const key = this.#key(context);
    if (key === undefined) return this.#inner.pick(context, candidates);
    const id = this.#memory.get(key);
    if (id !== undefined) {
      const remembered = this.#byId.get(id) ?? candidates.find((b) => b.id === id);
      // Back to the remembered node only while it can take the connection;
      // otherwise the inner strategy chooses and the memory follows.
      if (remembered !== undefined && isCandidate(remembered, context)) return remembered;
    }
    const chosen = this.#inner.pick(context, candidates);
    if (chosen !== undefined) this.#memory.set(key, chosen.id);
    return chosen;
  }

  onConnectionOpen(backend: BackendView, context: PickContext): void {
    this.#inner.onConnectionOpen?.(backend, context);
  }

  onConnectionClose(backend: BackendView): void {
    this.#inner.onConnectionClose?.(backend);
  }

  responseHeaders(backend: BackendView, context: PickContext): Readonly<Record<string, string | readonly string[]>> | undefined {
    return this.#inner.responseHeaders?.(backend, context);
  }
}

/**
 * Adds affinity memory to any strategy: a client that reconnects within `ttl`
 * goes back to the backend it used, while that backend can take it.
 *
 * @remarks
 * A decorator, so it works with any strategy, including your own: the inner
 * strategy places first-time clients (and clients whose backend is down,
 * draining or full), and the choice is remembered per client IP in a bounded
 * LRU (`lru-cache`) keyed by the backend's id. Memory is per process: for a
 * fleet of proxies, prefer `ip-hash` (stateless agreement) or `sticky-cookie`
 * (the client carries its affinity).
 *
 * @example
 * ```ts
 * import { createProxy, withAffinity, PowerOfTwoChoicesStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
 *   strategy: withAffinity(new PowerOfTwoChoicesStrategy(), { ttl: 10 * 60_000, max: 100_000 }),
 * });
 * ```
 * @group Strategies
 */
export function withAffinity(strategy: Strategy, options: AffinityOptions): AffinityStrategy {
  return new AffinityStrategy(strategy, options);
}
