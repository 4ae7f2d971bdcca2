/**
 * MurmurHash3 (x86, 32-bit) of a string's UTF-8 bytes.
 *
 * @remarks
 * Consistent hashing needs a hash that is fast, well mixed and identical in
 * every process, so that two proxies place a key on the same backend without
 * sharing state. MurmurHash3 is all three and is a published algorithm
 * (`murmur3_32` in Guava, `mmh3` in Python), so other tools can reproduce our
 * placements. It is not a cryptographic hash: an attacker who can choose keys
 * can aim them at one backend; use bounded load if that matters.
 *
 * ASCII strings (IP addresses, ids) are hashed straight from their char codes;
 * other strings are UTF-8 encoded first, so the result never depends on
 * JavaScript's UTF-16 representation.
 *
 * @param key - The string to hash.
 * @param seed - A 32-bit seed; different seeds give independent hash functions.
 * @returns An unsigned 32-bit integer.
 *
 * @example
 * ```ts
 * import { murmur3 } from '@switchboard/proxy';
 * console.log(murmur3('hello').toString(16)); // 248bfa47
 * ```
 */
export function murmur3(key: string, seed = 0): number {
  const length = key.length;
  let h = seed >>> 0;
  let i = 0;
  const bodyEnd = length & ~3;
  for (; i < bodyEnd; i += 4) {
    const c0 = key.charCodeAt(i);
    const c1 = key.charCodeAt(i + 1);
    const c2 = key.charCodeAt(i + 2);
    const c3 = key.charCodeAt(i + 3);
    // A non-ASCII char has more than one UTF-8 byte: hash the encoded bytes instead.
    if ((c0 | c1 | c2 | c3) > 0x7f) return murmur3Bytes(Buffer.from(key, 'utf8'), seed);
    h = mixBody(h, c0 | (c1 << 8) | (c2 << 16) | (c3 << 24));
  }
  const tail = length & 3;
  if (tail > 0) {
    // Tail bytes, little-endian, as in the reference implementation.
    let k = 0;
    for (let t = tail - 1; t >= 0; t--) {
      const c = key.charCodeAt(i + t);
      if (c > 0x7f) return murmur3Bytes(Buffer.from(key, 'utf8'), seed);
      k |= c << (8 * t);
    }
    h ^= mixK(k);
  }
  return finalize(h ^ length);
}

/**
 * MurmurHash3 (x86, 32-bit) of raw bytes.
 *
 * @internal
 * @example
 * ```ts
 * import { murmur3Bytes } from './hash-function';
 * console.log(murmur3Bytes(Buffer.from('hello')).toString(16)); // 248bfa47
 * ```
 */
export function murmur3Bytes(bytes: Uint8Array, seed = 0): number {
  const length = bytes.length;
  let h = seed >>> 0;
  let i = 0;
  const bodyEnd = length & ~3;
  for (; i < bodyEnd; i += 4) {
    h = mixBody(h, bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24));
  }
  const tail = length & 3;
  if (tail > 0) {
    let k = 0;
    for (let t = tail - 1; t >= 0; t--) k |= bytes[i + t] << (8 * t);
    h ^= mixK(k);
  }
  return finalize(h ^ length);
}

/**
 * Module-level alias: a global lookup of `Math` costs ~100x more inside a vm
 * context (jest, some sandboxes), where this runs a million times per test.
 */
const imul = Math.imul;

const C1 = 0xcc9e2d51;
const C2 = 0x1b873593;

function mixK(k: number): number {
  k = imul(k, C1);
  k = (k << 15) | (k >>> 17);
  return imul(k, C2);
}

function mixBody(h: number, k: number): number {
  h ^= mixK(k);
  h = (h << 13) | (h >>> 19);
  return (imul(h, 5) + 0xe6546b64) | 0;
}

/** MurmurHash3's finalizer: a bijection that spreads every input bit over every output bit. */
function finalize(value: number): number {
  let h = value >>> 0;
  h ^= h >>> 16;
  h = imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}
