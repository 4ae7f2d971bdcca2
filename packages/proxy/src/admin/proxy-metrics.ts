import type { BackendSnapshot } from '../backends/backend-pool';
import { toRecord, type ConnectionEntry, type ConnectionTable } from '../connection-table';
import type { Proxy } from '../create-proxy';
import type { SwitchboardError } from '../errors';
import type { BackendState, ConnectionProtocol } from '../strategies/strategy';
import { channels } from './diagnostics';
import { CounterFamily, HistogramFamily, type Family, type Sample } from './metric-families';
import { routeLabel } from './route-label';

const PROTOCOLS: readonly ConnectionProtocol[] = ['http', 'websocket'];
const STATES: readonly BackendState[] = ['up', 'down', 'draining'];

function statusClass(status: number): string {
  return status >= 100 && status < 600 ? `${Math.floor(status / 100)}xx` : 'other';
}

/** Counter cells of one backend, resolved once so a connection's open and close are a Map lookup and two additions. */
interface BackendCells {
  readonly opened: Record<ConnectionProtocol, { value: number }>;
  readonly closedNormally: Record<ConnectionProtocol, { value: number }>;
  readonly bytesIn: { value: number };
  readonly bytesOut: { value: number };
  readonly status: Map<number, { value: number }>;
  readonly upstream: (seconds: number) => void;
  readonly handshake: (seconds: number) => void;
}

/**
 * What the HTTP and WebSocket paths report beyond opens and closes; one call per request or
 * handshake, never per message.
 * @internal
 */
export interface ProxyObserver {
  /** An HTTP answer went out: the backend's (`openedAt` set: its latency is observed) or the proxy's own error. */
  httpResponse(backendId: string | undefined, status: number, openedAt: number | undefined): void;
  /** A WebSocket's 101 was relayed to the client. */
  handshake(backendId: string, openedAt: number): void;
  /** A failed attempt on `backendId` is retried elsewhere. */
  retry(backendId: string, protocol: ConnectionProtocol): void;
}

/** Hands each route the observer its connections report to, with the route's label bound. @internal */
export interface RouteObservers {
  forRoute(route: string): ProxyObserver;
}

/**
 * The proxy's metrics and diagnostics events. Counters move on events (a connection opened or
 * closed, a request answered); gauges and byte totals of live connections are read from the
 * connection table when scraped, so they agree with `connections()` and `backends()` at every scrape.
 * @internal
 */
export class ProxyMetrics implements RouteObservers {
  readonly #proxy: Proxy;
  readonly #table: ConnectionTable;
  readonly #backends: () => BackendSnapshot[];
  readonly #opened = new CounterFamily('switchboard_connections_opened_total', 'Connections placed on a backend (an HTTP request or a WebSocket).', ['route', 'backend', 'protocol']);
  readonly #closed = new CounterFamily('switchboard_connections_closed_total', 'Connections whose table entry was removed; reason is the error code, or "normal".', ['route', 'backend', 'protocol', 'reason']);
  /** Bytes of connections already closed; live ones are added from the table at scrape time. */
  readonly #closedBytes = new CounterFamily('switchboard_bytes_total', 'Bytes relayed: in = client to backend, out = backend to client.', ['route', 'backend', 'direction']);
  readonly #http = new CounterFamily('switchboard_http_requests_total', 'HTTP requests answered, by status class (the proxy\'s own error answers have backend="").', ['route', 'backend', 'status_class']);
  readonly #retries = new CounterFamily('switchboard_retries_total', 'Failed attempts retried on another backend, by the backend that failed.', ['route', 'backend', 'protocol']);
  readonly #ejections = new CounterFamily('switchboard_ejections_total', 'Outlier ejections of a backend.', ['route', 'backend']);
  readonly #errors = new CounterFamily('switchboard_errors_total', 'Errors reported (the error event), by code.', ['code']);
  readonly #handshake = new HistogramFamily('switchboard_websocket_handshake_seconds', 'Time from placing a WebSocket upgrade to relaying the backend\'s 101.', ['route', 'backend']);
  readonly #upstream = new HistogramFamily('switchboard_upstream_latency_seconds', 'Time from placing an HTTP request to its backend\'s response head.', ['route', 'backend']);

  readonly #cells = new Map<string, Map<string, BackendCells>>();
  /** Per route, status-class cells of the proxy's own answers made before any backend was picked. */
  readonly #unplaced = new Map<string, Map<number, { value: number }>>();

  #unplacedOf(route: string): Map<number, { value: number }> {
    let cells = this.#unplaced.get(route);
    if (cells === undefined) this.#unplaced.set(route, (cells = new Map()));
    return cells;
  }

  constructor(proxy: Proxy, table: ConnectionTable, backends: () => BackendSnapshot[]) {
    this.#proxy = proxy;
    this.#table = table;
    this.#backends = backends;
  }

  #cellsOf(route: string, backendId: string): BackendCells {
    // Two lookups by the strings the entry already holds: no key is built per connection.
    let byBackend = this.#cells.get(route);
    if (byBackend === undefined) this.#cells.set(route, (byBackend = new Map()));
    let cells = byBackend.get(backendId);
    if (cells === undefined) {
      cells = {
        opened: { http: this.#opened.cell([route, backendId, 'http']), websocket: this.#opened.cell([route, backendId, 'websocket']) },
        closedNormally: { http: this.#closed.cell([route, backendId, 'http', 'normal']), websocket: this.#closed.cell([route, backendId, 'websocket', 'normal']) },
        bytesIn: this.#closedBytes.cell([route, backendId, 'in']),
        bytesOut: this.#closedBytes.cell([route, backendId, 'out']),
        status: new Map(),
        upstream: this.#upstream.series([route, backendId]),
        handshake: this.#handshake.series([route, backendId]),
      };
      byBackend.set(backendId, cells);
    }
    return cells;
  }

  opened(entry: ConnectionEntry): void {
    const route = routeLabel(entry);
    this.#cellsOf(route, entry.backendId).opened[entry.protocol].value++;
    if (channels.connectionOpen.hasSubscribers) channels.connectionOpen.publish({ proxy: this.#proxy, route, connection: toRecord(entry) });
  }

  closed(entry: ConnectionEntry, reason: SwitchboardError | undefined): void {
    const route = routeLabel(entry);
    const cells = this.#cellsOf(route, entry.backendId);
    if (reason === undefined) cells.closedNormally[entry.protocol].value++;
    else this.#closed.inc([route, entry.backendId, entry.protocol, reason.code]);
    cells.bytesIn.value += entry.bytesIn;
    cells.bytesOut.value += entry.bytesOut;
    if (channels.connectionClose.hasSubscribers) channels.connectionClose.publish({ proxy: this.#proxy, route, connection: toRecord(entry), reason });
  }

  error(err: SwitchboardError): void {
    this.#errors.inc([err.code]);
    if (channels.error.hasSubscribers) channels.error.publish({ proxy: this.#proxy, error: err });
  }

  stateChanged(backend: BackendSnapshot, previous: BackendState, reason: string): void {
    if (channels.backendState.hasSubscribers) channels.backendState.publish({ proxy: this.#proxy, backend, previous, reason });
  }

  ejected(route: string, backendId: string): void {
    this.#ejections.inc([route, backendId]);
  }

  forRoute(route: string): ProxyObserver {
    return {
      httpResponse: (backendId, status, openedAt) => this.#httpResponse(route, backendId, status, openedAt),
      handshake: (backendId, openedAt) => this.#handshakeDone(route, backendId, openedAt),
      retry: (backendId, protocol) => this.#retry(route, backendId, protocol),
    };
  }

  #httpResponse(route: string, backendId: string | undefined, status: number, openedAt: number | undefined): void {
    const cells = backendId === undefined ? undefined : this.#cellsOf(route, backendId);
    const byStatus = cells?.status ?? this.#unplacedOf(route);
    const klass = Math.floor(status / 100);
    let cell = byStatus.get(klass);
    if (cell === undefined) byStatus.set(klass, (cell = this.#http.cell([route, backendId ?? '', statusClass(status)])));
    cell.value++;
    const durationMs = openedAt === undefined ? undefined : Date.now() - openedAt;
    if (durationMs !== undefined && cells !== undefined) cells.upstream(durationMs / 1000);
    if (channels.httpResponse.hasSubscribers) channels.httpResponse.publish({ proxy: this.#proxy, route, backendId, status, durationMs });
  }

  #handshakeDone(route: string, backendId: string, openedAt: number): void {
    const durationMs = Date.now() - openedAt;
    this.#cellsOf(route, backendId).handshake(durationMs / 1000);
    if (channels.websocketHandshake.hasSubscribers) channels.websocketHandshake.publish({ proxy: this.#proxy, route, backendId, durationMs });
  }

  #retry(route: string, backendId: string, protocol: ConnectionProtocol): void {
    this.#retries.inc([route, backendId, protocol]);
    if (channels.retry.hasSubscribers) channels.retry.publish({ proxy: this.#proxy, route, backendId, protocol });
  }

  /** Every family, gauges computed from the table and pool now. */
  scrape(): Family[] {
    const backends = this.#backends();
    const live = new Map<string, number>();
    const liveBytes = new Map<string, { in: number; out: number }>();
    for (const b of backends) for (const p of PROTOCOLS) live.set(`${routeLabel(b)}\u0000${b.id}\u0000${p}`, 0);
    for (const e of this.#table.entries()) {
      const key = `${routeLabel(e)}\u0000${e.backendId}`;
      live.set(`${key}\u0000${e.protocol}`, (live.get(`${key}\u0000${e.protocol}`) ?? 0) + 1);
      const bytes = liveBytes.get(key) ?? { in: 0, out: 0 };
      // A natively relayed WebSocket keeps its running counts in `live` until it ends.
      const counted = e.live ?? e;
      bytes.in += counted.bytesIn;
      bytes.out += counted.bytesOut;
      liveBytes.set(key, bytes);
    }
    const connections: Sample[] = [];
    for (const [key, value] of live) {
      const [route, backend, protocol] = key.split('\u0000') as [string, string, string];
      connections.push({ labels: { route, backend, protocol }, value });
    }
    const bytesKeys = new Set([...backends.map((b) => `${routeLabel(b)}\u0000${b.id}`), ...liveBytes.keys(), ...this.#closedBytes.samples().map((s) => `${s.labels['route']!}\u0000${s.labels['backend']!}`)]);
    const bytes: Sample[] = [];
    for (const key of bytesKeys) {
      const [route, backend] = key.split('\u0000') as [string, string];
      for (const direction of ['in', 'out'] as const) {
        bytes.push({ labels: { route, backend, direction }, value: this.#closedBytes.get([route, backend, direction]) + (liveBytes.get(key)?.[direction] ?? 0) });
      }
    }
    const labelsOf = (b: BackendSnapshot): { route: string; backend: string } => ({ route: routeLabel(b), backend: b.id });
    return [
      { name: 'switchboard_connections', help: 'Live connections in the connection table.', type: 'gauge', samples: connections },
      this.#opened.family(),
      this.#closed.family(),
      { name: this.#closedBytes.name, help: this.#closedBytes.help, type: 'counter', samples: bytes },
      this.#http.family(),
      { name: 'switchboard_backend_up', help: 'Whether a backend takes new connections: 1 when its state is up, else 0.', type: 'gauge', samples: backends.map((b) => ({ labels: labelsOf(b), value: b.state === 'up' ? 1 : 0 })) },
      { name: 'switchboard_backend_state', help: 'A backend\'s state, one series per state set to 1 for the current one.', type: 'gauge', samples: backends.flatMap((b) => STATES.map((state) => ({ labels: { ...labelsOf(b), state }, value: b.state === state ? 1 : 0 }))) },
      { name: 'switchboard_backend_weight', help: 'A backend\'s weight.', type: 'gauge', samples: backends.map((b) => ({ labels: labelsOf(b), value: b.weight })) },
      this.#ejections.family(),
      this.#retries.family(),
      this.#errors.family(),
      this.#handshake.family(),
      this.#upstream.family(),
    ];
  }
}
