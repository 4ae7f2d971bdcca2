import { HashStrategy } from './hash';
import { IpHashStrategy } from './ip-hash';
import { LeastConnectionsStrategy } from './least-connections';
import { PowerOfTwoChoicesStrategy } from './power-of-two-choices';
import { RoundRobinStrategy } from './round-robin';
import { StickyCookieStrategy } from './sticky-cookie';
import type { Strategy } from './strategy';
import { WeightedRoundRobinStrategy } from './weighted-round-robin';

/**
 * Names of the built-in strategies accepted by `createProxy({ strategy })`.
 *
 * @example
 * ```ts
 * import type { StrategyName } from '@switchboard/proxy';
 * const name: StrategyName = 'round-robin';
 * ```
 * @group Strategies
 */
export type StrategyName =
  | 'round-robin'
  | 'weighted-round-robin'
  | 'least-connections'
  | 'power-of-two-choices'
  | 'ip-hash'
  | 'hash'
  | 'sticky-cookie';

/**
 * Each name with its defaults. Strategies keep state (cursors, tables), so
 * every proxy gets a new instance. For options, construct the class instead.
 */
const FACTORIES: Readonly<Record<StrategyName, () => Strategy>> = {
  'round-robin': () => new RoundRobinStrategy(),
  'weighted-round-robin': () => new WeightedRoundRobinStrategy(),
  'least-connections': () => new LeastConnectionsStrategy(),
  'power-of-two-choices': () => new PowerOfTwoChoicesStrategy(),
  'ip-hash': () => new IpHashStrategy(),
  // By name: hash the request path (see HashStrategy).
  hash: () => new HashStrategy(),
  // By name: a random per-process secret, with a warning (see StickyCookieStrategy).
  'sticky-cookie': () => new StickyCookieStrategy(),
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
