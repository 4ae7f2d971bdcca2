import { LeastConnectionsStrategy } from '../../../src/strategies/least-connections';
import { candidatesOf, close, fakeBackend, fakeBackends, fakeContext, open, seededRandom, type FakeBackend } from './fakes';

const ctx = fakeContext();

function spread(backends: readonly FakeBackend[]): number {
  const counts = backends.map((b) => b.activeConnections);
  return Math.max(...counts) - Math.min(...counts);
}

describe('LeastConnectionsStrategy', () => {
  describe('pick()', () => {
    it.each([
      { active: [3, 1, 2], weights: [1, 1, 1], expected: 'b' },
      { active: [0, 5, 5], weights: [1, 1, 1], expected: 'a' },
      // Per unit of weight: a 4/2 = 2, b 3/1 = 3, c 5/5 = 1.
      { active: [4, 3, 5], weights: [2, 1, 5], expected: 'c' },
      // b 2/4 = 0.5 beats a 1/1 = 1 although b has more connections.
      { active: [1, 2], weights: [1, 4], expected: 'b' },
    ])('takes the fewest active per weight: active $active, weights $weights -> $expected', ({ active, weights, expected }) => {
      const backends = active.map((n, i) => fakeBackend(String.fromCharCode(97 + i), { activeConnections: n, weight: weights[i] }));
      const strategy = new LeastConnectionsStrategy();
      // Whatever the rotating start, the unique minimum wins.
      for (let i = 0; i < backends.length; i++) expect(strategy.pick(ctx, candidatesOf(backends))?.id).toBe(expected);
    });

    it('breaks ties fairly: equally loaded backends take turns instead of the first always winning', () => {
      const backends = fakeBackends(4);
      const strategy = new LeastConnectionsStrategy();
      const chosen = Array.from({ length: 8 }, () => strategy.pick(ctx, candidatesOf(backends))?.id);
      expect(new Set(chosen.slice(0, 4)).size).toBe(4);
      expect(new Set(chosen.slice(4)).size).toBe(4);
    });

    it('returns undefined for no candidates', () => {
      expect(new LeastConnectionsStrategy().pick(ctx, [])).toBeUndefined();
    });
  });

  describe('with connections opening and closing in random order', () => {
    it('keeps every backend within 1 connection of the others over 300 connections', () => {
      const backends = fakeBackends(3);
      const strategy = new LeastConnectionsStrategy();
      const random = seededRandom(300);
      const live: FakeBackend[] = [];
      let worst = 0;
      for (let i = 0; i < 300; i++) {
        live.push(open(strategy, backends, ctx)!);
        worst = Math.max(worst, spread(backends));
      }
      // Churn: a random connection closes, a new one opens.
      for (let i = 0; i < 300; i++) {
        const [gone] = live.splice(Math.floor(random() * live.length), 1);
        close(strategy, gone);
        live.push(open(strategy, backends, ctx)!);
        worst = Math.max(worst, spread(backends));
      }
      expect(worst).toBeLessThanOrEqual(1);
      expect(backends.reduce((sum, b) => sum + b.activeConnections, 0)).toBe(300);
    });

    it('keeps weighted backends within 1 connection of their share', () => {
      const backends = [fakeBackend('a', { weight: 1 }), fakeBackend('b', { weight: 2 }), fakeBackend('c', { weight: 3 })];
      const strategy = new LeastConnectionsStrategy();
      for (let i = 0; i < 600; i++) open(strategy, backends, ctx);
      expect(backends.map((b) => b.activeConnections)).toEqual([100, 200, 300]);
    });
  });
});
