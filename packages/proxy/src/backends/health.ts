/**
 * Backend health: active probes (undici) and passive failure counts from live
 * traffic, folded into one `up | down` state per backend with a `change` event.
 */

import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import type { Agent } from 'undici';
import { InvalidOptionError } from '../errors';
import { resolveHealthCheckOptions, resolveOutlierDetectionOptions } from './health-options';
import type { HealthCheckOptions, OutlierDetectionOptions, ResolvedHealthCheckOptions, ResolvedOutlierDetectionOptions } from './health-options';
import { createProbeAgent, probe, probeOrigin, type ProbeResult } from './health-probe';
import { mayEject, OutlierDetector, type PassiveFailure, type PoolHealth } from './outlier-detector';

// Re-exported so the proxy core can take everything health-related from this one module.
export { DEFAULT_HEALTH_CHECK, DEFAULT_OUTLIER_DETECTION, resolveHealthCheckOptions, resolveOutlierDetectionOptions } from './health-options';
export type { HealthCheckOptions, OutlierDetectionOptions, ResolvedHealthCheckOptions, ResolvedOutlierDetectionOptions } from './health-options';

/**
 * Health of one backend as the checker sees it. The pool maps `down` to "taken out of every strategy".
 *
 * @example
 * ```ts
 * import type { HealthState } from '@switchboard/proxy';
 * const s: HealthState = 'down';
 * ```
 */
export type HealthState = 'up' | 'down';

/**
 * A backend to watch: its id and base URL (`http:`, `https:`, `ws:` or `wss:`; `ws` is probed as `http`).
 *
 * @example
 * ```ts
 * import type { HealthTarget } from '@switchboard/proxy';
 * const t: HealthTarget = { id: 'chat-1', url: 'ws://10.0.0.7:8080' };
 * ```
 */
export interface HealthTarget {
  readonly id: string;
  readonly url: string;
}

/**
 * Events of a {@link HealthChecker}: event name -> listener arguments.
 *
 * @remarks
 * `change` fires only when the state really changes. `reason` is meant for logs and never holds the
 * backend's address: `probe failed 3 times (ECONNREFUSED)`, `first probe failed (status 503)`,
 * `probe succeeded 2 times`, `ejected for 30000 ms after 5 consecutive failures (last: connect)`,
 * `ejection of 30000 ms ended`. The state is settled and the next probe scheduled before the event
 * fires, so a throwing listener cannot stall the checker (the exception still surfaces, as with any
 * EventEmitter).
 *
 * @example
 * ```ts
 * import { HealthChecker } from '@switchboard/proxy';
 * const checker = new HealthChecker({ active: {} });
 * checker.on('change', (id, state, reason) => console.log(`${id} is ${state}: ${reason}`));
 * ```
 */
export interface HealthEvents {
  change: [id: string, state: HealthState, reason: string];
}

/**
 * Options of a {@link HealthChecker}.
 *
 * @example
 * ```ts
 * import type { HealthCheckerOptions } from '@switchboard/proxy';
 * const o: HealthCheckerOptions = { active: { path: '/ready' }, outlier: false };
 * ```
 */
export interface HealthCheckerOptions {
  /**
   * Active probes.
   * @defaultValue off: `undefined` and `false` disable them, `{}` enables them with {@link DEFAULT_HEALTH_CHECK}.
   * @remarks Off unless asked because probing a path the backends do not serve would take them all down.
   */
  active?: HealthCheckOptions | false;
  /**
   * Passive outlier ejection.
   * @defaultValue on with {@link DEFAULT_OUTLIER_DETECTION}; `false` disables it.
   * @remarks On by default because it reacts only to failures real clients already saw.
   */
  outlier?: OutlierDetectionOptions | false;
}

interface Target {
  readonly id: string;
  readonly origin: string;
  readonly outlier: OutlierDetector | undefined;
  /** Down by active probes (fall failures, or the first probe failing). */
  probeDown: boolean;
  /** Down by outlier ejection; cleared by its timer or by `rise` successful probes. */
  ejected: boolean;
  probed: boolean;
  okStreak: number;
  failStreak: number;
  probeTimer: NodeJS.Timeout | undefined;
  ejectTimer: NodeJS.Timeout | undefined;
  inflight: AbortController | undefined;
  running: Promise<ProbeResult> | undefined;
}

const PROTOCOLS = new Set(['http:', 'https:', 'ws:', 'wss:']);

function stateOf(t: Target): HealthState {
  return t.probeDown || t.ejected ? 'down' : 'up';
}

/** Wait before the next probe: `interval` plus a random share of `jitter × interval`. */
function nextDelay(active: ResolvedHealthCheckOptions): number {
  return active.interval * (1 + Math.random() * active.jitter);
}

function fail(message: string): never {
  throw new InvalidOptionError(message);
}

/**
 * Watches backends with active probes and passive failure reports, and emits `change` when one goes
 * `down` or comes back `up`.
 *
 * @remarks
 * - A new target starts `up` (HAProxy's default `init-state up`; Envoy instead waits for a first
 *   check): the proxy serves at once instead of answering 503 for `rise × interval` at startup. To
 *   make that safe, a target whose *first* probe fails goes down at once, not after `fall` failures.
 *   Its first probe runs after a random delay of up to `jitter × interval`.
 * - Each target has one timer at a time and the next probe is scheduled only after the previous one
 *   finished, so probes never overlap and a slow backend is never probed harder.
 * - Timers are not `unref()`ed: they are live work, and `close()` clears every one of them. A missing
 *   `close()` then shows up as a process that does not exit (or jest's open-handle warning) instead
 *   of staying hidden.
 * - An ejected target comes back after its ejection time, or earlier after `rise` successful probes.
 *   Passive reports about a target that is already down are ignored, so ejections never stack.
 * - A target due for ejection stays in when the ejected share would pass `maxEjectionPercent` or
 *   when it is the last healthy target; it is ejected at its next failure once there is room.
 *
 * @example
 * ```ts
 * import { HealthChecker } from '@switchboard/proxy';
 * const checker = new HealthChecker({ active: { interval: 2000 }, outlier: { consecutiveFailures: 3 } });
 * checker.on('change', (id, state, reason) => console.log(id, state, reason));
 * checker.add({ id: 'a', url: 'http://127.0.0.1:9001' });
 * checker.reportFailure('a', 'connect');
 * console.log(checker.state('a')); // up (one failure is not enough)
 * await checker.close();
 * ```
 */
export class HealthChecker extends EventEmitter<HealthEvents> {
  readonly #active: ResolvedHealthCheckOptions | undefined;
  readonly #outlier: ResolvedOutlierDetectionOptions | undefined;
  readonly #agent: Agent | undefined;
  readonly #targets = new Map<string, Target>();
  #closing: Promise<void> | undefined;

  /** Validates `options` synchronously and throws `ERR_INVALID_OPTION` with an exact sentence. */
  constructor(options: HealthCheckerOptions = {}) {
    super();
    if (typeof options !== 'object' || options === null) fail(`health checker options must be an object, got ${options === null ? 'null' : typeof options}`);
    const { active, outlier } = options;
    this.#active = active === undefined || active === false ? undefined : resolveHealthCheckOptions(active, 'health');
    this.#outlier = outlier === false ? undefined : resolveOutlierDetectionOptions(outlier ?? {}, 'outlier');
    this.#agent = this.#active === undefined ? undefined : createProbeAgent(this.#active);
  }

  /** The resolved active options, or `undefined` when probes are off. */
  get activeOptions(): ResolvedHealthCheckOptions | undefined {
    return this.#active;
  }

  /** The resolved outlier options, or `undefined` when ejection is off. */
  get outlierOptions(): ResolvedOutlierDetectionOptions | undefined {
    return this.#outlier;
  }

  /**
   * Starts watching a backend, in state `up`. Throws `ERR_INVALID_OPTION` for a bad target or a duplicate id.
   * After `close()` the target is only recorded: it stays `up` and is never probed.
   */
  add(target: HealthTarget): void {
    if (typeof target !== 'object' || target === null) fail('health target must be an object { id, url }');
    const { id, url } = target;
    if (typeof id !== 'string' || id.length === 0) fail(`health target id must be a non-empty string, got ${JSON.stringify(id) ?? 'undefined'}`);
    if (this.#targets.has(id)) fail(`health target ${JSON.stringify(id)} is already added`);
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      fail(`health target ${JSON.stringify(id)} url is not a valid URL`);
    }
    if (!PROTOCOLS.has(parsed.protocol)) fail(`health target ${JSON.stringify(id)} url must use http:, https:, ws: or wss:, got ${parsed.protocol}`);
    const t: Target = {
      id,
      origin: probeOrigin(url),
      outlier: this.#outlier === undefined ? undefined : new OutlierDetector(this.#outlier, performance.now()),
      probeDown: false,
      ejected: false,
      probed: false,
      okStreak: 0,
      failStreak: 0,
      probeTimer: undefined,
      ejectTimer: undefined,
      inflight: undefined,
      running: undefined,
    };
    this.#targets.set(id, t);
    if (this.#active !== undefined && this.#closing === undefined) this.#schedule(t, Math.random() * this.#active.jitter * this.#active.interval);
  }

  /** Stops watching a backend: clears its timers, cancels its probe, forgets it. Unknown ids are ignored. */
  remove(id: string): void {
    const t = this.#targets.get(id);
    if (t === undefined) return;
    this.#targets.delete(id);
    this.#stop(t);
  }

  /** Current state of a watched backend. Throws `ERR_INVALID_OPTION` for an unknown id. */
  state(id: string): HealthState {
    const t = this.#targets.get(id);
    if (t === undefined) fail(`unknown health target ${JSON.stringify(id)}`);
    return stateOf(t);
  }

  /**
   * A live request or connection to the backend failed. Ejects it after `consecutiveFailures` in a row,
   * within the `maxEjectionPercent` share and never the last healthy target. A `status-5xx` counts only
   * with `countServerErrors`; otherwise it proves the backend answers and counts as a success.
   * Ignored for unknown ids (a connection may outlive its backend's removal), down targets and after `close()`.
   */
  reportFailure(id: string, kind: PassiveFailure): void {
    const t = this.#targets.get(id);
    const options = this.#outlier;
    if (t?.outlier === undefined || options === undefined || this.#closing !== undefined || stateOf(t) === 'down') return;
    if (kind === 'status-5xx' && !options.countServerErrors) {
      t.outlier.recordSuccess();
      return;
    }
    if (!t.outlier.recordFailure() || !mayEject(this.#poolHealth(), options.maxEjectionPercent)) return;
    const ms = t.outlier.eject(performance.now());
    t.ejected = true;
    // Only probes that succeed after the ejection may end it early.
    t.okStreak = 0;
    t.ejectTimer = setTimeout(() => this.#endEjection(t, ms), ms);
    this.emit('change', id, 'down', `ejected for ${ms} ms after ${options.consecutiveFailures} consecutive failures (last: ${kind})`);
  }

  /** Counted when a target is due for ejection only, so a failure costs no walk over the targets. */
  #poolHealth(): PoolHealth {
    let ejected = 0;
    let healthy = 0;
    for (const t of this.#targets.values()) {
      if (t.ejected) ejected++;
      else if (!t.probeDown) healthy++;
    }
    return { total: this.#targets.size, ejected, healthy };
  }

  /** A live request or connection to the backend succeeded: its failures are no longer consecutive. */
  reportSuccess(id: string): void {
    this.#targets.get(id)?.outlier?.recordSuccess();
  }

  /**
   * Clears every timer, cancels probes in flight and closes the probe dispatcher. Idempotent: every
   * call returns the same promise. States stay readable afterwards but no longer change.
   */
  close(): Promise<void> {
    if (this.#closing === undefined) {
      const running: Promise<ProbeResult>[] = [];
      for (const t of this.#targets.values()) {
        if (t.running !== undefined) running.push(t.running);
        this.#stop(t);
      }
      const agent = this.#agent;
      this.#closing = Promise.all(running).then(() => agent?.destroy());
    }
    return this.#closing;
  }

  #stop(t: Target): void {
    clearTimeout(t.probeTimer);
    clearTimeout(t.ejectTimer);
    t.probeTimer = undefined;
    t.ejectTimer = undefined;
    t.inflight?.abort(new Error('health check stopped'));
  }

  #schedule(t: Target, delay: number): void {
    t.probeTimer = setTimeout(() => this.#run(t), delay);
  }

  #run(t: Target): void {
    const active = this.#active;
    const agent = this.#agent;
    if (active === undefined || agent === undefined) return;
    t.probeTimer = undefined;
    const controller = new AbortController();
    const running = probe(agent, t.origin, active, controller);
    t.inflight = controller;
    t.running = running;
    void running.then((result) => {
      t.inflight = undefined;
      t.running = undefined;
      // A removed (or re-added) target or a closed checker must not be rescheduled.
      if (this.#targets.get(t.id) !== t || this.#closing !== undefined) return;
      this.#schedule(t, nextDelay(active));
      this.#onProbe(t, active, result);
    });
  }

  #onProbe(t: Target, active: ResolvedHealthCheckOptions, result: ProbeResult): void {
    const first = !t.probed;
    t.probed = true;
    if (result.ok) {
      t.failStreak = 0;
      t.okStreak += 1;
      if (stateOf(t) === 'down' && t.okStreak >= active.rise) {
        const early = t.ejected ? ' (ejection ended early)' : '';
        clearTimeout(t.ejectTimer);
        t.ejectTimer = undefined;
        t.probeDown = false;
        t.ejected = false;
        t.outlier?.markUp(performance.now());
        this.emit('change', t.id, 'up', `probe succeeded ${t.okStreak} times${early}`);
      }
      return;
    }
    t.okStreak = 0;
    t.failStreak += 1;
    if (t.probeDown || t.failStreak < (first ? 1 : active.fall)) return;
    const wasUp = stateOf(t) === 'up';
    t.probeDown = true;
    // An ejected target is already down: it now also needs `rise` good probes, but nothing visible changed.
    if (wasUp) this.emit('change', t.id, 'down', first ? `first probe failed (${result.detail})` : `probe failed ${t.failStreak} times (${result.detail})`);
  }

  #endEjection(t: Target, ms: number): void {
    t.ejectTimer = undefined;
    t.ejected = false;
    // Still failing its probes: stay down until they pass `rise` times.
    if (stateOf(t) === 'down') return;
    t.outlier?.markUp(performance.now());
    this.emit('change', t.id, 'up', `ejection of ${ms} ms ended`);
  }
}
