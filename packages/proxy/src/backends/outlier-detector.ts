/**
 * Passive health bookkeeping: which failures count, one backend's row of
 * failures and backoff, and whether the pool can spare it. Pure: it counts and
 * decides, the {@link HealthChecker} owns the clock reads and the timers.
 */

import type { ErrorCode } from '../errors';
import type { ResolvedOutlierDetectionOptions } from './health-options';

/** The options the backoff needs. @internal */
export type EjectionTiming = Pick<ResolvedOutlierDetectionOptions, 'consecutiveFailures' | 'baseEjectionTime' | 'maxEjectionTime'>;

/**
 * A failure seen on live traffic, as reported to the health checker (`HealthChecker.reportFailure()`, internal).
 *
 * @remarks
 * Every kind but `status-5xx` is a failure the backend caused: its connection was refused or timed
 * out (`connect`, `timeout`), it reset it (`reset`), or it answered something that is not HTTP
 * (`protocol`). A `status-5xx` counts only with `countServerErrors`, because clients choose what
 * the app answers.
 *
 * @example
 * ```ts
 * import type { PassiveFailure } from '@switchboard/proxy';
 * const kind: PassiveFailure = 'reset';
 * ```
 * @group Events
 */
export type PassiveFailure = 'connect' | 'timeout' | 'reset' | 'protocol' | 'status-5xx';

/**
 * The passive failure an error code stands for, or `undefined` when the backend did not cause it
 * (the client's side, the proxy's own limits): such errors never touch a backend's health.
 *
 * @example
 * ```ts
 * import { passiveFailureOf } from './outlier-detector';
 * console.log(passiveFailureOf('ERR_BACKEND_RESET'), passiveFailureOf('ERR_REQUEST_BODY_MISMATCH')); // reset undefined
 * ```
 * @internal
 */
export function passiveFailureOf(code: ErrorCode): PassiveFailure | undefined {
  switch (code) {
    case 'ERR_BACKEND_CONNECT':
      return 'connect';
    case 'ERR_BACKEND_TIMEOUT':
    case 'ERR_HANDSHAKE_TIMEOUT':
      return 'timeout';
    case 'ERR_BACKEND_RESET':
      return 'reset';
    case 'ERR_BACKEND_PROTOCOL':
      return 'protocol';
    default:
      return undefined;
  }
}

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
export function ejectionTime(options: EjectionTiming, n: number): number {
  // A long run of ejections makes the power Infinity; the cap absorbs it, so no overflow check is needed.
  return Math.min(options.baseEjectionTime * 2 ** Math.max(0, n - 1), options.maxEjectionTime);
}

/**
 * What the checker knows about the whole pool when one backend is due for ejection.
 * @internal
 */
export interface PoolHealth {
  /** Backends watched. */
  readonly total: number;
  /** Backends ejected now. */
  readonly ejected: number;
  /** Backends neither ejected nor down by probes, the one due for ejection included. */
  readonly healthy: number;
}

/**
 * Whether one more backend may be ejected: the ejected share stays within `maxEjectionPercent` of the
 * pool (at least one ejection is always allowed, Envoy's rule), and a healthy backend remains.
 *
 * @remarks
 * Ejection protects clients from a broken backend; past these bounds it would only move the same
 * traffic onto fewer backends, or onto none, which is how one client's requests became an outage.
 *
 * @example
 * ```ts
 * import { mayEject } from './outlier-detector';
 * console.log(mayEject({ total: 4, ejected: 1, healthy: 3 }, 50)); // true
 * console.log(mayEject({ total: 4, ejected: 2, healthy: 2 }, 50)); // false
 * console.log(mayEject({ total: 2, ejected: 0, healthy: 1 }, 100)); // false: the last healthy one
 * ```
 * @internal
 */
export function mayEject(pool: PoolHealth, maxEjectionPercent: number): boolean {
  if (pool.healthy <= 1) return false;
  const allowed = Math.max(1, Math.floor((pool.total * maxEjectionPercent) / 100));
  return pool.ejected < allowed;
}

/**
 * Counts consecutive failures of one backend and decides when it is ejected and for how long.
 *
 * @remarks
 * Envoy decrements its ejection multiplier once per healthy interval; we reset it in one step after
 * one `maxEjectionTime` of uninterrupted health, which is simpler to reason about and to test.
 * Whether the pool can spare the backend is not its business: {@link mayEject} decides that, and
 * {@link OutlierDetector.eject} is called only when it agrees.
 *
 * @example
 * ```ts
 * import { OutlierDetector } from './outlier-detector';
 * const d = new OutlierDetector({ consecutiveFailures: 2, baseEjectionTime: 100, maxEjectionTime: 1000 }, 0);
 * console.log(d.recordFailure(), d.recordFailure()); // false true
 * console.log(d.eject(2)); // 100
 * ```
 * @internal
 */
export class OutlierDetector {
  readonly #options: EjectionTiming;
  #streak = 0;
  #ejections = 0;
  #healthySince: number;

  constructor(options: EjectionTiming, now: number) {
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
   * @returns true when the row has reached `consecutiveFailures`: the backend is due for ejection.
   */
  recordFailure(): boolean {
    // Capped at the threshold: a backend kept in by the ejection cap stays due, without counting forever.
    this.#streak = Math.min(this.#streak + 1, this.#options.consecutiveFailures);
    return this.#streak >= this.#options.consecutiveFailures;
  }

  /**
   * Ejects the backend: ends its row of failures and counts the ejection.
   * @returns the ejection time in ms.
   */
  eject(now: number): number {
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
