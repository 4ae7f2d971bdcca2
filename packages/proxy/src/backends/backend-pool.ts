import { DEFAULT_ROUTE, type ConnectionTable } from '../connection-table';
import { hostKey } from '../http/header-policy';
import type { ResolvedBackendSpec } from '../resolve-options';
import type { BackendState, BackendView } from '../strategies/strategy';

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
 * @group Events
 */
export interface BackendSnapshot {
  readonly id: string;
  readonly url: string;
  readonly weight: number;
  readonly state: BackendState;
  readonly activeConnections: number;
  readonly maxConnections: number;
  /** The route whose pool holds this backend (`default` for top-level `backends`). */
  readonly route: string;
}

/**
 * Whether a pool is in panic mode: fewer than `panicThreshold` percent of the backends that may take
 * traffic (all but the draining ones) are healthy. Envoy's healthy panic threshold.
 *
 * @remarks
 * When most backends look down, the checks are as likely to be wrong (a probe path that broke, a
 * shared dependency, ejections caused by clients) as the backends, and the few healthy ones would
 * take all the load and fall in turn. Spreading over every backend serves whatever still answers
 * instead of answering 503 to everyone. A pool with no such backend at all (every one draining) is
 * not in panic: draining means "send nothing".
 *
 * @example
 * ```ts
 * import { isPanic } from './backend-pool';
 * console.log(isPanic(1, 2, 50), isPanic(1, 3, 50), isPanic(0, 1, 0)); // false true false
 * ```
 * @internal
 */
export function isPanic(healthy: number, eligible: number, panicThreshold: number): boolean {
  return eligible > 0 && healthy * 100 < panicThreshold * eligible;
}

/**
 * One backend: a live {@link BackendView} whose connection count is read from the table.
 *
 * @remarks
 * `current` is the state health checks, drain and undrain set, the one `proxy.backends()` and the
 * events report. `state`, what strategies and placement read, is the same except in panic mode,
 * where a `down` backend takes connections like an `up` one.
 * @internal
 */
export class Backend implements BackendView {
  readonly id: string;
  readonly url: string;
  /** Where to connect. */
  readonly target: URL;
  /** True for https:/wss: backends. */
  readonly secure: boolean;
  /** The route whose pool holds this backend. */
  readonly route: string;
  weight: number;
  current: BackendState = 'up';
  maxConnections: number;
  readonly #table: ConnectionTable;
  readonly #panic: { readonly active: boolean };

  constructor(spec: ResolvedBackendSpec, table: ConnectionTable, panic: { readonly active: boolean }, route = DEFAULT_ROUTE) {
    this.id = spec.id;
    this.route = route;
    this.target = spec.url;
    this.url = spec.url.href;
    this.secure = spec.url.protocol === 'https:' || spec.url.protocol === 'wss:';
    this.weight = spec.weight;
    this.maxConnections = spec.maxConnections;
    this.#table = table;
    this.#panic = panic;
  }

  get state(): BackendState {
    return this.current === 'down' && this.#panic.active ? 'up' : this.current;
  }

  /** What strategies read: in a cluster worker, the machine-wide count (see `ConnectionTable.loadFor`). */
  get activeConnections(): number {
    return this.#table.loadFor(this.id, this.route);
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
      state: this.current,
      // This process's own connections: a cluster primary sums the workers' snapshots.
      activeConnections: this.#table.countFor(this.id, this.route),
      maxConnections: this.maxConnections,
      route: this.route,
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
  /** Called when the loads other cluster workers hold changed, for strategies that order by load. */
  onLoadChange: ((all: readonly Backend[]) => void) | undefined;
  /** Called after `onChange` when panic mode begins or ends, with the counts that decided it. */
  onPanicChange: ((panic: boolean, healthy: number, eligible: number) => void) | undefined;
  /** Shared with every backend, which reads it for its effective state. */
  readonly #panic = { active: false };
  readonly #panicThreshold: number;
  /** The route this pool serves. */
  readonly route: string;

  constructor(specs: readonly ResolvedBackendSpec[], table: ConnectionTable, panicThreshold = 0, route = DEFAULT_ROUTE) {
    this.#table = table;
    this.#panicThreshold = panicThreshold;
    this.route = route;
    for (const spec of specs) this.#insert(new Backend(spec, table, this.#panic, route));
    this.#changed();
  }

  /** True while fewer than `panicThreshold` percent of the non-draining backends are up. */
  get panic(): boolean {
    return this.#panic.active;
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
    let healthy = 0;
    let eligible = 0;
    for (const b of this.#all) {
      if (b.current === 'draining') continue;
      eligible++;
      if (b.current === 'up') healthy++;
    }
    const panic = isPanic(healthy, eligible, this.#panicThreshold);
    const flipped = panic !== this.#panic.active;
    // Set before onChange, so strategies rebuild their tables from the effective states.
    this.#panic.active = panic;
    this.onChange?.(this.#all);
    if (flipped) this.onPanicChange?.(panic, healthy, eligible);
  }

  /** Adds a backend; the caller has checked that its id is new. */
  add(spec: ResolvedBackendSpec): Backend {
    const backend = new Backend(spec, this.#table, this.#panic, this.route);
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

  /** Backends that may take a new connection now (in panic mode, down ones too), in configured order. */
  candidates(): readonly Backend[] {
    if (!this.#anyLimit && this.#cached !== undefined) return this.#cached;
    const out: Backend[] = [];
    for (const b of this.#all) {
      if (b.state === 'up' && this.#table.loadFor(b.id, this.route) < b.maxConnections) out.push(b);
    }
    if (!this.#anyLimit) this.#cached = out;
    return out;
  }

  /** Tells the strategy that other workers' counts changed (membership and weights did not). */
  loadsChanged(): void {
    this.onLoadChange?.(this.#all);
  }

  /** Changes a backend's state; returns false when it was already in that state. */
  setState(id: string, state: BackendState): boolean {
    const b = this.#byId.get(id);
    if (b === undefined || b.current === state) return false;
    b.current = state;
    this.#changed();
    return true;
  }
}
