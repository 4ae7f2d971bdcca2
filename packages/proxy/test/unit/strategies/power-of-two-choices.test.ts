import { InvalidOptionError } from '../../../src/errors';
import { PowerOfTwoChoicesStrategy } from '../../../src/strategies/power-of-two-choices';
import type { Strategy } from '../../../src/strategies/strategy';
import { close, fakeBackend, fakeBackends, fakeContext, maxOverMean, open, seededRandom, type FakeBackend } from './fakes';

const ctx = fakeContext();

/** A generator replaying fixed draws. */
function draws(...values: number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length];
}

interface SimulationResult {
  /** max/mean of how many connections each backend received. */
  picksRatio: number;
  /** Worst max/mean of live connections at any moment after warm-up. */
  peakLiveRatio: number;
}

/**
 * One arrival per tick for `arrivals` ticks; each connection is held for an
 * exponentially distributed time (mean `meanHold` ticks), so ~meanHold live
 * connections share the backends once warmed up.
 */
function simulate(strategy: Strategy, random: () => number, arrivals: number, meanHold: number): SimulationResult {
  const backends = fakeBackends(10);
  const departures: { at: number; backend: FakeBackend }[] = [];
  const received = new Map<string, number>(backends.map((b) => [b.id, 0]));
  let peakLiveRatio = 0;
  for (let tick = 0; tick < arrivals; tick++) {
    for (let i = departures.length - 1; i >= 0; i--) {
      if (departures[i].at <= tick) {
        close(strategy, departures[i].backend);
        departures.splice(i, 1);
      }
    }
    const backend = open(strategy, backends, ctx)!;
    received.set(backend.id, received.get(backend.id)! + 1);
    departures.push({ at: tick - Math.log(1 - random()) * meanHold, backend });
    // Warm-up: the first hold-times' worth of ticks, while live counts are tiny.
    if (tick >= 4 * meanHold) peakLiveRatio = Math.max(peakLiveRatio, maxOverMean(backends.map((b) => b.activeConnections)));
  }
  return { picksRatio: maxOverMean(received.values()), peakLiveRatio };
}

describe('PowerOfTwoChoicesStrategy', () => {
  describe('pick()', () => {
    it('takes the less loaded of two distinct random candidates', () => {
      const backends = [fakeBackend('a', { activeConnections: 5 }), fakeBackend('b', { activeConnections: 1 }), fakeBackend('c', { activeConnections: 3 })];
      // Draws 0.0 then 0.0: first = a (index 0), second = index 0 of the others = b.
      expect(new PowerOfTwoChoicesStrategy({ random: draws(0, 0) }).pick(ctx, backends)?.id).toBe('b');
      // Draws 0.9 then 0.0: first = c, second = a; c is less loaded.
      expect(new PowerOfTwoChoicesStrategy({ random: draws(0.9, 0) }).pick(ctx, backends)?.id).toBe('c');
    });

    it('compares load per unit of weight', () => {
      const backends = [fakeBackend('a', { activeConnections: 4, weight: 4 }), fakeBackend('b', { activeConnections: 2, weight: 1 })];
      expect(new PowerOfTwoChoicesStrategy({ random: draws(0.9, 0) }).pick(ctx, backends)?.id).toBe('a');
    });

    it('never samples the same candidate twice', () => {
      const backends = fakeBackends(2);
      backends[0].activeConnections = 9;
      // Both draws point at index 0; the second is remapped to the other candidate.
      expect(new PowerOfTwoChoicesStrategy({ random: draws(0, 0) }).pick(ctx, backends)?.id).toBe('backend-1');
    });

    it('copes with a generator that returns 1', () => {
      const backends = fakeBackends(3);
      expect(backends).toContain(new PowerOfTwoChoicesStrategy({ random: () => 1 }).pick(ctx, backends));
    });

    it('returns the only candidate, or undefined for none', () => {
      const only = fakeBackend('only');
      const strategy = new PowerOfTwoChoicesStrategy();
      expect(strategy.pick(ctx, [only])).toBe(only);
      expect(strategy.pick(ctx, [])).toBeUndefined();
    });

    it('throws ERR_INVALID_OPTION for a random that is not a function', () => {
      const bad = { random: 0.5 } as unknown as { random: () => number };
      expect(() => new PowerOfTwoChoicesStrategy(bad)).toThrow(InvalidOptionError);
      expect(() => new PowerOfTwoChoicesStrategy(bad)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_OPTION' }));
    });
  });

  describe('on 10 equal backends, 10,000 picks with random hold times', () => {
    const ARRIVALS = 10_000;
    const MEAN_HOLD = 500; // ~50 live connections per backend

    it('keeps max/mean below 1.15, for connections received and for live connections at every moment', () => {
      const random = seededRandom(2);
      const { picksRatio, peakLiveRatio } = simulate(new PowerOfTwoChoicesStrategy({ random }), random, ARRIVALS, MEAN_HOLD);
      expect(picksRatio).toBeLessThan(1.15);
      expect(peakLiveRatio).toBeLessThan(1.15);
    });

    it('balances live connections better than a single random choice', () => {
      const random = seededRandom(2);
      const oneChoice: Strategy = { name: 'random', pick: (_c, candidates) => candidates[Math.floor(random() * candidates.length)] };
      const p2c = simulate(new PowerOfTwoChoicesStrategy({ random: seededRandom(2) }), seededRandom(3), ARRIVALS, MEAN_HOLD);
      const single = simulate(oneChoice, seededRandom(3), ARRIVALS, MEAN_HOLD);
      expect(p2c.peakLiveRatio).toBeLessThan(single.peakLiveRatio);
      expect(single.peakLiveRatio).toBeGreaterThan(1.15);
    });
  });
});
