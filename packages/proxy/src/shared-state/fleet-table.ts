/**
 * The fleet table: each proxy writes its own summary under `<prefix>proxy:<id>` with a TTL and
 * refreshes it, and indexes it in the sorted set `<prefix>proxies` (score: when it expires), so a
 * proxy that dies drops out of the table once its TTL has passed, with no one to clean up after it.
 * @internal
 */
import type { BackendState } from '../strategies/strategy';
import type { RedisLink } from './redis-link';

/**
 * One proxy's row of the fleet table ({@link Proxy.fleet}, `GET /api/fleet`).
 *
 * @example
 * ```ts
 * import type { FleetMember } from '@switchboard/proxy';
 * const row: FleetMember = {
 *   id: 'edge-1', addresses: ['10.0.0.5:8080'], upSince: Date.now(), updatedAt: Date.now(), connections: 0, backends: [],
 * };
 * ```
 * @group Shared state
 */
export interface FleetMember {
  /** The proxy's `sharedState.proxyId`. */
  readonly id: string;
  /** Its `sharedState.advertise` address, or the addresses it listens on (`host:port`), or its host name. */
  readonly addresses: readonly string[];
  /** When it connected to the fleet (epoch ms). */
  readonly upSince: number;
  /** When it last wrote this row (epoch ms); rows older than `summaryTtl` are gone. */
  readonly updatedAt: number;
  /** Its live proxied connections. */
  readonly connections: number;
  /** Its backends, with its own connection count and state for each. */
  readonly backends: readonly { readonly route: string; readonly id: string; readonly state: BackendState; readonly connections: number }[];
}

/** @internal */
export class FleetTable {
  readonly #link: RedisLink;
  readonly #index: string;
  readonly #rowPrefix: string;
  readonly #proxyId: string;
  readonly #ttl: number;

  constructor(link: RedisLink, prefix: string, proxyId: string, ttl: number) {
    this.#link = link;
    this.#index = `${prefix}proxies`;
    this.#rowPrefix = `${prefix}proxy:`;
    this.#proxyId = proxyId;
    this.#ttl = ttl;
  }

  /** Writes (or refreshes) this proxy's row. */
  async write(row: FleetMember): Promise<void> {
    await this.#link.command
      .multi()
      .set(this.#rowPrefix + this.#proxyId, JSON.stringify(row), 'PX', this.#ttl)
      .zadd(this.#index, row.updatedAt + this.#ttl, this.#proxyId)
      .exec();
  }

  /** Every live proxy's row, sorted by id; expired index entries are removed on the way. */
  async read(): Promise<FleetMember[]> {
    const now = Date.now();
    await this.#link.command.zremrangebyscore(this.#index, '-inf', String(now));
    const list = await this.#link.command.zrange(this.#index, '0', '-1');
    if (list.length === 0) return [];
    const rows = await this.#link.command.mget(list.map((id) => this.#rowPrefix + id));
    const members: FleetMember[] = [];
    for (const text of rows) {
      if (text === null) continue;
      try {
        members.push(JSON.parse(text) as FleetMember);
      } catch {
        // A row another writer garbled: left out, it expires by itself.
      }
    }
    return members.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Removes this proxy's row (it is closing). */
  async remove(): Promise<void> {
    await this.#link.command.multi().del(this.#rowPrefix + this.#proxyId).zrem(this.#index, this.#proxyId).exec();
  }
}
