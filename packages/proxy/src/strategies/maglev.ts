import { InvalidOptionError } from '../errors';
import { murmur3 } from './hash-function';
import { OwnerWalker, type HashTable } from './hash-table';
import type { BackendView } from './strategy';

/**
 * Default Maglev lookup table size: a prime, as the paper requires, and more
 * than 100 x backends up to 655 backends (Envoy's default too).
 *
 * @example
 * ```ts
 * import { DEFAULT_MAGLEV_TABLE_SIZE } from '@switchboard/proxy';
 * console.log(DEFAULT_MAGLEV_TABLE_SIZE); // 65537
 * ```
 * @group Constants
 */
export const DEFAULT_MAGLEV_TABLE_SIZE = 65537;

/** The paper's rule of thumb: M > 100 x N keeps every backend within ~1% of its share. */
const SLOTS_PER_BACKEND = 100;

/** Largest table: 2^24 slots (64 MB). */
const MAX_TABLE_SIZE = 1 << 24;

/** Marks a slot not yet claimed while building (no backend has this index). */
const FREE = -1;

/** Seeds deriving the two independent per-backend hashes of the paper. */
const OFFSET_SEED = 0x6d61676c; // "magl"
const SKIP_SEED = 0x65760000; // "ev"

/**
 * Options of the Maglev table (`hash: 'maglev'`).
 *
 * @example
 * ```ts
 * import { IpHashStrategy, type MaglevOptions } from '@switchboard/proxy';
 * const maglev: MaglevOptions = { tableSize: 131071 };
 * const strategy = new IpHashStrategy({ hash: 'maglev', ...maglev });
 * ```
 * @group Strategies
 */
export interface MaglevOptions {
  /**
   * Lookup table size M.
   * @defaultValue {@link DEFAULT_MAGLEV_TABLE_SIZE} (65537)
   * @remarks Should be a prime above 100 x the number of backends; otherwise
   * balance degrades and a warning is emitted once. Lookups cost the same at
   * any size; memory is 4 bytes per slot.
   */
  readonly tableSize?: number;
}

let warned = false;

/**
 * Maglev consistent hashing (Eisenbud et al., NSDI 2016; Envoy `MAGLEV`).
 *
 * @remarks
 * Each backend derives, from its id alone, a permutation of the M slots
 * (`offset + j x skip mod M`); backends take turns claiming their next free
 * slot, in id order, until the table is full. A lookup is one array read, the
 * table is almost perfectly even (every backend gets floor(M/N) or ceil(M/N)
 * slots), and adding a backend moves a little more than the ideal 1/(N+1) of
 * keys. Weighted backends take turns in proportion to weight (Envoy's way).
 * Building costs O(M log M), ~1-2 ms for 100 backends.
 *
 * @internal
 * @example
 * ```ts
 * import { MaglevTable } from './maglev';
 * const table = new MaglevTable({ tableSize: 65537 });
 * ```
 */
export class MaglevTable implements HashTable {
  readonly tableSize: number;
  readonly #prime: boolean;
  #backends: readonly BackendView[] = [];
  #table = new Int32Array(0);
  readonly #walker = new OwnerWalker();

  constructor(options: MaglevOptions = {}) {
    const size = options.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    if (!Number.isInteger(size) || size < 2 || size > MAX_TABLE_SIZE) {
      throw new InvalidOptionError(`tableSize must be an integer from 2 to ${MAX_TABLE_SIZE}, got ${String(size)}`);
    }
    this.tableSize = size;
    this.#prime = isPrime(size);
  }

  build(backends: readonly BackendView[]): void {
    const size = this.tableSize;
    const count = backends.length;
    if (!warned && count > 0 && (!this.#prime || size <= SLOTS_PER_BACKEND * count)) {
      warned = true;
      process.emitWarning(
        `Maglev tableSize ${size} should be a prime above ${SLOTS_PER_BACKEND} x ${count} backends; balance will be uneven`,
        { code: 'SWITCHBOARD_MAGLEV_TABLE_SIZE' },
      );
    }
    const table = new Int32Array(size);
    this.#backends = backends;
    this.#table = table;
    this.#walker.reset(count);
    if (count === 0) return;
    const position = new Int32Array(count);
    const skip = new Int32Array(count);
    // Copies: views are live getters, and the loop below reads these ~M times.
    const weight = new Float64Array(count);
    const credit = new Float64Array(count);
    let maxWeight = 0;
    for (let i = 0; i < count; i++) {
      const id = backends[i].id;
      position[i] = murmur3(id, OFFSET_SEED) % size;
      skip[i] = coprimeSkip((murmur3(id, SKIP_SEED) % (size - 1)) + 1, size);
      weight[i] = backends[i].weight;
      maxWeight = Math.max(maxWeight, weight[i]);
    }
    table.fill(FREE);
    let filled = 0;
    while (filled < size) {
      for (let i = 0; i < count; i++) {
        // A backend of weight w claims w/maxWeight slots per round on average.
        credit[i] += weight[i];
        if (credit[i] < maxWeight) continue;
        credit[i] -= maxWeight;
        let slot = position[i];
        const step = skip[i];
        while (table[slot] !== FREE) {
          // slot = (slot + step) mod size without a branch: the wrap is a coin
          // flip the CPU mispredicts, and this loop runs ~M log M times.
          slot += step;
          slot -= size & ((size - 1 - slot) >> 31);
        }
        table[slot] = i;
        position[i] = slot;
        if (++filled === size) break;
      }
    }
  }

  find(hash: number, accept: (backend: BackendView) => boolean): BackendView | undefined {
    if (this.#backends.length === 0) return undefined;
    return this.#walker.walk(this.#table, hash % this.tableSize, this.#backends, accept);
  }
}

/**
 * The permutation `offset + j x skip mod M` visits every slot only when skip
 * and M are coprime; always true for a prime M, enforced here for any other M
 * so that building always terminates.
 */
function coprimeSkip(skip: number, size: number): number {
  let s = skip;
  while (gcd(s, size) !== 1) s = s + 1 === size ? 1 : s + 1;
  return s;
}

function gcd(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/**
 * Whether `value` is prime (trial division; table sizes are at most 2^24).
 *
 * @internal
 * @example
 * ```ts
 * import { isPrime } from './maglev';
 * console.log(isPrime(65537)); // true
 * ```
 */
export function isPrime(value: number): boolean {
  if (!Number.isInteger(value) || value < 2) return false;
  if (value % 2 === 0) return value === 2;
  for (let d = 3; d * d <= value; d += 2) if (value % d === 0) return false;
  return true;
}
