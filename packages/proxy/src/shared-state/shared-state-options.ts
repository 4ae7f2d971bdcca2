import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import { InvalidOptionError } from '../errors';
import { loadIoredis } from './redis-link';

/**
 * An ioredis client (ioredis 6) the proxy may copy its connection settings from. The proxy never
 * uses it directly: it opens its own two connections with `duplicate()` and closes them itself, so
 * your client's subscriptions and lifetime stay yours.
 *
 * @example
 * ```ts
 * import type { RedisClientLike } from '@switchboard/proxy';
 * declare const client: RedisClientLike; // new Redis(...) from ioredis
 * console.log(typeof client.duplicate);
 * ```
 * @group Shared state
 */
export interface RedisClientLike {
  duplicate(override?: Record<string, unknown>): unknown;
}

/**
 * The `sharedState` option: several proxies sharing affinity, backend changes and a fleet table
 * through one Redis. See the Shared state guide.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
 *   sharedState: { redis: process.env['REDIS_URL'] ?? 'redis://127.0.0.1:6379', fleet: 'edge-eu' },
 * });
 * proxy.on('sharedStateChange', (change) => console.log('shared state', change.state));
 * ```
 * @group Shared state
 */
export interface SharedStateOptions {
  /**
   * Where the shared state lives: a `redis://` / `rediss://` URL (credentials and database number
   * in it, e.g. `redis://proxy:secret@10.0.0.5:6379/2`), or an ioredis client whose settings are
   * copied (`duplicate()`).
   * @remarks Needs the optional peer dependency `ioredis` (`npm install ioredis`); without it
   * `createProxy` throws `ERR_SHARED_STATE`. Whoever can write this Redis can steer traffic: use a
   * private Redis with a password or an ACL user.
   */
  readonly redis: string | RedisClientLike;
  /**
   * The fleet's name: proxies with the same Redis and the same `fleet` share state; every key
   * starts with `switchboard:<fleet>:`.
   * @defaultValue `'default'`
   * @remarks Letters, digits, `.`, `_` and `-`, at most 64: it is part of every key and channel name.
   */
  readonly fleet?: string;
  /**
   * This proxy's name in the fleet table and in the messages it publishes; unique per fleet.
   * @defaultValue `<hostname>:<pid>:<4 random hex bytes>`
   * @remarks Two live proxies with one id would overwrite each other's summary and ignore each
   * other's messages (a proxy ignores what it published itself).
   */
  readonly proxyId?: string;
  /**
   * How long this proxy's summary stays in the fleet table without a refresh, in ms; it is
   * refreshed every third of it.
   * @defaultValue 15000
   * @remarks A killed proxy vanishes from the table at most this long after it died; a proxy that
   * closes removes its entry at once. At least 300 ms.
   */
  readonly summaryTtl?: number;
  /**
   * The address shown for this proxy in the fleet table (e.g. its public `host:port`).
   * @defaultValue the addresses of its `listen()` servers, or the host name when it has none
   */
  readonly advertise?: string;
}

/** The summary TTL when none is given, in ms. */
export const DEFAULT_SUMMARY_TTL = 15_000;
/** Shortest summary TTL accepted, in ms: refreshes every third of it must stay cheap. */
const MIN_SUMMARY_TTL = 300;
const FLEET_NAME = /^[A-Za-z0-9._-]{1,64}$/;
const KNOWN = new Set(['redis', 'fleet', 'proxyId', 'summaryTtl', 'advertise']);

/** @internal */
export interface ResolvedSharedState {
  readonly redis: string | RedisClientLike;
  readonly fleet: string;
  readonly proxyId: string;
  readonly summaryTtl: number;
  readonly advertise: string | undefined;
  /** `switchboard:<fleet>:` */
  readonly prefix: string;
}

/**
 * Validates `sharedState` into a new frozen object, or undefined when it is not set; throws
 * `ERR_SHARED_STATE` when ioredis is not installed.
 * @internal
 */
export function resolveSharedState(input: unknown): ResolvedSharedState | undefined {
  if (input === undefined) return undefined;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw new InvalidOptionError('options.sharedState must be an object like { redis: "redis://host:6379" }');
  }
  const o = input as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!KNOWN.has(key)) throw new InvalidOptionError(`options.sharedState.${key} is not an option (known: ${[...KNOWN].join(', ')})`);
  }
  const redis = o['redis'];
  if (typeof redis === 'string') {
    let url: URL | undefined;
    try {
      url = new URL(redis);
    } catch {
      url = undefined;
    }
    if (url === undefined || (url.protocol !== 'redis:' && url.protocol !== 'rediss:') || url.hostname === '') {
      throw new InvalidOptionError('options.sharedState.redis must be a redis:// or rediss:// URL with a host, or an ioredis client');
    }
  } else if (typeof redis !== 'object' || redis === null || typeof (redis as RedisClientLike).duplicate !== 'function') {
    throw new InvalidOptionError('options.sharedState.redis must be a redis:// or rediss:// URL with a host, or an ioredis client');
  }
  const fleet = o['fleet'] ?? 'default';
  if (typeof fleet !== 'string' || !FLEET_NAME.test(fleet)) {
    throw new InvalidOptionError(`options.sharedState.fleet must be 1-64 letters, digits, '.', '_' or '-', got ${JSON.stringify(fleet)}`);
  }
  const proxyId = o['proxyId'] ?? `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
  if (typeof proxyId !== 'string' || proxyId.length === 0 || proxyId.length > 256 || /[\s\0]/.test(proxyId)) {
    throw new InvalidOptionError('options.sharedState.proxyId must be a non-empty string of at most 256 characters without whitespace');
  }
  const summaryTtl = o['summaryTtl'] ?? DEFAULT_SUMMARY_TTL;
  if (typeof summaryTtl !== 'number' || !Number.isSafeInteger(summaryTtl) || summaryTtl < MIN_SUMMARY_TTL) {
    throw new InvalidOptionError(`options.sharedState.summaryTtl must be an integer number of ms >= ${MIN_SUMMARY_TTL}, got ${String(summaryTtl)}`);
  }
  const advertise = o['advertise'];
  if (advertise !== undefined && (typeof advertise !== 'string' || advertise.length === 0 || advertise.length > 256)) {
    throw new InvalidOptionError('options.sharedState.advertise must be a non-empty string of at most 256 characters');
  }
  loadIoredis();
  return Object.freeze({ redis: redis as string | RedisClientLike, fleet, proxyId, summaryTtl, advertise, prefix: `switchboard:${fleet}:` });
}

/**
 * The `sharedState` field of {@link ProxyOptions}.
 *
 * @example
 * ```ts
 * import type { SharedStateField } from '@switchboard/proxy';
 * const field: SharedStateField = { sharedState: { redis: 'redis://127.0.0.1:6379' } };
 * ```
 * @group Shared state
 */
export interface SharedStateField {
  /**
   * Share state with the other proxies of a fleet through Redis: `withAffinity` entries, runtime
   * backend changes (add, remove, weight, drain, outlier ejection) and a fleet table of every live
   * proxy ({@link Proxy.fleet}, `GET /api/fleet`). See {@link SharedStateOptions} and the Shared state guide.
   * @defaultValue undefined: every proxy keeps its state to itself
   * @remarks Redis is never on a connection's path: picks read local memory, which the fleet's
   * messages keep up to date (within a message's latency, well under a second on a LAN). When Redis
   * is unreachable the proxy keeps serving with its local state, emits `sharedStateChange` once
   * (`down`), and resynchronises when Redis returns (`up`, reason `resynchronised`).
   * @example
   * ```ts
   * import { createProxy, withAffinity, LeastConnectionsStrategy } from '@switchboard/proxy';
   * const proxy = createProxy({
   *   backends: ['http://10.0.0.11:9001', 'http://10.0.0.12:9001'],
   *   strategy: withAffinity(new LeastConnectionsStrategy(), { ttl: 10 * 60_000, max: 100_000 }),
   *   sharedState: { redis: 'redis://switchboard:secret@10.0.0.5:6379', fleet: 'edge' },
   * });
   * ```
   */
  readonly sharedState?: SharedStateOptions;
}
