import type { BackendView } from './strategy';

/**
 * Whether a backend may take one more connection right now: up and below its
 * connection limit.
 *
 * @remarks
 * The proxy hands `pick()` only such backends, but table-based strategies
 * (hash rings, Maglev, cookie maps) hold references from `update()` and walk
 * them instead of building a set of candidates per pick. Backend views are
 * live, so this reads the current state and count.
 *
 * @internal
 * @example
 * ```ts
 * import { canTakeConnection } from './admission';
 * const b = { id: 'a', url: 'http://127.0.0.1:9001', weight: 1, state: 'up' as const, activeConnections: 3, maxConnections: 4 };
 * console.log(canTakeConnection(b)); // true
 * ```
 */
export function canTakeConnection(backend: BackendView): boolean {
  return backend.state === 'up' && backend.activeConnections < backend.maxConnections;
}
