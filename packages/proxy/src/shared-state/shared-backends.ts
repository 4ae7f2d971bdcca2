/**
 * Runtime backend changes shared by the fleet: membership (add, remove, weight), drains and outlier
 * ejections. Each backend has one record in the hash `<prefix>backends` (the fleet's latest word on
 * it, for proxies that start later or come back) and every change is also published, so the others
 * apply it within a message's latency. Last writer wins, per backend.
 *
 * Active health-check results are not shared: each proxy probes every backend itself, and a proxy
 * cut off from one backend must not take it out for the whole fleet.
 * @internal
 */
import type { BackendSnapshot } from '../backends/backend-pool';
import type { BackendState } from '../strategies/strategy';
import type { RedisLink } from './redis-link';

/** The fleet's word on one backend. @internal */
export interface BackendRecord {
  /** False once it was removed. */
  readonly present: boolean;
  readonly url?: string;
  readonly weight?: number;
  /** Undefined: no limit. */
  readonly maxConnections?: number;
  readonly drained: boolean;
  /** Epoch ms until which it is ejected (0: not ejected). */
  readonly ejectedUntil: number;
  /** The proxy that wrote the record, and when (epoch ms). */
  readonly by: string;
  readonly at: number;
}

/** @internal */
export interface BackendMessage {
  readonly t: 'b';
  readonly from: string;
  readonly route: string;
  readonly id: string;
  readonly rec: BackendRecord;
}

/** What the shared backends need of their proxy. @internal */
export interface BackendHost {
  backend(route: string, id: string): BackendSnapshot | undefined;
  /** Every backend of a route. */
  routeBackends(route: string): readonly BackendSnapshot[];
  add(route: string, spec: { url: string; id: string; weight?: number; maxConnections?: number }): void;
  remove(route: string, id: string): void;
  setWeight(route: string, id: string, weight: number): void;
  drain(route: string, id: string): void;
  undrain(route: string, id: string): void;
  /** Sets the state without the pool's health say (an ejection by another proxy, or its end). */
  setState(route: string, id: string, state: BackendState, reason: string): void;
  /** The proxy's own health state of the backend. */
  healthState(route: string, id: string): BackendState;
}

/** The reason HealthChecker gives an outlier ejection: `ejected for <ms> ms after ...`. */
const EJECTION = /^ejected for (\d+) ms/;

/** @internal */
export class SharedBackends {
  readonly #link: RedisLink;
  readonly #hash: string;
  readonly #proxyId: string;
  readonly #host: BackendHost;
  /** `route\nid` -> epoch ms the ejection ends, for ejections seen here or heard of. */
  readonly #ejections = new Map<string, number>();
  readonly #ejectionTimers = new Map<string, NodeJS.Timeout>();
  /** Backends changed here while Redis was away, published on resync. */
  readonly #dirty = new Map<string, { route: string; id: string }>();
  /** Backends the fleet has a record of (published here or applied from Redis): offered back to a Redis that lost them. */
  readonly #known = new Map<string, { route: string; id: string }>();
  /** True while a change from the fleet is being applied: its events are not published again. */
  #applying = false;

  constructor(link: RedisLink, prefix: string, proxyId: string, host: BackendHost) {
    this.#link = link;
    this.#hash = `${prefix}backends`;
    this.#proxyId = proxyId;
    this.#host = host;
  }

  /** A local change (from the proxy's events): publish it unless it came from the fleet. */
  changed(b: BackendSnapshot, reason?: string): void {
    if (this.#applying) return;
    const key = `${b.route}\n${b.id}`;
    if (reason !== undefined) {
      const ejected = EJECTION.exec(reason);
      if (b.state === 'down' && ejected !== null) this.#ejections.set(key, Date.now() + Number(ejected[1]));
      else if (b.state === 'up' && this.#ejections.has(key)) this.#ejections.delete(key);
      // Other state changes are this proxy's own probes: not shared.
      else if (b.state !== 'draining' && !reason.startsWith('undrain')) return;
    }
    this.#publish(b.route, b.id);
  }

  /** A local removal. */
  removed(b: BackendSnapshot): void {
    if (this.#applying) return;
    this.#ejections.delete(`${b.route}\n${b.id}`);
    this.#publish(b.route, b.id);
  }

  #record(route: string, id: string): BackendRecord {
    const b = this.#host.backend(route, id);
    const at = Date.now();
    if (b === undefined) return { present: false, drained: false, ejectedUntil: 0, by: this.#proxyId, at };
    return {
      present: true,
      url: b.url,
      weight: b.weight,
      ...(Number.isFinite(b.maxConnections) && { maxConnections: b.maxConnections }),
      drained: b.state === 'draining',
      ejectedUntil: this.#ejections.get(`${route}\n${id}`) ?? 0,
      by: this.#proxyId,
      at,
    };
  }

  #publish(route: string, id: string): void {
    this.#known.set(`${route}\n${id}`, { route, id });
    if (!this.#link.usable) {
      this.#dirty.set(`${route}\n${id}`, { route, id });
      return;
    }
    const rec = this.#record(route, id);
    const message: BackendMessage = { t: 'b', from: this.#proxyId, route, id, rec };
    this.#link.command
      .pipeline()
      .hset(this.#hash, `${route}\n${id}`, JSON.stringify(rec))
      .publish(this.#link.channel, JSON.stringify(message))
      .exec()
      .catch(() => this.#dirty.set(`${route}\n${id}`, { route, id }));
  }

  /** A change another proxy published. */
  onMessage(message: BackendMessage): void {
    if (typeof message.route !== 'string' || typeof message.id !== 'string' || typeof message.rec !== 'object' || message.rec === null) return;
    this.#apply(message.route, message.id, message.rec);
  }

  /** Makes the local backend agree with the fleet's record. */
  #apply(route: string, id: string, rec: BackendRecord): void {
    this.#applying = true;
    try {
      const key = `${route}\n${id}`;
      this.#known.set(key, { route, id });
      let local = this.#host.backend(route, id);
      if (rec.present !== true) {
        this.#endEjection(key, route, id, false);
        if (local !== undefined) this.#host.remove(route, id);
        return;
      }
      if (local === undefined) {
        if (typeof rec.url !== 'string') return;
        this.#host.add(route, { url: rec.url, id, ...(rec.weight !== undefined && { weight: rec.weight }), ...(rec.maxConnections !== undefined && { maxConnections: rec.maxConnections }) });
        local = this.#host.backend(route, id);
        if (local === undefined) return;
      } else if (typeof rec.weight === 'number' && rec.weight !== local.weight) {
        this.#host.setWeight(route, id, rec.weight);
      }
      if (rec.drained === true && local.state !== 'draining') this.#host.drain(route, id);
      else if (rec.drained !== true && local.state === 'draining') this.#host.undrain(route, id);
      const until = typeof rec.ejectedUntil === 'number' ? rec.ejectedUntil : 0;
      if (until > Date.now()) this.#eject(key, route, id, until, rec.by);
      else this.#endEjection(key, route, id, true);
    } finally {
      this.#applying = false;
    }
  }

  #eject(key: string, route: string, id: string, until: number, by: string): void {
    this.#ejections.set(key, until);
    clearTimeout(this.#ejectionTimers.get(key));
    const timer = setTimeout(() => {
      this.#applying = true;
      try {
        this.#endEjection(key, route, id, true);
      } finally {
        this.#applying = false;
      }
    }, until - Date.now());
    this.#ejectionTimers.set(key, timer);
    if (this.#host.backend(route, id)?.state !== 'up') return;
    // As for local ejections: never the last healthy backend, whoever asks (two proxies may each eject a different one).
    if (!this.#host.routeBackends(route).some((b) => b.id !== id && b.state === 'up')) return;
    this.#host.setState(route, id, 'down', `ejected by ${by} (shared state) until ${new Date(until).toISOString()}`);
  }

  #endEjection(key: string, route: string, id: string, restore: boolean): void {
    clearTimeout(this.#ejectionTimers.get(key));
    this.#ejectionTimers.delete(key);
    if (!this.#ejections.delete(key) || !restore) return;
    if (this.#host.backend(route, id)?.state === 'down') {
      const state = this.#host.healthState(route, id);
      if (state !== 'down') this.#host.setState(route, id, state, 'ejection ended (shared state)');
    }
  }

  /**
   * After (re)connecting: publishes what changed here while Redis was away, offers this proxy's view
   * of the other backends the fleet knew where Redis has no record (HSETNX: a Redis that restarted
   * empty is refilled, a live one keeps its word), then applies the fleet's records.
   */
  async resync(): Promise<void> {
    const dirty = [...this.#dirty.values()];
    this.#dirty.clear();
    for (const { route, id } of dirty) this.#publish(route, id);
    const mine = new Set(dirty.map(({ route, id }) => `${route}\n${id}`));
    const offers = [...this.#known].filter(([key]) => !mine.has(key));
    if (offers.length > 0) {
      const pipeline = this.#link.command.pipeline();
      for (const [key, { route, id }] of offers) pipeline.hsetnx(this.#hash, key, JSON.stringify(this.#record(route, id)));
      await pipeline.exec();
    }
    const all = await this.#link.command.hgetall(this.#hash);
    for (const [field, text] of Object.entries(all)) {
      if (mine.has(field)) continue;
      const cut = field.indexOf('\n');
      if (cut === -1) continue;
      let rec: BackendRecord;
      try {
        rec = JSON.parse(text) as BackendRecord;
      } catch {
        continue;
      }
      if (typeof rec === 'object' && rec !== null) this.#apply(field.slice(0, cut), field.slice(cut + 1), rec);
    }
  }

  /** Clears the ejection timers. */
  close(): void {
    for (const timer of this.#ejectionTimers.values()) clearTimeout(timer);
    this.#ejectionTimers.clear();
  }
}
