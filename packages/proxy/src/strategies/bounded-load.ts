import { InvalidOptionError } from '../errors';
import type { BackendView } from './strategy';

/**
 * The default bounded-load factor `c`, as Google's paper and HAProxy's
 * `hash-balance-factor 125` suggest.
 *
 * @example
 * ```ts
 * import { DEFAULT_BOUNDED_LOAD_FACTOR } from '@switchboard/proxy';
 * console.log(DEFAULT_BOUNDED_LOAD_FACTOR); // 1.25
 * ```
 * @group Constants
 */
export const DEFAULT_BOUNDED_LOAD_FACTOR = 1.25;

/**
 * Consistent hashing with bounded loads (Mirrokni, Thorup, Zadimoghaddam,
 * 2016): an option of {@link IpHashStrategy} and {@link HashStrategy}.
 *
 * @remarks
 * A popular key (a big tenant, a NAT gateway sharing one IP) can pile
 * connections on one backend. With a bound, a backend takes a new connection
 * only while its live connections, counting the new one, stay at or below
 * `ceil(factor x average)` (the average per unit of weight over the up
 * backends, counting the new connection). Otherwise the key walks on to the
 * next backend in its ring order, the same in every proxy, so overflow is
 * still deterministic. `factor` trades balance (1) against stickiness (large).
 *
 * The totals come from `onConnectionOpen` / `onConnectionClose` (recounted on
 * every `update()`), so the check costs O(1) per backend tried. The bound is
 * checked when a connection is placed; connections are never moved, so after
 * many others close while one backend keeps its clients, that backend can sit
 * above the bound until its clients leave.
 *
 * @example
 * ```ts
 * import { IpHashStrategy, type BoundedLoadOptions } from '@switchboard/proxy';
 * const boundedLoad: BoundedLoadOptions = { factor: 1.25 };
 * const strategy = new IpHashStrategy({ hash: 'maglev', boundedLoad });
 * ```
 * @group Strategies
 */
export interface BoundedLoadOptions {
  /**
   * The `c` in "no backend above c x average".
   * @defaultValue {@link DEFAULT_BOUNDED_LOAD_FACTOR} (1.25)
   * @remarks At least 1. 1 forces perfect balance and moves many keys; the
   * paper shows the expected number of moves per change is O(1/(c-1)^2).
   */
  readonly factor?: number;
}

/**
 * Rounding slack: `factor x total x weight / totalWeight` computed in floats
 * can land a hair above an integer (2.0000000000000004), and ceil() would then
 * allow one connection too many.
 */
const CEIL_EPSILON = 1e-9;

/**
 * The per-pick admission rule of bounded load.
 *
 * @internal
 * @example
 * ```ts
 * import { LoadBound } from './bounded-load';
 * const bound = new LoadBound({ factor: 1.25 });
 * ```
 */
export class LoadBound {
  readonly factor: number;
  #total = 0;
  #totalWeight = 0;

  constructor(options: BoundedLoadOptions) {
    const factor = options.factor ?? DEFAULT_BOUNDED_LOAD_FACTOR;
    if (typeof factor !== 'number' || !Number.isFinite(factor) || factor < 1) {
      throw new InvalidOptionError(`boundedLoad.factor must be a finite number >= 1, got ${String(factor)}`);
    }
    this.factor = factor;
  }

  /**
   * Recounts the live connections and weight of the up backends. Call from
   * `update()`, i.e. after every change of membership, state or weight.
   */
  reset(backends: readonly BackendView[]): void {
    let total = 0;
    let totalWeight = 0;
    for (const backend of backends) {
      if (backend.state !== 'up') continue;
      total += backend.activeConnections;
      totalWeight += backend.weight;
    }
    this.#total = total;
    this.#totalWeight = totalWeight;
  }

  /**
   * Counts a connection opened on `backend` (from `onConnectionOpen`).
   *
   * @remarks Keeping the total from the hooks, as HAProxy keeps `served` from
   * take_conn/drop_conn, makes a pick O(1) instead of a sum over every backend.
   * Connections of a backend that is not up are not in the average.
   */
  opened(backend: BackendView): void {
    if (backend.state === 'up') this.#total++;
  }

  /** Uncounts a connection closed on `backend` (from `onConnectionClose`). */
  closed(backend: BackendView): void {
    if (backend.state === 'up' && this.#total > 0) this.#total--;
  }

  /** Whether `backend` stays within the bound when it takes the new connection. */
  allows(backend: BackendView): boolean {
    if (this.#totalWeight <= 0) return true;
    return backend.activeConnections + 1 <= capacity(this.factor, this.#total + 1, backend.weight, this.#totalWeight);
  }
}

/**
 * The most connections a backend may hold under bounded load:
 * `ceil(factor x total x weight / totalWeight)`.
 *
 * @internal
 * @example
 * ```ts
 * import { capacity } from './bounded-load';
 * console.log(capacity(1.25, 8, 1, 4)); // 3
 * ```
 */
export function capacity(factor: number, total: number, weight: number, totalWeight: number): number {
  return Math.ceil((factor * total * weight) / totalWeight - CEIL_EPSILON);
}
