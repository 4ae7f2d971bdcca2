import type { ConnectionTable } from './connection-table';
import { hostKey } from './header-policy';
import type { ResolvedBackendSpec } from './resolve-options';
import type { BackendState, BackendView } from './strategies/strategy';

/**
 * A frozen copy of one backend's state, as `proxy.backends()` returns it.
 *
 * @example
 * ```ts
 * import { createProxy, type BackendSnapshot } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * const [first]: BackendSnapshot[] = proxy.backends();
 * console.log(first?.id, first?.activeConnections); // 127.0.0.1:9001 0
 * ```
 */
export interface BackendSnapshot {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly state: BackendState;
  readonly activeConnections: number;
  readonly maxConnections: number;
}

/**
 * One backend: a live {@link BackendView} whose connection count is read from the table.
 * @internal
 */
export class Backend implements BackendView {
  readonly id: string;
  readonly url: string;
  /** Where to connect. */
  readonly target: URL;
  /** True for https:/wss: backends. */
  readonly secure: boolean;
  weight: number;
  state: BackendState = 'up';
  maxConnections: number;
  readonly #table: ConnectionTable;

  constructor(spec: ResolvedBackendSpec, table: ConnectionTable) {
    this.id = spec.id;
    this.target = spec.url;
    this.url = spec.url.href;
    this.secure = spec.url.protocol === 'https:' || spec.url.protocol === 'wss:';
    this.weight = spec.weight;
    this.maxConnections = spec.maxConnections;
    this.#table = table;
  }

  get activeConnections(): number {
    return this.#table.countFor(this.id);
  }

  /** Host and port to open a TCP connection to. */
  get host(): string {
    const h = this.target.hostname;
    return h.startsWith('[') ? h.slice(1, -1) : h;
  }

  get port(): number {
    return Number(this.target.port) || (this.secure ? 443 : 80);
  }

  snapshot(): BackendSnapshot {
    return Object.freeze({
      id: this.id,
      url: this.url,
      weight: this.weight,
      state: this.state,
      activeConnections: this.activeConnections,
      maxConnections: this.maxConnections,
    });
  }
}

/**
 * The set of backends and which of them may take a new connection.
 *
 * @remarks
 * The candidate list is cached while no backend has a connection limit (the
 * common case), so a pick allocates nothing; with limits it is rebuilt per pick
 * because counts change with every connection.
 * @internal
 */
export class BackendPool {
  readonly #table: ConnectionTable;
  #all: Backend[] = [];
  #byId = new Map<string, Backend>();
  #cached: Backend[] | undefined;
  #anyLimit = false;
  /** Lowercase `host:port` of every backend ever configured, for Location rewriting. */
  readonly hosts = new Set<string>();
  /** Called after membership, weight or state changes. */
  onChange: ((all: readonly Backend[]) => void) | undefined;

  constructor(specs: readonly ResolvedBackendSpec[], table: ConnectionTable) {
    this.#table = table;
    for (const spec of specs) this.#insert(new Backend(spec, table));
    this.#changed();
  }

  #insert(backend: Backend): void {
    this.#all.push(backend);
    this.#byId.set(backend.id, backend);
  }

  #changed(): void {
    this.#cached = undefined;
    this.#anyLimit = this.#all.some((b) => Number.isFinite(b.maxConnections));
    // Hosts are never forgotten: a connection still open on a removed backend must not leak its address.
    for (const b of this.#all) this.hosts.add(hostKey(b.target));
    this.onChange?.(this.#all);
  }

  /** Adds a backend; the caller has checked that its id is new. */
  add(spec: ResolvedBackendSpec): Backend {
    const backend = new Backend(spec, this.#table);
    this.#insert(backend);
    this.#changed();
    return backend;
  }

  /** Forgets a backend; live connections on it keep their own reference. */
  remove(id: string): Backend | undefined {
    const backend = this.#byId.get(id);
    if (backend === undefined) return undefined;
    this.#byId.delete(id);
    this.#all = this.#all.filter((b) => b !== backend);
    this.#changed();
    return backend;
  }

  setWeight(id: string, weight: number): boolean {
    const b = this.#byId.get(id);
    if (b === undefined) return false;
    b.weight = weight;
    this.#changed();
    return true;
  }

  get(id: string): Backend | undefined {
    return this.#byId.get(id);
  }

  all(): readonly Backend[] {
    return this.#all;
  }

  /** Backends that may take a new connection now, in configured order. */
  candidates(): readonly Backend[] {
    if (!this.#anyLimit && this.#cached !== undefined) return this.#cached;
    const out: Backend[] = [];
    for (const b of this.#all) {
      if (b.state === 'up' && this.#table.countFor(b.id) < b.maxConnections) out.push(b);
    }
    if (!this.#anyLimit) this.#cached = out;
    return out;
  }

  /** Changes a backend's state; returns false when it was already in that state. */
  setState(id: string, state: BackendState): boolean {
    const b = this.#byId.get(id);
    if (b === undefined || b.state === state) return false;
    b.state = state;
    this.#changed();
    return true;
  }
}
