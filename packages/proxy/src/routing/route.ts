/**
 * One route at run time: its backend pool, strategy, health checker, HTTP
 * dispatchers and live connections, and the {@link ProxyContext} its
 * requests and upgrades run with.
 * @internal
 */
import type { DataPlane } from '../native/data-plane';
import type { IncomingMessage } from 'node:http';
import type { Backend } from '../backends/backend-pool';
import { BackendPool } from '../backends/backend-pool';
import { HealthChecker } from '../backends/health';
import { placeConnection } from '../backends/placement';
import type { SourceAddressPool } from '../backends/source-addresses';
import type { ConnectionEntry, ConnectionTable } from '../connection-table';
import type { LiveConnection, Opened, ProxyContext } from '../context';
import type { RouteObservers } from '../admin/proxy-metrics';
import type { EdgeGuard } from '../edge/edge-guard';
import type { SwitchboardError } from '../errors';
import type { HiddenHeaders } from '../http/header-policy';
import { BackendDispatchers } from '../http/http-forward';
import type { ResolvedOptions } from '../resolve-options';
import type { BackendState, ConnectionProtocol } from '../strategies/strategy';
import type { ResolvedRoute } from './resolve-routes';
import type { HookOptions } from './hook-options';

/**
 * What every route shares with the proxy that owns it.
 * @internal
 */
export interface RouteHost {
  readonly table: ConnectionTable;
  readonly edge: EdgeGuard;
  readonly sources: SourceAddressPool;
  readonly hidden: HiddenHeaders;
  /** Where WebSockets go after their 101, shared by every route: one relay thread per proxy. */
  readonly dataPlane: DataPlane;
  isClosing(): boolean;
  reportError(err: SwitchboardError): void;
  /** A connection got its table entry. */
  opened(entry: ConnectionEntry): void;
  /** A connection's entry was removed (`entry` undefined when it had none); wakes drain and close waiters. */
  finished(entry: ConnectionEntry | undefined, reason: SwitchboardError | undefined): void;
  /** The health checker changed a backend's state. */
  healthChanged(route: Route, id: string, state: BackendState, reason: string): void;
  panicChanged(route: Route, panic: boolean, healthy: number, total: number): void;
  /** Metrics and diagnostics of answers, handshakes and retries, per route. */
  readonly observers: RouteObservers;
}

/** @internal */
export class Route {
  readonly id: string;
  readonly spec: ResolvedRoute;
  readonly options: ResolvedOptions;
  readonly pool: BackendPool;
  readonly health: HealthChecker | undefined;
  readonly live = new Set<LiveConnection>();
  readonly ctx: ProxyContext;
  readonly dispatchers: BackendDispatchers;
  readonly #host: RouteHost;
  /** The embedder's onResponse hook, handed to each request's plan. */
  readonly onResponse: HookOptions['onResponse'];

  constructor(spec: ResolvedRoute, host: RouteHost, onResponse?: HookOptions['onResponse']) {
    this.id = spec.id;
    this.onResponse = onResponse;
    this.spec = spec;
    this.#host = host;
    const options = (this.options = spec.options);
    const pool = (this.pool = new BackendPool(options.backends, host.table, options.panicThreshold, spec.id));
    pool.onPanicChange = (panic, healthy, total) => host.panicChanged(this, panic, healthy, total);
    const strategy = options.strategy;
    pool.onChange = (all) => strategy.update?.(all);
    pool.onLoadChange = (all) => strategy.onLoadChange?.(all);
    strategy.update?.(pool.all());
    this.ctx = {
      options,
      pool,
      table: host.table,
      responsePolicy: { hidden: host.hidden, server: options.server, backendHosts: options.rewriteLocation ? pool.hosts : undefined },
      live: this.live,
      sources: host.sources,
      edge: host.edge,
      dataPlane: host.dataPlane,
      isClosing: () => host.isClosing(),
      open: (req, protocol, exclude) => this.#open(req, protocol, exclude),
      finish: (backend, entry, reason) => this.#finish(backend, entry, reason),
      reportError: (err) => host.reportError(err),
      backendFailed: (backend, kind) => this.health?.reportFailure(backend.id, kind),
      backendSucceeded: (backend) => this.health?.reportSuccess(backend.id),
      observer: host.observers.forRoute(spec.id),
    };
    this.dispatchers = new BackendDispatchers(this.ctx);
    const { healthCheck, outlierDetection } = options;
    if (healthCheck !== false || outlierDetection !== false) {
      const health = new HealthChecker({ active: healthCheck, outlier: outlierDetection });
      health.on('change', (id, state, reason) => host.healthChanged(this, id, state, reason));
      for (const b of pool.all()) health.add(b);
      this.health = health;
    }
  }

  #open(req: IncomingMessage, protocol: ConnectionProtocol, exclude?: ReadonlySet<string>): Opened | SwitchboardError {
    const placed = placeConnection({ options: this.options, pool: this.pool, table: this.#host.table, edge: this.#host.edge }, req, protocol, exclude);
    if ('entry' in placed) this.#host.opened(placed.entry);
    return placed;
  }

  #finish(backend: Backend | undefined, entry: ConnectionEntry | undefined, reason: SwitchboardError | undefined): void {
    let removed: ConnectionEntry | undefined;
    if (entry !== undefined && this.#host.table.remove(entry)) {
      entry.release?.();
      entry.release = undefined;
      if (backend !== undefined) this.options.strategy.onConnectionClose?.(backend);
      removed = entry;
    }
    this.#host.finished(removed, reason);
  }

  /** Stops health checks and closes the HTTP dispatchers. */
  async close(graceful: boolean): Promise<void> {
    await this.health?.close();
    await this.dispatchers.close(graceful);
  }
}
