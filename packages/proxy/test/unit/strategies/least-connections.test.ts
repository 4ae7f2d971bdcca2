import fc from 'fast-check';
import { LeastConnectionsStrategy } from '../../../src/strategies/least-connections';
import { candidatesFor, candidatesOf, close, fakeBackend, fakeBackends, fakeContext, open, seededRandom, type FakeBackend } from './fakes';

const ctx = fakeContext();

function spread(backends: readonly FakeBackend[]): number {
  const counts = backends.map((b) => b.activeConnections);
  return Math.max(...counts) - Math.min(...counts);
}

/** active/weight, for checking a choice against every candidate. */
function load(b: FakeBackend): number {
  return b.activeConnections / b.weight;
}

// After update() the strategy keeps a heap fed by the connection hooks; before
// it, a pick scans the candidates. Both must behave the same.
describe.each([
  { mode: 'after update() (heap)', prepare: (s: LeastConnectionsStrategy, b: FakeBackend[]) => s.update(b) },
  { mode: 'before update() (scan)', prepare: () => undefined },
])('LeastConnectionsStrategy $mode', ({ prepare }) => {
  const make = (backends: FakeBackend[]): LeastConnectionsStrategy => {
    const strategy = new LeastConnectionsStrategy();
    prepare(strategy, backends);
    return strategy;
  };

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
      const strategy = make(backends);
      // Picks alone (no connection opened) keep choosing the unique minimum.
      for (let i = 0; i < backends.length; i++) expect(strategy.pick(ctx, candidatesOf(backends))?.id).toBe(expected);
    });

    it('breaks ties fairly: equally loaded backends take turns instead of the first always winning', () => {
      const backends = fakeBackends(4);
      const strategy = make(backends);
      const chosen = Array.from({ length: 8 }, () => strategy.pick(ctx, candidatesOf(backends))?.id);
      expect(new Set(chosen.slice(0, 4)).size).toBe(4);
      expect(new Set(chosen.slice(4)).size).toBe(4);
    });

    it('skips a least-loaded backend that is full', () => {
      const backends = [fakeBackend('a', { activeConnections: 1, maxConnections: 1 }), fakeBackend('b', { activeConnections: 5 }), fakeBackend('c', { activeConnections: 3 })];
      expect(make(backends).pick(ctx, candidatesOf(backends))?.id).toBe('c');
    });

    it('skips the least-loaded backend when the connection must avoid it (a retry)', () => {
      const backends = [fakeBackend('a', { activeConnections: 0 }), fakeBackend('b', { activeConnections: 5 }), fakeBackend('c', { activeConnections: 3 })];
      const retry = fakeContext({ avoid: ['a'] });
      expect(make(backends).pick(retry, candidatesFor(backends, retry))?.id).toBe('c');
    });

    it('returns undefined for no candidates', () => {
      const backends = [fakeBackend('a', { maxConnections: 0 })];
      expect(make(backends).pick(ctx, [])).toBeUndefined();
    });
  });

  describe('with connections opening and closing in random order', () => {
    it('keeps every backend within 1 connection of the others over 300 connections', () => {
      const backends = fakeBackends(3);
      const strategy = make(backends);
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

    it('fills weighted backends in proportion to their weights', () => {
      const backends = [fakeBackend('a', { weight: 1 }), fakeBackend('b', { weight: 2 }), fakeBackend('c', { weight: 3 })];
      const strategy = make(backends);
      for (let i = 0; i < 600; i++) open(strategy, backends, ctx);
      expect(backends.map((b) => b.activeConnections)).toEqual([100, 200, 300]);
    });
  });
});

describe('LeastConnectionsStrategy heap', () => {
  type Op = { kind: 'open' } | { kind: 'close'; at: number } | { kind: 'state'; at: number; up: boolean } | { kind: 'weight'; at: number; weight: number } | { kind: 'limit'; at: number; max: number };
  const op: fc.Arbitrary<Op> = fc.oneof(
    { arbitrary: fc.constant<Op>({ kind: 'open' }), weight: 6 },
    { arbitrary: fc.nat().map<Op>((at) => ({ kind: 'close', at })), weight: 4 },
    { arbitrary: fc.record({ at: fc.nat(), up: fc.boolean() }).map<Op>((r) => ({ kind: 'state', ...r })), weight: 1 },
    { arbitrary: fc.record({ at: fc.nat(), weight: fc.integer({ min: 1, max: 5 }) }).map<Op>((r) => ({ kind: 'weight', ...r })), weight: 1 },
    { arbitrary: fc.record({ at: fc.nat(), max: fc.integer({ min: 0, max: 8 }) }).map<Op>((r) => ({ kind: 'limit', ...r })), weight: 1 },
  );

  it('always picks a candidate of minimum load per weight, through opens, closes, state, weight and limit changes', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.array(op, { maxLength: 200 }), (count, ops) => {
        const backends = fakeBackends(count);
        const strategy = new LeastConnectionsStrategy();
        strategy.update(backends);
        const live: FakeBackend[] = [];
        for (const o of ops) {
          if (o.kind === 'open') {
            const candidates = candidatesOf(backends);
            const chosen = open(strategy, backends, ctx);
            if (candidates.length === 0) {
              expect(chosen).toBeUndefined();
              continue;
            }
            expect(chosen).toBeDefined();
            chosen!.activeConnections--; // compare with the load it had when chosen
            expect(load(chosen!)).toBe(Math.min(...candidates.map(load)));
            chosen!.activeConnections++;
            live.push(chosen!);
          } else if (o.kind === 'close') {
            if (live.length > 0) close(strategy, live.splice(o.at % live.length, 1)[0]);
          } else if (o.kind === 'limit') {
            // A limit is static configuration; reaching it needs no update().
            backends[o.at % count].maxConnections = o.max;
          } else {
            const b = backends[o.at % count];
            if (o.kind === 'state') b.state = o.up ? 'up' : 'down';
            else b.weight = o.weight;
            strategy.update(backends); // the proxy announces state and weight changes
          }
        }
      }),
      { numRuns: 300, interruptAfterTimeLimit: 4000 },
    );
  });
});
