import type { BackendView, PickContext, Strategy } from './strategy';

/**
 * Round-robin: each new connection goes to the next candidate in turn.
 *
 * @remarks
 * The cursor walks the configured order, so with a stable candidate set N
 * connections spread exactly N/k over k backends. Weights are ignored; use
 * `weighted-round-robin` for them.
 *
 * @example
 * ```ts
 * import { createProxy, RoundRobinStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
 *   strategy: new RoundRobinStrategy(),
 * });
 * ```
 * @group Strategies
 */
export class RoundRobinStrategy implements Strategy {
  readonly name = 'round-robin';
  #next = 0;

  pick(_context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    if (candidates.length === 0) return undefined;
    const chosen = candidates[this.#next % candidates.length];
    this.#next = (this.#next + 1) % Number.MAX_SAFE_INTEGER;
    return chosen;
  }
}
