import { InvalidOptionError } from '../../../src/errors';
import { capacity, DEFAULT_BOUNDED_LOAD_FACTOR, LoadBound } from '../../../src/strategies/bounded-load';
import { IpHashStrategy } from '../../../src/strategies/ip-hash';
import { close, fakeBackend, fakeBackends, fakeContext, ipv4, open, seededRandom, type FakeBackend } from './fakes';

const FACTOR = 1.25;

interface SkewedRun {
  /** Largest (live connections / ceil(1.25 x average)) seen on any backend after any placement. */
  worstRatio: number;
  /** How many checks found a backend above the bound. */
  violations: number;
}

/**
 * 80% of clients come from 5% of keys (100 hot IPs out of 2,000). 2,000
 * connections open, then 10,000 times a random one closes and a new one opens.
 * After every placement each backend is checked against ceil(1.25 x average).
 */
function runSkewed(hash: 'ring' | 'maglev', bounded: boolean): SkewedRun {
  const random = seededRandom(7);
  const backends = fakeBackends(10);
  const strategy = new IpHashStrategy(bounded ? { hash, boundedLoad: { factor: FACTOR } } : { hash });
  strategy.update(backends);
  const ctx = fakeContext();
  const live: FakeBackend[] = [];
  let worstRatio = 0;
  let violations = 0;
  const check = (): void => {
    const total = backends.reduce((sum, b) => sum + b.activeConnections, 0);
    const bound = Math.ceil((FACTOR * total) / backends.length - 1e-9);
    for (const b of backends) {
      worstRatio = Math.max(worstRatio, b.activeConnections / bound);
      if (b.activeConnections > bound) violations++;
    }
  };
  const arrive = (): void => {
    const hot = random() < 0.8;
    ctx.client.address = ipv4(hot ? Math.floor(random() * 100) : 100 + Math.floor(random() * 1900));
    live.push(open(strategy, backends, ctx)!);
    check();
  };
  for (let i = 0; i < 2000; i++) arrive();
  for (let i = 0; i < 10_000; i++) {
    const [gone] = live.splice(Math.floor(random() * live.length), 1);
    close(strategy, gone);
    arrive();
  }
  return { worstRatio, violations };
}

describe('bounded load (boundedLoad option of the hash strategies)', () => {
  describe.each(['ring', 'maglev'] as const)('with hash: %s, c = 1.25 and skewed keys', (hash) => {
    it('never lets a backend exceed ceil(1.25 x average) live connections', () => {
      const { worstRatio, violations } = runSkewed(hash, true);
      expect(violations).toBe(0);
      expect(worstRatio).toBeLessThanOrEqual(1);
    });

    it('is needed: without it the same clients push a backend over that ceiling', () => {
      expect(runSkewed(hash, false).violations).toBeGreaterThan(0);
    });

    it('overflows deterministically: two proxies with the same loads choose the same backend', () => {
      const a = fakeBackends(10);
      const b = fakeBackends(10);
      const sa = new IpHashStrategy({ hash, boundedLoad: {} });
      const sb = new IpHashStrategy({ hash, boundedLoad: {} });
      sa.update(a);
      sb.update(b);
      const ctx = fakeContext({ address: '10.0.0.1' });
      // One hot client: the bound forces its connections across backends, in the same order on both.
      for (let i = 0; i < 200; i++) expect(open(sa, a, ctx)!.id).toBe(open(sb, b, ctx)!.id);
      expect(a.map((x) => x.activeConnections)).toEqual(b.map((x) => x.activeConnections));
    });
  });

  it('skips a backend over its bound for the next one in the key order, and returns once load evens out', () => {
    const backends = fakeBackends(4);
    const strategy = new IpHashStrategy({ hash: 'ring', boundedLoad: { factor: 1 } });
    strategy.update(backends);
    const ctx = fakeContext({ address: '10.1.1.1' });
    const home = strategy.pick(ctx, backends) as FakeBackend;
    home.activeConnections = 1; // total 1, average with the new one 2/4: capacity ceil(0.5) = 1, home is full
    strategy.update(backends); // counts changed behind the hooks' back: recount
    const overflow = strategy.pick(ctx, backends);
    expect(overflow).not.toBe(home);
    for (const b of backends) b.activeConnections = 1; // even: capacity ceil(5/4) = 2, home fits again
    strategy.update(backends);
    expect(strategy.pick(ctx, backends)).toBe(home);
  });

  it('counts weight: a backend of weight 3 may hold 3x the connections of a weight-1 one', () => {
    const heavy = fakeBackend('heavy', { weight: 3, activeConnections: 5 });
    const light = fakeBackend('light', { weight: 1, activeConnections: 1 });
    const bound = new LoadBound({ factor: 1.25 });
    bound.reset([heavy, light]);
    // (5 + 1 + 1) x 1.25 x 3/4 = 6.56 -> capacity 7: heavy may take its 6th.
    expect(bound.allows(heavy)).toBe(true);
    // 7 x 1.25 x 1/4 = 2.19 -> capacity 3: light may take its 2nd.
    expect(bound.allows(light)).toBe(true);
    light.activeConnections = 3;
    bound.reset([heavy, light]);
    expect(bound.allows(light)).toBe(false);
  });

  it('keeps its total from the connection hooks, so a pick does not sum every backend', () => {
    const backends = fakeBackends(2);
    const strategy = new IpHashStrategy({ hash: 'maglev', boundedLoad: { factor: 1 } });
    strategy.update(backends);
    const ctx = fakeContext({ address: '10.2.2.2' });
    const home = open(strategy, backends, ctx)!;
    // total 1 (+1 new) over 2: capacity 1, home holds 1 -> the next goes elsewhere.
    expect(open(strategy, backends, ctx)).not.toBe(home);
    close(strategy, home);
    // Back to one connection, on the other backend: home has room again.
    expect(strategy.pick(ctx, backends)).toBe(home);
  });

  it('ignores down and draining backends when computing the average', () => {
    const up = fakeBackend('up', { activeConnections: 2 });
    const down = fakeBackend('down', { state: 'down', activeConnections: 50 });
    const bound = new LoadBound({});
    bound.reset([up, down]);
    // Only "up" counts: (2 + 1) x 1.25 = 3.75 -> 4 >= 3.
    expect(bound.allows(up)).toBe(true);
  });

  it('uses c = 1.25 by default', () => {
    expect(DEFAULT_BOUNDED_LOAD_FACTOR).toBe(1.25);
    expect(new LoadBound({}).factor).toBe(1.25);
  });

  it('rounds the capacity up without float noise', () => {
    // 1.25 x 8 / 4 = 2.5 -> 3; 1.1 x 50 is 55.00000000000001 in floats -> must stay 55.
    expect(1.1 * 50).toBeGreaterThan(55);
    expect(capacity(1.25, 8, 1, 4)).toBe(3);
    expect(capacity(1.1, 50, 1, 1)).toBe(55);
  });

  it.each([0.99, 0, -1, Number.NaN, Number.POSITIVE_INFINITY])('throws ERR_INVALID_OPTION for factor %p', (factor) => {
    expect(() => new LoadBound({ factor })).toThrow(InvalidOptionError);
  });
});
