import type { BackendSnapshot } from '../backends/backend-pool';
import { clientKey, type ConnectionRecord } from '../connection-table';
import { routeLabel } from './route-label';

/** A backend as the admin API shows it; `url` only to a caller who gave the token. @internal */
export interface BackendView {
  readonly id: string;
  readonly route: string;
  readonly url?: string;
  readonly weight: number;
  readonly state: string;
  readonly activeConnections: number;
  /** null when unlimited (JSON has no Infinity). */
  readonly maxConnections: number | null;
}

/** @internal */
export function backendView(b: BackendSnapshot, showAddress: boolean): BackendView {
  const view = { id: b.id, route: b.route, weight: b.weight, state: b.state, activeConnections: b.activeConnections, maxConnections: Number.isFinite(b.maxConnections) ? b.maxConnections : null };
  return showAddress ? { ...view, url: b.url } : view;
}

/** A connection row as the admin API and the feed show it. @internal */
export interface ConnectionView {
  readonly id: number;
  readonly client: string;
  readonly route: string;
  readonly backend: string;
  readonly protocol: string;
  readonly openedAt: number;
  readonly ageMs: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
}

/** @internal */
export function connectionView(c: ConnectionRecord, now: number): ConnectionView {
  return {
    id: c.id,
    client: clientKey(c.client.address, c.client.port),
    route: routeLabel(c),
    backend: c.backend.id,
    protocol: c.protocol,
    openedAt: c.openedAt,
    ageMs: Math.max(0, now - c.openedAt),
    bytesIn: c.bytesIn,
    bytesOut: c.bytesOut,
  };
}
