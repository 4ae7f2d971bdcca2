/**
 * What a cluster worker needs from its proxy beyond the public API: the connection table (to report
 * and receive per-backend counts), the route pools (to tell strategies that loads moved) and the
 * metric families (so the primary can add them up without parsing text). Kept in a WeakMap rather than
 * on the Proxy so the public class gains no member.
 * @internal
 * @module
 */
import type { BackendPool } from './backends/backend-pool';
import type { ConnectionTable } from './connection-table';
import type { Family } from './admin/metric-families';

/** @internal */
export interface ProxyInternals {
  readonly table: ConnectionTable;
  pools(): readonly BackendPool[];
  scrape(): Family[];
  /**
   * Closes the listeners `listen()` opened without closing the proxy: a retiring worker stops taking
   * connections but still serves those node:cluster already handed it (see cluster/worker.ts).
   */
  stopAccepting(): Promise<void>;
}

const internals = new WeakMap<object, ProxyInternals>();

/** Called once by the Proxy constructor. @internal */
export function linkInternals(proxy: object, value: ProxyInternals): void {
  internals.set(proxy, value);
}

/** The internals of a proxy made by createProxy(). @internal */
export function internalsOf(proxy: object): ProxyInternals {
  const found = internals.get(proxy);
  if (found === undefined) throw new TypeError('not a proxy made by createProxy()');
  return found;
}
