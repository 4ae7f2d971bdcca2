/**
 * `withAffinity` memory shared by the fleet, in the manner of HAProxy's stick-table peers: a proxy
 * that places a client writes the entry to Redis (with the strategy's TTL) and publishes it; every
 * proxy adopts what it hears into its own LRU. A pick never waits for Redis: it reads the local
 * memory only, which already holds what the fleet decided. A proxy that starts later, or comes back
 * after an outage, loads the entries still in Redis.
 * @internal
 */
import { LRUCache } from 'lru-cache';
import type { AffinityStrategy } from '../strategies/affinity';
import type { RedisLink } from './redis-link';

/** Keys read per SCAN step when loading entries from Redis. */
const SCAN_BATCH = 500;

/** @internal */
export interface AffinityMessage {
  readonly t: 'a';
  readonly from: string;
  /** Route id. */
  readonly r: string;
  /** The client's affinity key. */
  readonly k: string;
  /** Backend id. */
  readonly b: string;
}

interface Shared {
  readonly route: string;
  readonly strategy: AffinityStrategy;
  /** Entries published less than ttl/2 ago: a returning client renews its entry at most that often. */
  readonly recent: LRUCache<string, true>;
  /** Entries made while Redis was away, published on resync. */
  readonly dirty: LRUCache<string, true>;
}

/** @internal */
export class SharedAffinity {
  readonly #link: RedisLink;
  readonly #prefix: string;
  readonly #proxyId: string;
  readonly #byRoute = new Map<string, Shared>();

  constructor(link: RedisLink, prefix: string, proxyId: string) {
    this.#link = link;
    this.#prefix = `${prefix}affinity:`;
    this.#proxyId = proxyId;
  }

  /** Shares `strategy`'s memory under `route`. A strategy object used by several routes is shared under the first. */
  attach(route: string, strategy: AffinityStrategy): void {
    for (const s of this.#byRoute.values()) if (s.strategy === strategy) return;
    const shared: Shared = {
      route,
      strategy,
      recent: new LRUCache<string, true>({ max: strategy.max, ttl: Math.max(1, Math.floor(strategy.ttl / 2)), ttlResolution: 0 }),
      dirty: new LRUCache<string, true>({ max: strategy.max }),
    };
    this.#byRoute.set(route, shared);
    strategy.observe({ remembered: (key, id, renewed) => this.#remembered(shared, key, id, renewed) });
  }

  /** Stops observing the strategies (the proxy is closing). */
  detach(): void {
    for (const s of this.#byRoute.values()) s.strategy.observe(undefined);
  }

  #keyOf(route: string, key: string): string {
    return `${this.#prefix}${encodeURIComponent(route)}:${key}`;
  }

  #remembered(shared: Shared, key: string, id: string, renewed: boolean): void {
    if (renewed && shared.recent.has(key)) return;
    if (!this.#link.usable) {
      shared.dirty.set(key, true);
      return;
    }
    shared.recent.set(key, true);
    this.#write(shared, key, id);
  }

  #write(shared: Shared, key: string, id: string): void {
    const message: AffinityMessage = { t: 'a', from: this.#proxyId, r: shared.route, k: key, b: id };
    this.#link.command
      .pipeline()
      .set(this.#keyOf(shared.route, key), id, 'PX', shared.strategy.ttl)
      .publish(this.#link.channel, JSON.stringify(message))
      .exec()
      // Lost on the way: the entry is in the local memory, and the next placement of this client writes it again.
      .catch(() => undefined);
  }

  /** An entry another proxy published. */
  onMessage(message: AffinityMessage): void {
    const shared = this.#byRoute.get(message.r);
    if (shared === undefined || typeof message.k !== 'string' || typeof message.b !== 'string') return;
    shared.strategy.adopt(message.k, message.b);
    // Heard from the fleet: the entry is in Redis already, so a local hit need not renew it yet.
    shared.recent.set(message.k, true);
  }

  /**
   * After (re)connecting: writes the entries made while Redis was away (they win: the clients were
   * placed by them), offers every other entry it holds where Redis has none (a Redis that restarted
   * empty is refilled), then adopts the entries in Redis this proxy does not know, up to the
   * strategy's `max`.
   */
  async resync(): Promise<void> {
    for (const shared of this.#byRoute.values()) {
      for (const key of [...shared.dirty.keys()]) {
        const id = shared.strategy.peek(key);
        if (id !== undefined) this.#write(shared, key, id);
      }
      await this.#offer(shared);
      shared.dirty.clear();
      await this.#load(shared);
    }
  }

  /** `SET NX` of every local entry not written above, in pipelines of {@link SCAN_BATCH}. */
  async #offer(shared: Shared): Promise<void> {
    let pipeline = this.#link.command.pipeline();
    let queued = 0;
    // A copy: picks go on changing the memory while the pipelines are awaited.
    for (const [key, id, ttl] of [...shared.strategy.remembered()]) {
      if (shared.dirty.has(key)) continue;
      pipeline.set(this.#keyOf(shared.route, key), id, 'PX', ttl, 'NX');
      if (++queued % SCAN_BATCH === 0) {
        await pipeline.exec();
        pipeline = this.#link.command.pipeline();
      }
    }
    if (queued % SCAN_BATCH !== 0) await pipeline.exec();
  }

  async #load(shared: Shared): Promise<void> {
    const prefix = this.#keyOf(shared.route, '');
    let cursor = '0';
    let adopted = 0;
    do {
      const [next, keys] = await this.#link.command.scan(cursor, 'MATCH', `${escapeGlob(prefix)}*`, 'COUNT', SCAN_BATCH);
      cursor = next;
      if (keys.length === 0) continue;
      const pipeline = this.#link.command.pipeline();
      for (const k of keys) pipeline.get(k).pttl(k);
      const replies = (await pipeline.exec()) ?? [];
      for (let i = 0; i < keys.length; i++) {
        const id = replies[2 * i]?.[1];
        const ttl = replies[2 * i + 1]?.[1];
        const key = keys[i]!.slice(prefix.length);
        if (typeof id !== 'string' || typeof ttl !== 'number' || ttl <= 0) continue;
        if (shared.strategy.peek(key) !== undefined) continue;
        shared.strategy.adopt(key, id, ttl);
        if (++adopted >= shared.strategy.max) return;
      }
    } while (cursor !== '0');
  }
}

/** Escapes the glob characters of a SCAN MATCH pattern. */
function escapeGlob(text: string): string {
  return text.replace(/[*?[\]\\]/g, '\\$&');
}
