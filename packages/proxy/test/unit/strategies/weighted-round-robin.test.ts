import { WeightedRoundRobinStrategy } from '../../../src/strategies/weighted-round-robin';
import { candidatesFor, candidatesOf, fakeBackend, fakeContext, seededRandom, type FakeBackend } from './fakes';

const ctx = fakeContext();

/** nginx's algorithm written out naively, as the reference. */
function referenceSequence(weights: readonly number[], length: number): number[] {
  const current = weights.map(() => 0);
  const total = weights.reduce((a, b) => a + b, 0);
  const out: number[] = [];
  for (let step = 0; step < length; step++) {
    let best = 0;
    for (let i = 0; i < weights.length; i++) {
      current[i] += weights[i];
      if (current[i] > current[best]) best = i;
    }
    current[best] -= total;
    out.push(best);
  }
  return out;
}

function backendsWithWeights(weights: readonly number[]): FakeBackend[] {
  return weights.map((weight, i) => fakeBackend(String.fromCharCode(97 + i), { weight }));
}

function picks(strategy: WeightedRoundRobinStrategy, backends: FakeBackend[], count: number): string[] {
  return Array.from({ length: count }, () => strategy.pick(ctx, candidatesOf(backends))?.id ?? '-');
}

describe('WeightedRoundRobinStrategy', () => {
  describe('pick()', () => {
    it('spreads weights 5, 1, 1 as a a b a c a a (nginx smooth weighted round-robin)', () => {
      const backends = backendsWithWeights([5, 1, 1]);
      const strategy = new WeightedRoundRobinStrategy();
      strategy.update(backends);
      expect(picks(strategy, backends, 14).join(' ')).toBe('a a b a c a a a a b a c a a');
    });

    it.each([
      { weights: [5, 1, 1] },
      { weights: [1, 1, 1] },
      { weights: [3, 2] },
      { weights: [4, 2, 1] },
      { weights: [10, 7, 3, 1] },
      { weights: [1, 100] },
    ])('matches the reference sequence for weights $weights, with and without a precomputed cycle', ({ weights }) => {
      const total = weights.reduce((a, b) => a + b, 0);
      const expected = referenceSequence(weights, 3 * total).map((i) => String.fromCharCode(97 + i));
      const cached = backendsWithWeights(weights);
      const withUpdate = new WeightedRoundRobinStrategy();
      withUpdate.update(cached);
      expect(picks(withUpdate, cached, 3 * total)).toEqual(expected);
      const direct = backendsWithWeights(weights);
      expect(picks(new WeightedRoundRobinStrategy(), direct, 3 * total)).toEqual(expected);
    });

    it('gives each backend exactly its weight per cycle, for random weight sets', () => {
      const random = seededRandom(1);
      for (let trial = 0; trial < 20; trial++) {
        const weights = Array.from({ length: 2 + Math.floor(random() * 8) }, () => 1 + Math.floor(random() * 20));
        const backends = backendsWithWeights(weights);
        const strategy = new WeightedRoundRobinStrategy();
        strategy.update(backends);
        const total = weights.reduce((a, b) => a + b, 0);
        const counts = new Map<string, number>();
        for (const id of picks(strategy, backends, total)) counts.set(id, (counts.get(id) ?? 0) + 1);
        expect(backends.map((b) => counts.get(b.id) ?? 0)).toEqual(weights);
      }
    });

    it('skips a full backend and keeps the others in proportion', () => {
      const backends = backendsWithWeights([5, 2, 1]);
      const strategy = new WeightedRoundRobinStrategy();
      strategy.update(backends);
      backends[0].maxConnections = 0;
      const counts = { a: 0, b: 0, c: 0 } as Record<string, number>;
      for (const id of picks(strategy, backends, 300)) counts[id]++;
      expect(counts).toEqual({ a: 0, b: 200, c: 100 });
    });

    it('leaves out down and draining backends after update()', () => {
      const backends = backendsWithWeights([1, 1, 1]);
      const strategy = new WeightedRoundRobinStrategy();
      backends[1].state = 'down';
      backends[2].state = 'draining';
      strategy.update(backends);
      expect(new Set(picks(strategy, backends, 10))).toEqual(new Set(['a']));
    });

    it('follows weight changes announced by update()', () => {
      const backends = backendsWithWeights([1, 1]);
      const strategy = new WeightedRoundRobinStrategy();
      strategy.update(backends);
      backends[1].weight = 3;
      strategy.update(backends);
      expect(picks(strategy, backends, 4).sort().join('')).toBe('abbb');
    });

    it('still answers when only one of many backends can take connections', () => {
      const backends = Array.from({ length: 50 }, (_, i) => fakeBackend(`n${i}`, { weight: 1 + (i % 3) }));
      const strategy = new WeightedRoundRobinStrategy();
      strategy.update(backends);
      for (const b of backends.slice(1)) b.maxConnections = 0;
      expect(new Set(picks(strategy, backends, 20))).toEqual(new Set(['n0']));
    });

    it('skips backends the connection must avoid (a retry), with and without a precomputed cycle', () => {
      for (const withUpdate of [true, false]) {
        const backends = backendsWithWeights([5, 1, 1]);
        const strategy = new WeightedRoundRobinStrategy();
        if (withUpdate) strategy.update(backends);
        const retry = fakeContext({ avoid: ['a'] });
        const chosen = Array.from({ length: 10 }, () => strategy.pick(retry, candidatesFor(backends, retry))?.id);
        expect(new Set(chosen)).toEqual(new Set(['b', 'c']));
      }
    });

    it('returns undefined for no candidates', () => {
      expect(new WeightedRoundRobinStrategy().pick(ctx, [])).toBeUndefined();
    });
  });
});
