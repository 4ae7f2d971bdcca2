import type { ConnectionProtocol } from './strategies/strategy';

/**
 * One live proxied connection, as `proxy.connections()` reports it.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * for (const c of proxy.connections()) {
 *   console.log(`${c.client.address}:${c.client.port} -> ${c.backend.id} (${c.protocol}) ${c.bytesIn}/${c.bytesOut}`);
 * }
 * ```
 * @group Events
 */
export interface ConnectionRecord {
  /** Process-unique, increasing id. */
  readonly id: number;
  /** The client's source address and port. */
  readonly client: { readonly address: string; readonly port: number };
  /** The backend the connection was placed on. */
  readonly backend: { readonly id: string };
  /** The route the request matched (`default` for top-level `backends`). */
  readonly route: string;
  /** `websocket` after an upgrade, `http` while a request is in flight. */
  readonly protocol: ConnectionProtocol;
  /** When the entry was made (ms since the epoch). */
  readonly openedAt: number;
  /** Bytes received from the client and sent on to the backend. */
  readonly bytesIn: number;
  /** Bytes received from the backend and sent on to the client. */
  readonly bytesOut: number;
  /** The backend's response status (HTTP), once its head arrived. */
  readonly status?: number;
  /**
   * Which data plane moves the connection's bytes: `native` for a WebSocket the native relay carries
   * after its 101, `js` otherwise (HTTP, handshakes in progress, TLS clients, `dataPlane: 'js'`).
   */
  readonly dataPlane: 'native' | 'js';
}

/**
 * The mutable entry the proxy keeps; `snapshot()` hands out frozen copies.
 * @internal
 */
export interface ConnectionEntry {
  readonly id: number;
  readonly key: string;
  readonly clientAddress: string;
  readonly clientPort: number;
  readonly backendId: string;
  /** The route whose pool the backend belongs to. */
  readonly route: string;
  protocol: ConnectionProtocol;
  readonly openedAt: number;
  bytesIn: number;
  bytesOut: number;
  /** The backend's response status, once known (for access lines). */
  status?: number;
  dataPlane: 'native' | 'js';
  /**
   * While the native relay carries the connection: its live byte counters, read by {@link toRecord} instead
   * of `bytesIn`/`bytesOut` (which hold the final figures once it ends). A field set from the start, not
   * accessors, so the entry keeps V8's fast properties (accessors measured ~760 B more per entry).
   */
  live: { readonly bytesIn: number; readonly bytesOut: number } | undefined;
  /** Gives back the client's per-client limit slot; called once when the entry is removed. */
  release: (() => void) | undefined;
}

/**
 * Formats a client address as the table key: `ip:port`, IPv6 in brackets.
 *
 * @example
 * ```ts
 * import { clientKey } from '@switchboard/proxy';
 * clientKey('::1', 5000); // '[::1]:5000'
 * ```
 */
export function clientKey(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

/**
 * Client source `ip:port` -> connection entry, with per-backend counts.
 * Observed through `proxy.connections()` and `proxy.backends()`.
 *
 * @remarks
 * Every live proxied connection has exactly one entry, added when a backend is
 * chosen (so least-connections sees handshakes in progress) and removed once by
 * the connection's teardown. Counts are kept incrementally so strategies read
 * them in O(1). A second entry for a key still in use (an HTTP request arriving
 * on a socket whose previous entry has not been removed yet) is stored under
 * `ip:port#id`, so no entry ever overwrites another.
 *
 * @internal
 */
export class ConnectionTable {
  readonly #entries = new Map<string, ConnectionEntry>();
  readonly #counts = new Map<string, number>();
  /** Connections other processes of a cluster hold, keyed like `#counts`; added to the local counts by {@link loadFor}. */
  #remote: ReadonlyMap<string, number> | undefined;
  #nextId = 1;
  /** Called after every add and remove (a cluster worker reports its counts from here). */
  onCountChange: (() => void) | undefined;

  /** Number of live entries. */
  get size(): number {
    return this.#entries.size;
  }

  /** Adds an entry and returns it; the caller must `remove()` it exactly once. */
  add(clientAddress: string, clientPort: number, backendId: string, protocol: ConnectionProtocol, route = DEFAULT_ROUTE): ConnectionEntry {
    const id = this.#nextId++;
    let key = clientKey(clientAddress, clientPort);
    if (this.#entries.has(key)) key = `${key}#${id}`;
    const entry: ConnectionEntry = {
      id,
      key,
      clientAddress,
      clientPort,
      backendId,
      route,
      protocol,
      openedAt: Date.now(),
      bytesIn: 0,
      bytesOut: 0,
      dataPlane: 'js',
      live: undefined,
      release: undefined,
    };
    this.#entries.set(key, entry);
    const counted = countKey(backendId, route);
    this.#counts.set(counted, (this.#counts.get(counted) ?? 0) + 1);
    this.onCountChange?.();
    return entry;
  }

  /** Removes the entry; returns false (and changes nothing) if it was already removed. */
  remove(entry: ConnectionEntry): boolean {
    if (this.#entries.get(entry.key) !== entry) return false;
    this.#entries.delete(entry.key);
    const counted = countKey(entry.backendId, entry.route);
    const left = (this.#counts.get(counted) ?? 1) - 1;
    if (left === 0) this.#counts.delete(counted);
    else this.#counts.set(counted, left);
    this.onCountChange?.();
    return true;
  }

  /** Live connections on one backend of one route (two routes may name the same backend: each counts its own). */
  countFor(backendId: string, route = DEFAULT_ROUTE): number {
    return this.#counts.get(countKey(backendId, route)) ?? 0;
  }

  /**
   * What strategies and limits read: this process's live connections on a backend plus those other
   * cluster workers last reported (see {@link setRemoteCounts}); equal to {@link countFor} outside a cluster.
   */
  loadFor(backendId: string, route = DEFAULT_ROUTE): number {
    const local = this.#counts.get(countKey(backendId, route)) ?? 0;
    return this.#remote === undefined ? local : local + (this.#remote.get(countKey(backendId, route)) ?? 0);
  }

  /** This process's per-backend counts (keys opaque: pass them back through {@link setRemoteCounts}). */
  localCounts(): ReadonlyMap<string, number> {
    return this.#counts;
  }

  /** Sets the other workers' counts, keyed as {@link localCounts} keys them. */
  setRemoteCounts(counts: ReadonlyMap<string, number>): void {
    this.#remote = counts;
  }

  /** The entry for a client `ip:port`, if any. */
  get(clientAddress: string, clientPort: number): ConnectionEntry | undefined {
    return this.#entries.get(clientKey(clientAddress, clientPort));
  }

  /** Every live entry (live objects; internal use). */
  entries(): IterableIterator<ConnectionEntry> {
    return this.#entries.values();
  }

  /** Frozen copies of every entry, for `proxy.connections()`. */
  snapshot(): ConnectionRecord[] {
    const out: ConnectionRecord[] = [];
    for (const e of this.#entries.values()) out.push(toRecord(e));
    return out;
  }
}

/**
 * The id of the route top-level `backends` make.
 * @internal
 */
export const DEFAULT_ROUTE = 'default';

/** Counts are per route and backend: ids are unique within a route only. */
function countKey(backendId: string, route: string): string {
  return route === DEFAULT_ROUTE ? backendId : `${route}\n${backendId}`;
}

/**
 * The context an error about this connection carries (never sent to clients).
 * @internal
 */
export function entryContext(e: ConnectionEntry): { backendId: string; clientAddress: string; connectionId: number } {
  return { backendId: e.backendId, clientAddress: clientKey(e.clientAddress, e.clientPort), connectionId: e.id };
}

/**
 * A frozen public copy of an entry.
 * @internal
 */
export function toRecord(e: ConnectionEntry): ConnectionRecord {
  const bytes = e.live ?? e;
  return Object.freeze({
    id: e.id,
    client: Object.freeze({ address: e.clientAddress, port: e.clientPort }),
    backend: Object.freeze({ id: e.backendId }),
    route: e.route,
    protocol: e.protocol,
    openedAt: e.openedAt,
    bytesIn: bytes.bytesIn,
    bytesOut: bytes.bytesOut,
    dataPlane: e.dataPlane,
    ...(e.status !== undefined && { status: e.status }),
  });
}
