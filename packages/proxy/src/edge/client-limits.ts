/**
 * Per-client limits: concurrent connections and a WebSocket upgrade rate (token bucket), keyed by client address,
 * in tables that an attacker spraying source addresses cannot grow without bound.
 *
 * @remarks
 * Two tables, on purpose:
 * - Rate buckets live in an LRU bounded by `maxTrackedClients`. Evicting one only forgives that client (its next
 *   bucket starts full), which is the price of a hard memory bound; a client must be idle for longer than
 *   `maxTrackedClients` other clients' arrivals to be evicted.
 * - Open-connection counts live in a plain Map holding only clients with at least one open connection. Putting
 *   them in the LRU would let a flood of other addresses evict a client's count while its connections are still
 *   open, resetting it to zero and letting it exceed its limit. The Map instead is bounded by the number of
 *   connections the proxy holds open, each of which costs far more (a socket, buffers) than its entry here, so the
 *   proxy's own connection limit bounds it; with no connections open it is empty.
 *
 * @packageDocumentation
 */
import { LRUCache } from 'lru-cache';
import { InvalidOptionError } from '../errors';
import { formatIp, isIPv4Mapped, maskIp, parseIp } from './ip-address';

/**
 * Options of {@link ClientLimits}. A limit left out is not enforced.
 *
 * @example
 * ```ts
 * const options: ClientLimitsOptions = { maxConnectionsPerClient: 64, upgradeRate: { perSecond: 5, burst: 20 } };
 * ```
 */
export interface ClientLimitsOptions {
  /**
   * Most connections one client may hold open at once (see {@link ClientLimits.acquire}).
   * @defaultValue no limit
   */
  readonly maxConnectionsPerClient?: number;
  /**
   * Token bucket for WebSocket upgrades per client: `burst` upgrades at once, refilled at `perSecond`.
   * @defaultValue no limit
   */
  readonly upgradeRate?: { readonly perSecond: number; readonly burst: number };
  /**
   * Most clients whose rate bucket is remembered; the least recently seen is forgotten first.
   * @defaultValue {@link DEFAULT_MAX_TRACKED_CLIENTS}
   * @remarks This is the memory bound under a flood of spoofed or sprayed addresses: about 130 bytes per client
   * (measured with IPv4 keys), so about 13 MB at the default.
   */
  readonly maxTrackedClients?: number;
  /**
   * IPv6 clients are keyed by this many leading bits of their address.
   * @defaultValue 64
   * @remarks One IPv6 subscriber is normally given at least a /64 and can pick any address in it, so a per-address
   * limit would let one host take 2^64 identities. IPv4 (and IPv4-mapped IPv6) is always keyed by the full address.
   */
  readonly ipv6PrefixLength?: number;
  /**
   * Clock in ms, for tests.
   * @defaultValue `performance.now`
   * @internal
   */
  readonly clock?: () => number;
}

/**
 * Default {@link ClientLimitsOptions.maxTrackedClients}.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_TRACKED_CLIENTS); // 100000
 * ```
 */
export const DEFAULT_MAX_TRACKED_CLIENTS = 100_000;

/**
 * `Retry-After` (seconds) suggested when the concurrency limit is hit: when a connection ends cannot be known, and
 * a second keeps a well-behaved client from retrying in a tight loop.
 *
 * @example
 * ```ts
 * console.log(CONCURRENCY_RETRY_AFTER); // 1
 * ```
 */
export const CONCURRENCY_RETRY_AFTER = 1;

const DEFAULT_IPV6_PREFIX_LENGTH = 64;

/**
 * The answer of {@link ClientLimits.acquire}: a slot to `release()` when the connection ends, or a refusal to answer
 * with 429 and `Retry-After: retryAfter` (whole seconds, at least 1).
 *
 * @example
 * ```ts
 * const limits = new ClientLimits({ maxConnectionsPerClient: 1 });
 * const a: Acquisition = limits.acquire('192.0.2.1');
 * const b: Acquisition = limits.acquire('192.0.2.1');
 * if (!b.ok) console.log(b.reason, b.retryAfter); // concurrency 1
 * if (a.ok) a.release();
 * ```
 */
export type Acquisition =
  | { readonly ok: true; release(): void }
  | { readonly ok: false; readonly reason: 'concurrency' | 'rate'; readonly retryAfter: number };

/**
 * What {@link ClientLimits.acquire} counts: `'upgrade'` takes a connection slot and a rate token, `'connection'`
 * only a slot (for plain HTTP requests or TCP connections, which the upgrade rate does not cover).
 *
 * @example
 * ```ts
 * const kind: AcquireKind = 'connection';
 * ```
 */
export type AcquireKind = 'upgrade' | 'connection';

/**
 * Sizes of the tables, for metrics and tests.
 *
 * @example
 * ```ts
 * const s: ClientLimitsSnapshot = new ClientLimits({}).snapshot();
 * console.log(s.trackedClients); // 0
 * ```
 */
export interface ClientLimitsSnapshot {
  /** Clients with a remembered rate bucket (at most `maxTrackedClients`). */
  readonly trackedClients: number;
  /** Clients with at least one open connection. */
  readonly clientsWithConnections: number;
  /** Connections acquired and not yet released. */
  readonly openConnections: number;
}

/** Tokens as of `at` (clock ms); refilled lazily on the next look, so no timer ever runs. */
interface Bucket {
  tokens: number;
  at: number;
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}

const OK_NO_TRACKING: Acquisition = Object.freeze({ ok: true as const, release: (): void => {} });

/**
 * Enforces per-client connection and upgrade-rate limits in bounded memory, with no timers.
 *
 * @example
 * ```ts
 * const limits = new ClientLimits({ maxConnectionsPerClient: 32, upgradeRate: { perSecond: 2, burst: 10 } });
 * const slot = limits.acquire('203.0.113.9');
 * if (!slot.ok) {
 *   // answer: 429 Too Many Requests, Retry-After: slot.retryAfter
 * } else {
 *   // ... on connection close:
 *   slot.release(); // idempotent
 * }
 * ```
 */
export class ClientLimits {
  readonly #maxConnections: number;
  readonly #perMs: number;
  readonly #burst: number;
  readonly #ipv6Prefix: number;
  readonly #clock: () => number;
  readonly #buckets: LRUCache<string, Bucket> | undefined;
  readonly #open = new Map<string, number>();
  #openConnections = 0;

  /**
   * @throws {@link InvalidOptionError} (`ERR_INVALID_OPTION`) for an option of the wrong type or range.
   */
  constructor(options: ClientLimitsOptions = {}) {
    const { maxConnectionsPerClient, upgradeRate, maxTrackedClients = DEFAULT_MAX_TRACKED_CLIENTS } = options;
    const { ipv6PrefixLength = DEFAULT_IPV6_PREFIX_LENGTH, clock = () => performance.now() } = options;
    if (maxConnectionsPerClient !== undefined && !isPositiveInteger(maxConnectionsPerClient)) {
      throw new InvalidOptionError(`ClientLimits: maxConnectionsPerClient must be a positive integer, got ${String(maxConnectionsPerClient)}`);
    }
    if (upgradeRate !== undefined) {
      if (typeof upgradeRate !== 'object' || upgradeRate === null) {
        throw new InvalidOptionError(`ClientLimits: upgradeRate must be an object { perSecond, burst }, got ${String(upgradeRate)}`);
      }
      const { perSecond, burst } = upgradeRate;
      if (typeof perSecond !== 'number' || !Number.isFinite(perSecond) || perSecond <= 0) {
        throw new InvalidOptionError(`ClientLimits: upgradeRate.perSecond must be a positive finite number, got ${String(perSecond)}`);
      }
      if (!isPositiveInteger(burst)) {
        throw new InvalidOptionError(`ClientLimits: upgradeRate.burst must be a positive integer, got ${String(burst)}`);
      }
    }
    if (!isPositiveInteger(maxTrackedClients)) {
      throw new InvalidOptionError(`ClientLimits: maxTrackedClients must be a positive integer, got ${String(maxTrackedClients)}`);
    }
    if (!Number.isInteger(ipv6PrefixLength) || ipv6PrefixLength < 1 || ipv6PrefixLength > 128) {
      throw new InvalidOptionError(`ClientLimits: ipv6PrefixLength must be an integer from 1 to 128, got ${String(ipv6PrefixLength)}`);
    }
    this.#maxConnections = maxConnectionsPerClient ?? Infinity;
    this.#perMs = upgradeRate === undefined ? 0 : upgradeRate.perSecond / 1000;
    this.#burst = upgradeRate?.burst ?? 0;
    this.#ipv6Prefix = ipv6PrefixLength;
    this.#clock = clock;
    this.#buckets = upgradeRate === undefined ? undefined : new LRUCache<string, Bucket>({ max: maxTrackedClients });
  }

  /**
   * The table key for an address: IPv4 (and IPv4-mapped) as a dotted quad, IPv6 as its masked prefix, anything
   * else (not an IP address) as given, so it is still limited, only not grouped.
   *
   * @example
   * ```ts
   * const limits = new ClientLimits({});
   * limits.keyOf('::ffff:192.0.2.1'); // '192.0.2.1'
   * limits.keyOf('2001:db8:1:2:3:4:5:6'); // '2001:db8:1:2::/64'
   * ```
   */
  keyOf(address: string): string {
    const ip = parseIp(address);
    if (ip === undefined) return address;
    if (isIPv4Mapped(ip.bytes)) return formatIp(ip.bytes);
    return `${formatIp(maskIp(ip.bytes, this.#ipv6Prefix))}/${this.#ipv6Prefix}`;
  }

  /**
   * Takes a connection slot (and for `'upgrade'` a rate token) for the client at `address`.
   *
   * @param address - the client's address as resolved by `resolveClientAddress` (an IP address; other text is
   *   tolerated and used as its own key).
   * @param kind - `'upgrade'` (default) also spends a rate token; `'connection'` does not.
   * @returns `{ ok: true, release }` (call `release()` when the connection ends; later calls do nothing), or
   *   `{ ok: false, reason, retryAfter }`. A refusal consumes nothing.
   *
   * @example
   * ```ts
   * const limits = new ClientLimits({ upgradeRate: { perSecond: 1, burst: 1 } });
   * limits.acquire('192.0.2.1'); // ok
   * limits.acquire('192.0.2.1'); // { ok: false, reason: 'rate', retryAfter: 1 }
   * limits.acquire('192.0.2.1', 'connection'); // ok: plain connections spend no rate token
   * ```
   */
  acquire(address: string, kind: AcquireKind = 'upgrade'): Acquisition {
    const checkRate = kind === 'upgrade' && this.#buckets !== undefined;
    const countOpen = this.#maxConnections !== Infinity;
    if (!checkRate && !countOpen) return OK_NO_TRACKING;
    const key = this.keyOf(address);
    const open = this.#open.get(key) ?? 0;
    if (open >= this.#maxConnections) return { ok: false, reason: 'concurrency', retryAfter: CONCURRENCY_RETRY_AFTER };
    if (checkRate) {
      const wait = this.#spendToken(key);
      if (wait > 0) return { ok: false, reason: 'rate', retryAfter: wait };
    }
    if (!countOpen) return OK_NO_TRACKING;
    this.#open.set(key, open + 1);
    this.#openConnections++;
    let released = false;
    return {
      ok: true,
      release: (): void => {
        if (released) return;
        released = true;
        this.#openConnections--;
        const left = (this.#open.get(key) ?? 1) - 1;
        // Only clients with open connections are kept, which is what bounds this Map.
        if (left <= 0) this.#open.delete(key);
        else this.#open.set(key, left);
      },
    };
  }

  /**
   * Sizes of the tables.
   *
   * @example
   * ```ts
   * const limits = new ClientLimits({ maxConnectionsPerClient: 2 });
   * limits.acquire('192.0.2.1');
   * limits.snapshot(); // { trackedClients: 0, clientsWithConnections: 1, openConnections: 1 }
   * ```
   */
  snapshot(): ClientLimitsSnapshot {
    return {
      trackedClients: this.#buckets?.size ?? 0,
      clientsWithConnections: this.#open.size,
      openConnections: this.#openConnections,
    };
  }

  /** Spends one token; returns 0 on success, else whole seconds until one token will be there. */
  #spendToken(key: string): number {
    const buckets = this.#buckets as LRUCache<string, Bucket>;
    const now = this.#clock();
    const bucket = buckets.get(key);
    if (bucket === undefined) {
      buckets.set(key, { tokens: this.#burst - 1, at: now });
      return 0;
    }
    // max(0, ...) guards against a clock that steps backwards.
    const tokens = Math.min(this.#burst, bucket.tokens + Math.max(0, now - bucket.at) * this.#perMs);
    bucket.at = now;
    if (tokens >= 1) {
      bucket.tokens = tokens - 1;
      return 0;
    }
    bucket.tokens = tokens;
    return Math.max(1, Math.ceil((1 - tokens) / (this.#perMs * 1000)));
  }
}
