import { RoundRobinStrategy } from './round-robin';
import type { Strategy } from './strategy';

/**
 * Names of the built-in strategies accepted by `createProxy({ strategy })`.
 *
 * @example
 * ```ts
 * import type { StrategyName } from '@switchboard/proxy';
 * const name: StrategyName = 'round-robin';
 * ```
 */
export type StrategyName = 'round-robin';

const FACTORIES: Readonly<Record<StrategyName, () => Strategy>> = {
  'round-robin': () => new RoundRobinStrategy(),
};

/** @internal */
export function isStrategyName(value: unknown): value is StrategyName {
  return typeof value === 'string' && Object.prototype.hasOwnProperty.call(FACTORIES, value);
}

/** @internal */
export function strategyNames(): readonly string[] {
  return Object.keys(FACTORIES);
}

/** @internal */
export function createNamedStrategy(name: StrategyName): Strategy {
  return FACTORIES[name]();
}
