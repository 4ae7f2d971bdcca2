import { InvalidOptionError } from '../../../src/errors';
import { IpHashStrategy } from '../../../src/strategies/ip-hash';
import { DEFAULT_MAGLEV_TABLE_SIZE, isPrime, MaglevTable } from '../../../src/strategies/maglev';
import { countBy, fakeBackend, fakeBackends, maxOverMean, placements as placeKeys, type FakeBackend } from './fakes';

/** Where `keys` client IPs land with Maglev (optionally a given table size). */
function placements(backends: FakeBackend[], keys: number, tableSize?: number): string[] {
  return placeKeys(new IpHashStrategy(tableSize === undefined ? { hash: 'maglev' } : { hash: 'maglev', tableSize }), backends, keys);
}

describe('MaglevTable (hash: maglev)', () => {
  let warning: jest.SpyInstance;
  beforeEach(() => {
    warning = jest.spyOn(process, 'emitWarning').mockImplementation(() => undefined);
  });
  afterEach(() => warning.mockRestore());

  it(`uses a prime table size of ${DEFAULT_MAGLEV_TABLE_SIZE} by default, above 100 x 100 backends`, () => {
    expect(isPrime(DEFAULT_MAGLEV_TABLE_SIZE)).toBe(true);
    expect(DEFAULT_MAGLEV_TABLE_SIZE).toBeGreaterThan(100 * 100);
    expect(new MaglevTable().tableSize).toBe(DEFAULT_MAGLEV_TABLE_SIZE);
  });

  it('keeps max/mean load at most 1.05 with 1,000,000 keys on 100 backends', () => {
    const counts = countBy(placements(fakeBackends(100), 1_000_000));
    expect(counts.size).toBe(100);
    expect(maxOverMean(counts.values())).toBeLessThanOrEqual(1.05);
  });

  it('moves at most 2 x the ideal 1/11 of keys when an 11th backend joins 10', () => {
    const KEYS = 200_000;
    const ten = fakeBackends(10);
    const before = placements(ten, KEYS);
    const after = placements([...ten, fakeBackend('backend-10')], KEYS);
    const moved = before.filter((id, k) => id !== after[k]).length;
    expect(moved / KEYS).toBeLessThanOrEqual((2 * 1) / 11);
  });

  it('gives a backend slots, hence keys, in proportion to its weight', () => {
    const backends = [fakeBackend('a', { weight: 1 }), fakeBackend('b', { weight: 2 }), ...fakeBackends(3, 'w1-')];
    const counts = countBy(placements(backends, 200_000));
    const ratio = counts.get('b')! / counts.get('a')!;
    expect(ratio).toBeGreaterThan(1.9);
    expect(ratio).toBeLessThan(2.1);
  });

  it('does not warn at the default size for 100 backends', () => {
    new MaglevTable().build(fakeBackends(100));
    expect(warning).not.toHaveBeenCalled();
  });

  it('warns once per process when the table size is not a prime above 100 x backends, and still serves every backend', () => {
    isolatedMaglev((Table) => {
      const table = new Table({ tableSize: 1000 }); // not prime
      const backends = fakeBackends(5);
      table.build(backends);
      table.build(backends);
      new Table({ tableSize: 101 }).build(backends); // prime but <= 100 x 5
      expect(warning).toHaveBeenCalledTimes(1);
      expect(warning.mock.calls[0][1]).toEqual(expect.objectContaining({ code: 'SWITCHBOARD_MAGLEV_TABLE_SIZE' }));
      const seen = new Set<string>();
      for (let h = 0; h < 1000; h++) seen.add(table.find(h, () => true)!.id);
      expect(seen.size).toBe(5);
    });
  });

  it('warns when the default size is too small for the backends', () => {
    isolatedMaglev((Table) => {
      new Table().build(fakeBackends(700));
      expect(warning).toHaveBeenCalledTimes(1);
    });
  });

  it.each([0, 1, 2.5, Number.NaN, 2 ** 24 + 1])('throws ERR_INVALID_OPTION for tableSize %p', (tableSize) => {
    expect(() => new MaglevTable({ tableSize })).toThrow(InvalidOptionError);
  });

  it.each([
    [2, true],
    [3, true],
    [65537, true],
    [65536, false],
    [1, false],
    [100003, true],
    [99991 * 3, false],
  ])('isPrime(%i) is %p', (value, expected) => {
    expect(isPrime(value)).toBe(expected);
  });
});

/** Runs `fn` with a fresh copy of the module, whose once-per-process warning flag is unset. */
function isolatedMaglev(fn: (Table: typeof MaglevTable) => void): void {
  jest.isolateModules(() => {
    const fresh = require('../../../src/strategies/maglev') as typeof import('../../../src/strategies/maglev');
    fn(fresh.MaglevTable);
  });
}
