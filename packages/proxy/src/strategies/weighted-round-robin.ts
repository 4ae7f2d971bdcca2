import { isCandidate } from './admission';
import type { BackendView, PickContext, Strategy } from './strategy';

/**
 * Largest `total weight x backends` for which the smooth sequence is
 * precomputed. Above it (huge weights), `pick()` runs the O(backends) smooth
 * step on every call instead; the sequence is the same.
 */
const MAX_CYCLE_BUILD_STEPS = 1 << 22;

/**
 * How many cycle entries a pick may inspect per candidate before it runs the
 * smooth step directly: checking an entry is a few field reads, a smooth step
 * updates a map entry per candidate, several times dearer.
 */
const CYCLE_ENTRIES_PER_CANDIDATE = 4;

/**
 * Smooth weighted round-robin, as nginx does it: weights 5, 1, 1 give
 * `a a b a c a a`, not `a a a a a b c`.
 *
 * @remarks
 * Every pick adds each candidate's weight to its running score, takes the
 * highest score and subtracts the total weight from it (nginx
 * `ngx_http_upstream_get_peer`). Heavy backends are spread through the cycle
 * instead of receiving bursts, which matters for WebSockets: a burst of
 * reconnects after a deploy should not land on one node back to back.
 *
 * The cycle (length = total weight) is precomputed in `update()` over the up
 * backends, so `pick()` is O(1) however many backends there are. A cycle entry
 * whose backend is full (or has gone down without an `update()`) is skipped,
 * which keeps the other backends in their proportions. If a few entries per
 * candidate yield nothing (most of the pool is full), or `update()` was never
 * called, the smooth step runs directly over the candidates, O(candidates).
 *
 * Ties go to the backend configured first, as in nginx.
 *
 * @example
 * ```ts
 * import { createProxy, WeightedRoundRobinStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: [
 *     { url: 'http://127.0.0.1:9001', id: 'big', weight: 5 },
 *     { url: 'http://127.0.0.1:9002', id: 'small', weight: 1 },
 *   ],
 *   strategy: new WeightedRoundRobinStrategy(),
 * });
 * ```
 * @group Strategies
 */
export class WeightedRoundRobinStrategy implements Strategy {
  readonly name = 'weighted-round-robin';
  /** The precomputed smooth sequence, as backend references; empty when not built. */
  #cycle: BackendView[] = [];
  #cursor = 0;
  /** Running scores for the direct (uncached) smooth step. */
  readonly #scores = new Map<BackendView, number>();

  update(backends: readonly BackendView[]): void {
    const up = backends.filter((b) => b.state === 'up' && b.weight > 0);
    this.#scores.clear();
    this.#cursor = 0;
    const total = up.reduce((sum, b) => sum + b.weight, 0);
    if (up.length === 0 || total * up.length > MAX_CYCLE_BUILD_STEPS) {
      this.#cycle = [];
      return;
    }
    // One full lap of the smooth algorithm brings every score back to 0, so
    // the sequence repeats with period `total` and can be stored.
    const scores = new Float64Array(up.length);
    const cycle: BackendView[] = new Array<BackendView>(total);
    for (let step = 0; step < total; step++) {
      let best = 0;
      for (let i = 0; i < up.length; i++) {
        scores[i] += up[i].weight;
        if (scores[i] > scores[best]) best = i;
      }
      scores[best] -= total;
      cycle[step] = up[best];
    }
    this.#cycle = cycle;
  }

  pick(context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    const cycle = this.#cycle;
    if (cycle.length > 0) {
      // Skipping entries of a full backend keeps the others in proportion;
      // bound the walk so a mostly-full pool cannot make one pick expensive.
      const limit = Math.min(cycle.length, CYCLE_ENTRIES_PER_CANDIDATE * candidates.length);
      for (let tries = 0; tries < limit; tries++) {
        const backend = cycle[this.#cursor];
        this.#cursor = this.#cursor + 1 === cycle.length ? 0 : this.#cursor + 1;
        if (isCandidate(backend, context)) return backend;
      }
    }
    return this.#smoothStep(candidates);
  }

  /** One step of nginx's algorithm over the given candidates, O(candidates). */
  #smoothStep(candidates: readonly BackendView[]): BackendView | undefined {
    let best: BackendView | undefined;
    let bestScore = -Infinity;
    let total = 0;
    for (const backend of candidates) {
      const score = (this.#scores.get(backend) ?? 0) + backend.weight;
      this.#scores.set(backend, score);
      total += backend.weight;
      if (score > bestScore) {
        best = backend;
        bestScore = score;
      }
    }
    if (best !== undefined) this.#scores.set(best, bestScore - total);
    return best;
  }
}
