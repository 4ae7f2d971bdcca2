import { BackendPool, isPanic } from '../../../src/backends/backend-pool';
import { ConnectionTable } from '../../../src/connection-table';
import { resolveBackend } from '../../../src/resolve-options';
import type { BackendState } from '../../../src/strategies/strategy';

function pool(ids: readonly string[], panicThreshold: number): BackendPool {
  return new BackendPool(
    ids.map((id, i) => resolveBackend({ url: `http://127.0.0.1:${9001 + i}`, id }, 'backend')),
    new ConnectionTable(),
    panicThreshold,
  );
}

describe('isPanic()', () => {
  it.each([
    // healthy, eligible (not draining), panicThreshold -> panic
    [2, 2, 50, false],
    [1, 2, 50, false],
    [0, 2, 50, true],
    [1, 3, 50, true],
    [2, 3, 50, false],
    [2, 4, 50, false],
    [1, 4, 50, true],
    [0, 1, 50, true],
    [0, 2, 0, false],
    [3, 4, 100, true],
    [4, 4, 100, false],
    // Every backend draining: nothing may take traffic, which is not a panic.
    [0, 0, 50, false],
  ])('%i healthy of %i, threshold %i%%: %s', (healthy, eligible, threshold, expected) => {
    expect(isPanic(healthy, eligible, threshold)).toBe(expected);
  });
});

describe('BackendPool', () => {
  describe('panic mode', () => {
    it('offers every backend that is not draining as a candidate, up and down alike, while too few are up', () => {
      const p = pool(['a', 'b', 'c', 'd'], 50);
      const flips: [boolean, number, number][] = [];
      p.onPanicChange = (panic, healthy, eligible) => flips.push([panic, healthy, eligible]);
      p.setState('a', 'down');
      p.setState('b', 'down');
      expect(p.candidates().map((b) => b.id)).toEqual(['c', 'd']);
      p.setState('d', 'draining');
      // 1 of the 3 backends that may take traffic is up.
      expect(p.panic).toBe(true);
      expect(p.candidates().map((b) => `${b.id}:${b.state}`)).toEqual(['a:up', 'b:up', 'c:up']);
      expect(p.all().map((b) => b.snapshot().state)).toEqual<BackendState[]>(['down', 'down', 'up', 'draining']);
      p.setState('a', 'up');
      expect(p.panic).toBe(false);
      expect(p.candidates().map((b) => b.id)).toEqual(['a', 'c']);
      expect(flips).toEqual([
        [true, 1, 3],
        [false, 2, 3],
      ]);
    });

    it('lets strategies rebuild from the effective states: update() runs after the mode is set', () => {
      const p = pool(['a', 'b'], 50);
      const seen: string[][] = [];
      p.onChange = (all) => seen.push(all.filter((b) => b.state === 'up').map((b) => b.id));
      p.setState('a', 'down');
      p.setState('b', 'down');
      expect(seen).toEqual([['b'], ['a', 'b']]);
    });

    it('never starts with panicThreshold 0, even with every backend down', () => {
      const p = pool(['a', 'b'], 0);
      p.setState('a', 'down');
      p.setState('b', 'down');
      expect(p.panic).toBe(false);
      expect(p.candidates()).toEqual([]);
    });

    it('does not panic when every backend is draining', () => {
      const p = pool(['a'], 100);
      p.setState('a', 'draining');
      expect(p.panic).toBe(false);
      expect(p.candidates()).toEqual([]);
    });
  });
});
