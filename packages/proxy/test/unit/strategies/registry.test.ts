import { createNamedStrategy, isStrategyName, strategyNames, type StrategyName } from '../../../src/strategies/registry';
import { HashStrategy } from '../../../src/strategies/hash';
import { IpHashStrategy } from '../../../src/strategies/ip-hash';
import { LeastConnectionsStrategy } from '../../../src/strategies/least-connections';
import { PowerOfTwoChoicesStrategy } from '../../../src/strategies/power-of-two-choices';
import { RoundRobinStrategy } from '../../../src/strategies/round-robin';
import { StickyCookieStrategy } from '../../../src/strategies/sticky-cookie';
import { WeightedRoundRobinStrategy } from '../../../src/strategies/weighted-round-robin';

const BUILT_INS: [StrategyName, abstract new (...args: never[]) => object][] = [
  ['round-robin', RoundRobinStrategy],
  ['weighted-round-robin', WeightedRoundRobinStrategy],
  ['least-connections', LeastConnectionsStrategy],
  ['power-of-two-choices', PowerOfTwoChoicesStrategy],
  ['ip-hash', IpHashStrategy],
  ['hash', HashStrategy],
  ['sticky-cookie', StickyCookieStrategy],
];

describe('strategy registry', () => {
  let warning: jest.SpyInstance;
  beforeEach(() => {
    warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warning.mockRestore());

  it.each(BUILT_INS)('creates %s as a new %p each time, named after itself', (name, type) => {
    const a = createNamedStrategy(name);
    expect(a).toBeInstanceOf(type);
    expect(a.name).toBe(name);
    expect(createNamedStrategy(name)).not.toBe(a);
  });

  it('lists exactly the built-in names', () => {
    expect([...strategyNames()].sort()).toEqual(BUILT_INS.map(([name]) => name).sort());
    for (const [name] of BUILT_INS) expect(isStrategyName(name)).toBe(true);
    expect(isStrategyName('random')).toBe(false);
    expect(isStrategyName('toString')).toBe(false);
  });
});
