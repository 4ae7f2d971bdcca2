import type { BackendView, PickContext } from './strategy';

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

/**
 * Whether a backend from a strategy's own table may take this connection: it
 * can take one ({@link canTakeConnection}) and is not in `context.avoid` (a
 * backend that already failed this connection). Exactly the rule by which the
 * proxy builds `candidates`, without building them.
 *
 * @internal
 * @example
 * ```ts
 * import { isCandidate } from './admission';
 * import type { PickContext } from './strategy';
 * declare const ctx: PickContext;
 * const b = { id: 'a', url: 'http://127.0.0.1:9001', weight: 1, state: 'up' as const, activeConnections: 0, maxConnections: 4 };
 * console.log(isCandidate(b, { ...ctx, avoid: new Set(['a']) })); // false
 * ```
 */
export function isCandidate(backend: BackendView, context: PickContext): boolean {
  return canTakeConnection(backend) && (context.avoid === undefined || !context.avoid.has(backend.id));
}
