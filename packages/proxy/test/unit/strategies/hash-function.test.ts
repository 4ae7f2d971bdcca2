import { murmur3, murmur3Bytes } from '../../../src/strategies/hash-function';

describe('murmur3()', () => {
  // Reference values of MurmurHash3_x86_32 (Appleby's SMHasher; Guava murmur3_32, Python mmh3).
  it.each([
    ['', 0, 0x00000000],
    ['', 1, 0x514e28b7],
    ['abc', 0, 0xb3dd93fa],
    ['abcd', 0x9747b28c, 0xf0478627],
    ['hello', 0, 0x248bfa47],
    ['The quick brown fox jumps over the lazy dog', 0, 0x2e4ff723],
  ])('hashes %j with seed %i to the reference value', (key, seed, expected) => {
    expect(murmur3(key, seed)).toBe(expected);
  });

  it('hashes the UTF-8 bytes of non-ASCII strings, wherever the non-ASCII char is', () => {
    for (const key of ['héllo', 'hellö', 'ö', 'ab€', 'naïve-user', '日本語のキー', '🎉 party']) {
      expect(murmur3(key, 7)).toBe(murmur3Bytes(Buffer.from(key, 'utf8'), 7));
    }
  });

  it('returns unsigned 32-bit integers', () => {
    for (let i = 0; i < 1000; i++) {
      const h = murmur3(`key-${i}`, i);
      expect(Number.isInteger(h) && h >= 0 && h <= 0xffffffff).toBe(true);
    }
  });

  it('gives independent values for different seeds', () => {
    const seeds = new Set(Array.from({ length: 1000 }, (_, seed) => murmur3('backend-1', seed)));
    expect(seeds.size).toBe(1000);
  });
});
