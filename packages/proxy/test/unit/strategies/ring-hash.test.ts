import { InvalidOptionError } from '../../../src/errors';
import { IpHashStrategy } from '../../../src/strategies/ip-hash';
import { DEFAULT_RING_POINTS_PER_BACKEND, RingHashTable } from '../../../src/strategies/ring-hash';
import { countBy, fakeBackend, fakeBackends, maxOverMean, placements as placeKeys, type FakeBackend } from './fakes';

/** The backend id each of `keys` client IPs lands on. */
function placements(backends: FakeBackend[], keys: number, options: { pointsPerBackend?: number } = {}): string[] {
  return placeKeys(new IpHashStrategy({ hash: 'ring', ...options }), backends, keys);
}

describe('RingHashTable (hash: ring)', () => {
  it(`keeps max/mean load at most 1.15 with 1,000,000 keys on 100 backends at the default ${DEFAULT_RING_POINTS_PER_BACKEND} points`, () => {
    const counts = countBy(placements(fakeBackends(100), 1_000_000));
    expect(counts.size).toBe(100);
    expect(maxOverMean(counts.values())).toBeLessThanOrEqual(1.15);
  });

  it('balances better with more points per backend (std. dev. ~ 1/sqrt(points))', () => {
    const few = maxOverMean(countBy(placements(fakeBackends(50), 200_000, { pointsPerBackend: 20 })).values());
    const many = maxOverMean(countBy(placements(fakeBackends(50), 200_000, { pointsPerBackend: 2000 })).values());
    expect(many).toBeLessThan(few);
  });

  describe('when an 11th backend joins 10', () => {
    it('moves at most 1.15 x the ideal 1/11 of keys, all of them to the new backend', () => {
      const KEYS = 200_000;
      const ten = fakeBackends(10);
      const eleven = [...ten, fakeBackend('backend-10')];
      const before = placements(ten, KEYS);
      const after = placements(eleven, KEYS);
      let moved = 0;
      let movedElsewhere = 0;
      for (let k = 0; k < KEYS; k++) {
        if (before[k] === after[k]) continue;
        moved++;
        if (after[k] !== 'backend-10') movedElsewhere++;
      }
      expect(moved / KEYS).toBeLessThanOrEqual((1.15 * 1) / 11);
      expect(movedElsewhere).toBe(0);
    });
  });

  describe('when one of 10 backends is removed', () => {
    it("moves only that backend's keys", () => {
      const KEYS = 200_000;
      const ten = fakeBackends(10);
      const nine = ten.filter((b) => b.id !== 'backend-3');
      const before = placements(ten, KEYS);
      const after = placements(nine, KEYS);
      let movedOthers = 0;
      let movedOwn = 0;
      for (let k = 0; k < KEYS; k++) {
        if (before[k] === 'backend-3') movedOwn++;
        else if (before[k] !== after[k]) movedOthers++;
      }
      expect(movedOthers).toBe(0);
      expect(movedOwn).toBeGreaterThan(0);
    });
  });

  it('gives a backend points, hence keys, in proportion to its weight', () => {
    const backends = [fakeBackend('a', { weight: 1 }), fakeBackend('b', { weight: 3 }), ...fakeBackends(4, 'w1-')];
    const counts = countBy(placements(backends, 300_000));
    const ratio = counts.get('b')! / counts.get('a')!;
    expect(ratio).toBeGreaterThan(2.7);
    expect(ratio).toBeLessThan(3.3);
  });

  it('places keys the same whatever order the backends are listed in', () => {
    const backends = fakeBackends(20);
    const reversed = [...backends].reverse().map((b) => fakeBackend(b.id, { url: 'http://192.0.2.1:1' }));
    expect(placements(reversed, 20_000)).toEqual(placements(backends, 20_000));
  });

  it.each([0, -1, 1.5, Number.NaN, 2 ** 25])('throws ERR_INVALID_OPTION for pointsPerBackend %p', (points) => {
    expect(() => new RingHashTable({ pointsPerBackend: points })).toThrow(InvalidOptionError);
  });

  it('answers undefined from an empty ring', () => {
    const ring = new RingHashTable();
    ring.build([]);
    expect(ring.find(123, () => true)).toBeUndefined();
  });
});
