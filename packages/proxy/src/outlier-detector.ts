/**
 * Passive health bookkeeping for one backend. Pure: it counts and decides,
 * the {@link HealthChecker} owns the clock reads and the timers.
 */

import type { ResolvedOutlierDetectionOptions } from './health-options';

/**
 * Length of the n-th ejection in a row (n from 1): `base * 2^(n-1)`, capped at `maxEjectionTime`.
 *
 * @example
 * ```ts
 * import { ejectionTime } from './outlier-detector';
 * const o = { consecutiveFailures: 5, baseEjectionTime: 30_000, maxEjectionTime: 300_000 };
 * console.log([1, 2, 3, 4, 5].map((n) => ejectionTime(o, n))); // [30000, 60000, 120000, 240000, 300000]
 * ```
 * @internal
 */
export function ejectionTime(options: ResolvedOutlierDetectionOptions, n: number): number {
  // A long run of ejections makes the power Infinity; the cap absorbs it, so no overflow check is needed.
  return Math.min(options.baseEjectionTime * 2 ** Math.max(0, n - 1), options.maxEjectionTime);
}

/**
 * Counts consecutive failures of one backend and decides when it is ejected and for how long.
 *
 * @remarks
 * Envoy decrements its ejection multiplier once per healthy interval; we reset it in one step after
 * one `maxEjectionTime` of uninterrupted health, which is simpler to reason about and to test.
 *
 * @example
 * ```ts
 * import { OutlierDetector } from './outlier-detector';
 * const d = new OutlierDetector({ consecutiveFailures: 2, baseEjectionTime: 100, maxEjectionTime: 1000 }, 0);
 * console.log(d.recordFailure(1), d.recordFailure(2)); // 0 100
 * ```
 * @internal
 */
export class OutlierDetector {
  readonly #options: ResolvedOutlierDetectionOptions;
  #streak = 0;
  #ejections = 0;
  #healthySince: number;

  constructor(options: ResolvedOutlierDetectionOptions, now: number) {
    this.#options = options;
    this.#healthySince = now;
  }

  /** Ejections in a row so far (0 after a reset). */
  get ejections(): number {
    return this.#ejections;
  }

  /** Failures in a row since the last success, ejection or return. */
  get streak(): number {
    return this.#streak;
  }

  /**
   * Counts one failure of an `up` backend.
   * @returns the ejection time in ms when this failure ejects the backend, otherwise 0.
   */
  recordFailure(now: number): number {
    this.#streak += 1;
    if (this.#streak < this.#options.consecutiveFailures) return 0;
    this.#streak = 0;
    // Lazy reset instead of a timer: the healthy period only matters at the moment of the next ejection.
    if (now - this.#healthySince >= this.#options.maxEjectionTime) this.#ejections = 0;
    this.#ejections += 1;
    return ejectionTime(this.#options, this.#ejections);
  }

  /** A request succeeded: the failures are no longer consecutive. */
  recordSuccess(): void {
    this.#streak = 0;
  }

  /** The backend is back in service (for whatever reason): its healthy period starts now. */
  markUp(now: number): void {
    this.#streak = 0;
    this.#healthySince = now;
  }
}
