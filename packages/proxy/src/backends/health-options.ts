/**
 * Options of the health checker: public shapes, defaults, and the validation
 * that turns them into frozen resolved objects (never mutating the input).
 */

import { InvalidOptionError } from '../errors';

/**
 * Active health checks: an HTTP GET sent to every backend on a timer.
 *
 * @remarks
 * Every duration is in milliseconds. Unknown keys are rejected, so a typo
 * such as `intervall` fails at startup instead of silently using a default.
 *
 * @example
 * ```ts
 * import type { HealthCheckOptions } from '@switchboard/proxy';
 * const health: HealthCheckOptions = { path: '/ready', interval: 2000, fall: 2, expectStatus: [200, 204] };
 * ```
 * @group Options
 */
export interface HealthCheckOptions {
  /**
   * Path (and optional query) requested on the backend's origin.
   * @defaultValue `'/healthz'`
   */
  path?: string;
  /**
   * Wait between the end of one probe and the start of the next, in ms.
   * @defaultValue `5000`
   * @remarks Measured from the end of the previous probe, so probes of one backend never overlap.
   */
  interval?: number;
  /**
   * Deadline of one probe (connect, headers and body), in ms. A probe that misses it counts as failed.
   * @defaultValue `2000`
   */
  timeout?: number;
  /**
   * Consecutive successful probes that bring a `down` backend back `up`.
   * @defaultValue `2`
   * @remarks Also ends an outlier ejection early (see {@link OutlierDetectionOptions}).
   */
  rise?: number;
  /**
   * Consecutive failed probes that take an `up` backend `down`.
   * @defaultValue `3`
   * @remarks Until a backend's first probe completes, one failure is enough (HAProxy's default
   * `init-state up`): a backend that is dead at startup leaves the rotation after one probe.
   */
  fall?: number;
  /**
   * Fraction of `interval` (0 to 1) added at random to each wait, and the range of the random delay
   * before a backend's first probe.
   * @defaultValue `0.1`
   * @remarks Spreads the probes of many proxies (or many backends) that started at the same moment.
   */
  jitter?: number;
  /**
   * Which response statuses count as healthy: one status, a list, or a predicate.
   * @defaultValue 200 to 399
   */
  expectStatus?: number | readonly number[] | ((status: number) => boolean);
  /**
   * Extra request headers, e.g. a token or a `host` for name-based virtual hosts.
   * @defaultValue `{}` (the probe sends `user-agent: switchboard-health-check` unless one is given)
   * @remarks `connection`, `keep-alive`, `transfer-encoding`, `upgrade`, `expect` and
   * `content-length` are rejected: the probe manages its connection itself.
   */
  headers?: Readonly<Record<string, string>>;
}

/**
 * Passive health (outlier ejection): failures seen on live traffic take a backend out for a while.
 *
 * @remarks
 * The n-th ejection in a row lasts `baseEjectionTime * 2^(n-1)`, capped at `maxEjectionTime`.
 * A backend that then stays up for one `maxEjectionTime` starts again from `baseEjectionTime`.
 *
 * @example
 * ```ts
 * import type { OutlierDetectionOptions } from '@switchboard/proxy';
 * const outlier: OutlierDetectionOptions = { consecutiveFailures: 3, baseEjectionTime: 10_000 };
 * ```
 * @group Options
 */
export interface OutlierDetectionOptions {
  /**
   * Failures in a row that eject a backend. A failure is one the backend caused: a refused or timed-out
   * connection, no response headers in time, a reset, an invalid response; a 5xx answer only with
   * {@link OutlierDetectionOptions.countServerErrors}.
   * @defaultValue `5`
   */
  consecutiveFailures?: number;
  /**
   * Length of a first ejection, in ms; each further ejection in a row doubles it.
   * @defaultValue `30000`
   */
  baseEjectionTime?: number;
  /**
   * Cap on one ejection's length, in ms, and the healthy period after which the doubling resets.
   * @defaultValue `300000`
   */
  maxEjectionTime?: number;
  /**
   * Count 5xx answers (HTTP responses and refused WebSocket upgrades) as failures.
   * @defaultValue `false`
   * @remarks Off by default because a client chooses what the app answers: requests with a bad query
   * string that make the app answer 500 would otherwise eject healthy backends, an outage any client
   * can cause. When off, a 5xx proves the backend is reachable and breaks a row of connection failures
   * (Envoy's split of local-origin errors). Turn it on when 5xx answers mean the backend itself is
   * broken, and keep {@link OutlierDetectionOptions.maxEjectionPercent} as the cap.
   * @example
   * ```ts
   * import type { OutlierDetectionOptions } from '@switchboard/proxy';
   * const outlier: OutlierDetectionOptions = { countServerErrors: true, consecutiveFailures: 10 };
   * ```
   */
  countServerErrors?: boolean;
  /**
   * Most backends ejected at the same time, as a percentage of the backends (1 to 100); at least one may
   * always be ejected, and never the last healthy backend.
   * @defaultValue `50`
   * @remarks Envoy's `max_ejection_percent`. A failure beyond the cap leaves the backend in rotation (its
   * row of failures stays at the threshold, so it is ejected on its next failure once there is room).
   * Backends down by active probes are not ejections and do not use up the share, but they count
   * against "the last healthy backend".
   * @example
   * ```ts
   * import type { OutlierDetectionOptions } from '@switchboard/proxy';
   * const outlier: OutlierDetectionOptions = { maxEjectionPercent: 34 }; // one of three backends at most
   * ```
   */
  maxEjectionPercent?: number;
}

/**
 * Default active health check settings (`expectStatus` defaults to 200 to 399, `headers` to none).
 *
 * @example
 * ```ts
 * import { DEFAULT_HEALTH_CHECK } from '@switchboard/proxy';
 * console.log(DEFAULT_HEALTH_CHECK.interval); // 5000
 * ```
 * @group Constants
 */
export const DEFAULT_HEALTH_CHECK = Object.freeze({ path: '/healthz', interval: 5000, timeout: 2000, rise: 2, fall: 3, jitter: 0.1 });

/**
 * Default outlier detection settings.
 *
 * @example
 * ```ts
 * import { DEFAULT_OUTLIER_DETECTION } from '@switchboard/proxy';
 * console.log(DEFAULT_OUTLIER_DETECTION.baseEjectionTime); // 30000
 * ```
 * @group Constants
 */
export const DEFAULT_OUTLIER_DETECTION = Object.freeze({
  consecutiveFailures: 5,
  baseEjectionTime: 30_000,
  maxEjectionTime: 300_000,
  countServerErrors: false,
  maxEjectionPercent: 50,
});

/**
 * {@link HealthCheckOptions} with every default filled in and `expectStatus` turned into a predicate.
 *
 * @example
 * ```ts
 * import { DEFAULT_HEALTH_CHECK, type ResolvedHealthCheckOptions } from '@switchboard/proxy';
 * const r: ResolvedHealthCheckOptions = { ...DEFAULT_HEALTH_CHECK, expectStatus: (s) => s >= 200 && s < 400, headers: {} };
 * console.log(r.expectStatus(302)); // true
 * ```
 * @group Options
 */
export interface ResolvedHealthCheckOptions {
  readonly path: string;
  readonly interval: number;
  readonly timeout: number;
  readonly rise: number;
  readonly fall: number;
  readonly jitter: number;
  readonly expectStatus: (status: number) => boolean;
  readonly headers: Readonly<Record<string, string>>;
}

/**
 * {@link OutlierDetectionOptions} with every default filled in.
 *
 * @example
 * ```ts
 * import { DEFAULT_OUTLIER_DETECTION, type ResolvedOutlierDetectionOptions } from '@switchboard/proxy';
 * const r: ResolvedOutlierDetectionOptions = { ...DEFAULT_OUTLIER_DETECTION, consecutiveFailures: 3 };
 * console.log(r.maxEjectionTime); // 300000
 * ```
 * @group Options
 */
export interface ResolvedOutlierDetectionOptions {
  readonly consecutiveFailures: number;
  readonly baseEjectionTime: number;
  readonly maxEjectionTime: number;
  readonly countServerErrors: boolean;
  readonly maxEjectionPercent: number;
}

/** setTimeout's largest delay; Node fires longer ones after 1 ms (with a warning), which would mean probe storms. */
const MAX_TIMER_DELAY = 2 ** 31 - 1;
const HEALTH_KEYS = ['path', 'interval', 'timeout', 'rise', 'fall', 'jitter', 'expectStatus', 'headers'];
const OUTLIER_KEYS = ['consecutiveFailures', 'baseEjectionTime', 'maxEjectionTime', 'countServerErrors', 'maxEjectionPercent'];
/** Headers undici rejects or that would fight the probe's own connection handling. */
const RESERVED_HEADERS = new Set(['connection', 'keep-alive', 'transfer-encoding', 'upgrade', 'expect', 'content-length']);
const HEADER_NAME = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
// Tab and visible ASCII/obs-text only: CR, LF or NUL would let a header value inject another header.
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/;
const PATH = /^\/[\x21-\x7e]*$/;

function fail(message: string): never {
  throw new InvalidOptionError(message);
}

function record(where: string, input: unknown, known: readonly string[]): Record<string, unknown> {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) fail(`${where} must be an object, got ${input === null ? 'null' : typeof input}`);
  for (const key of Object.keys(input)) {
    if (!known.includes(key)) fail(`${where}.${key} is not a known option (expected one of ${known.join(', ')})`);
  }
  return input as Record<string, unknown>;
}

function duration(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) fail(`${name} must be a positive number of milliseconds, got ${String(value)}`);
  if (value > MAX_TIMER_DELAY) fail(`${name} must be at most ${MAX_TIMER_DELAY} ms (the longest Node.js timer), got ${value}`);
  return value;
}

function positiveInteger(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1) fail(`${name} must be a positive integer, got ${String(value)}`);
  return value;
}

function isStatus(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 100 && value <= 599;
}

function defaultExpectStatus(status: number): boolean {
  return status >= 200 && status <= 399;
}

function expectStatus(name: string, value: unknown): (status: number) => boolean {
  if (value === undefined) return defaultExpectStatus;
  if (typeof value === 'function') {
    const predicate = value as (status: number) => unknown;
    // Coerce so a predicate returning a truthy non-boolean still works, and a throwing one counts as unhealthy.
    return (status) => {
      try {
        return predicate(status) === true;
      } catch {
        return false;
      }
    };
  }
  if (isStatus(value)) return (status) => status === value;
  if (Array.isArray(value) && value.length > 0 && value.every(isStatus)) {
    const accepted = new Set<number>(value);
    return (status) => accepted.has(status);
  }
  return fail(`${name} must be an HTTP status (100-599), a non-empty array of them, or a function, got ${Array.isArray(value) ? `[${value.join(', ')}]` : String(value)}`);
}

function headers(name: string, value: unknown): Readonly<Record<string, string>> {
  const out: Record<string, string> = {};
  if (value !== undefined) {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) fail(`${name} must be an object of header name -> string value`);
    for (const [key, v] of Object.entries(value)) {
      if (!HEADER_NAME.test(key)) fail(`${name} has an invalid header name: ${JSON.stringify(key)}`);
      if (RESERVED_HEADERS.has(key.toLowerCase())) fail(`${name}.${key} cannot be set: the probe manages its own connection`);
      if (typeof v !== 'string' || !HEADER_VALUE.test(v)) fail(`${name}.${key} must be a string without control characters`);
      out[key] = v;
    }
  }
  // Name the probe in backend access logs so operators can filter it out, unless the caller chose a name.
  if (!Object.keys(out).some((k) => k.toLowerCase() === 'user-agent')) out['user-agent'] = 'switchboard-health-check';
  return Object.freeze(out);
}

/**
 * Validates active health check options and fills in defaults. Throws `ERR_INVALID_OPTION` with an exact sentence.
 *
 * @param where - Name of the options object in error messages, e.g. `'options.healthCheck'`.
 * @remarks Accepts its own output, so resolving twice is harmless.
 *
 * @example
 * ```ts
 * import { resolveHealthCheckOptions } from '@switchboard/proxy';
 * try {
 *   resolveHealthCheckOptions({ interval: -1 });
 * } catch (err) {
 *   console.log((err as Error).message); // health.interval must be a positive number of milliseconds, got -1
 * }
 * ```
 */
export function resolveHealthCheckOptions(input: unknown, where = 'health'): ResolvedHealthCheckOptions {
  const o = record(where, input, HEALTH_KEYS);
  const d = DEFAULT_HEALTH_CHECK;
  const path = o['path'] ?? d.path;
  if (typeof path !== 'string' || !PATH.test(path) || path.startsWith('//')) {
    fail(`${where}.path must start with a single / and contain only visible ASCII characters, got ${JSON.stringify(path)}`);
  }
  const jitter = o['jitter'] ?? d.jitter;
  if (typeof jitter !== 'number' || !(jitter >= 0 && jitter <= 1)) fail(`${where}.jitter must be a number from 0 to 1, got ${String(jitter)}`);
  return Object.freeze({
    path,
    interval: duration(`${where}.interval`, o['interval'], d.interval),
    timeout: duration(`${where}.timeout`, o['timeout'], d.timeout),
    rise: positiveInteger(`${where}.rise`, o['rise'], d.rise),
    fall: positiveInteger(`${where}.fall`, o['fall'], d.fall),
    jitter,
    expectStatus: expectStatus(`${where}.expectStatus`, o['expectStatus']),
    headers: headers(`${where}.headers`, o['headers']),
  });
}

/**
 * Validates outlier detection options and fills in defaults. Throws `ERR_INVALID_OPTION` with an exact sentence.
 *
 * @param where - Name of the options object in error messages, e.g. `'options.outlierDetection'`.
 *
 * @example
 * ```ts
 * import { resolveOutlierDetectionOptions } from '@switchboard/proxy';
 * const r = resolveOutlierDetectionOptions({ baseEjectionTime: 1000 });
 * console.log(r.consecutiveFailures, r.maxEjectionTime, r.maxEjectionPercent); // 5 300000 50
 * ```
 */
export function resolveOutlierDetectionOptions(input: unknown, where = 'outlier'): ResolvedOutlierDetectionOptions {
  const o = record(where, input, OUTLIER_KEYS);
  const d = DEFAULT_OUTLIER_DETECTION;
  const baseEjectionTime = duration(`${where}.baseEjectionTime`, o['baseEjectionTime'], d.baseEjectionTime);
  // A base above the default cap, given without a cap, raises the cap instead of failing on a value the user never wrote.
  const maxEjectionTime = duration(`${where}.maxEjectionTime`, o['maxEjectionTime'], Math.max(d.maxEjectionTime, baseEjectionTime));
  if (maxEjectionTime < baseEjectionTime) {
    fail(`${where}.maxEjectionTime must be at least ${where}.baseEjectionTime (${baseEjectionTime}), got ${maxEjectionTime}`);
  }
  const countServerErrors = o['countServerErrors'] ?? d.countServerErrors;
  if (typeof countServerErrors !== 'boolean') fail(`${where}.countServerErrors must be true or false, got ${String(countServerErrors)}`);
  const maxEjectionPercent = o['maxEjectionPercent'] ?? d.maxEjectionPercent;
  if (typeof maxEjectionPercent !== 'number' || !(maxEjectionPercent >= 1 && maxEjectionPercent <= 100)) {
    fail(`${where}.maxEjectionPercent must be a number from 1 to 100, got ${String(maxEjectionPercent)}`);
  }
  return Object.freeze({
    consecutiveFailures: positiveInteger(`${where}.consecutiveFailures`, o['consecutiveFailures'], d.consecutiveFailures),
    baseEjectionTime,
    maxEjectionTime,
    countServerErrors,
    maxEjectionPercent,
  });
}
