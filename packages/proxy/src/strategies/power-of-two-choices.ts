import { InvalidOptionError } from '../errors';
import type { BackendView, PickContext, Strategy } from './strategy';

/**
 * Options of {@link PowerOfTwoChoicesStrategy}.
 *
 * @example
 * ```ts
 * import { PowerOfTwoChoicesStrategy, type PowerOfTwoChoicesOptions } from '@switchboard/proxy';
 * const options: PowerOfTwoChoicesOptions = { random: Math.random };
 * const strategy = new PowerOfTwoChoicesStrategy(options);
 * ```
 * @group Strategies
 */
export interface PowerOfTwoChoicesOptions {
  /**
   * Source of uniform numbers in [0, 1).
   * @defaultValue `Math.random`
   * @remarks Give a seeded generator to make placements reproducible in tests
   * and simulations.
   */
  readonly random?: () => number;
}

/**
 * Power of two choices (P2C): sample two distinct candidates at random and
 * take the less loaded one (fewer live connections per unit of weight).
 *
 * @remarks
 * Least-connections scans every backend and, with several proxies, they all
 * herd onto the same momentarily emptiest node. Two random samples cost O(1)
 * and still cut the maximum load from `log n / log log n` (pure random) to
 * `log log n` (Mitzenmacher, "The Power of Two Choices in Randomized Load
 * Balancing"); Envoy's `LEAST_REQUEST` and HAProxy's `random(2)` use it.
 * Equal loads keep the first sample, which is random already.
 *
 * @example
 * ```ts
 * import { createProxy, PowerOfTwoChoicesStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002', 'http://127.0.0.1:9003'],
 *   strategy: new PowerOfTwoChoicesStrategy(),
 * });
 * ```
 * @group Strategies
 */
export class PowerOfTwoChoicesStrategy implements Strategy {
  readonly name = 'power-of-two-choices';
  readonly #random: () => number;

  constructor(options: PowerOfTwoChoicesOptions = {}) {
    const random = options.random ?? Math.random;
    if (typeof random !== 'function') {
      throw new InvalidOptionError(`PowerOfTwoChoicesStrategy: options.random must be a function, got ${typeof random}`);
    }
    this.#random = random;
  }

  pick(_context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    const count = candidates.length;
    if (count <= 1) return candidates[0];
    // min() guards a user generator that returns 1.
    const first = Math.min(count - 1, Math.floor(this.#random() * count));
    // Draw the second index from the other count - 1 slots so the two differ.
    let second = Math.min(count - 2, Math.floor(this.#random() * (count - 1)));
    if (second >= first) second += 1;
    const a = candidates[first];
    const b = candidates[second];
    // b.active/b.weight < a.active/a.weight, without division.
    return b.activeConnections * a.weight < a.activeConnections * b.weight ? b : a;
  }
}
