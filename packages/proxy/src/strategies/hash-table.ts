import type { BackendView } from './strategy';

/**
 * A consistent-hash lookup structure (ring or Maglev table) built from stable
 * backend ids.
 *
 * @remarks
 * Each key hash has a preference order over all backends: the primary, then
 * the next distinct backends along the ring (or table). `find()` walks that
 * order until `accept` agrees, so skipping a down or full backend, or one over
 * its bounded load, is deterministic: every proxy with the same backends walks
 * the same way.
 *
 * @internal
 * @example
 * ```ts
 * import type { HashTable } from './hash-table';
 * declare const table: HashTable;
 * const backend = table.find(0xdeadbeef, (b) => b.state === 'up');
 * ```
 */
export interface HashTable {
  /** Rebuilds from `backends`, sorted by id, each with a positive weight. */
  build(backends: readonly BackendView[]): void;
  /** The first backend in `hash`'s preference order that `accept` takes. */
  find(hash: number, accept: (backend: BackendView) => boolean): BackendView | undefined;
}

/**
 * Walks an array of owner indexes from `start`, wrapping around, offering each
 * distinct backend once; shared by the ring (owners of sorted points) and
 * Maglev (the lookup table itself).
 *
 * @remarks
 * Marks use an epoch counter instead of a fresh Set per pick, so a walk
 * allocates nothing; it stops once every backend has been offered.
 *
 * @internal
 * @example
 * ```ts
 * import { OwnerWalker } from './hash-table';
 * const walker = new OwnerWalker();
 * ```
 */
export class OwnerWalker {
  #marks = new Int32Array(0);
  #epoch = 0;

  /** Resets the marks for `count` backends; call after each build. */
  reset(count: number): void {
    this.#marks = new Int32Array(count);
    this.#epoch = 0;
  }

  walk(
    owners: Int32Array,
    start: number,
    backends: readonly BackendView[],
    accept: (backend: BackendView) => boolean,
  ): BackendView | undefined {
    const length = owners.length;
    if (length === 0) return undefined;
    const first = backends[owners[start]];
    // The common case: the primary is fine, no marking needed.
    if (accept(first)) return first;
    const marks = this.#marks;
    if (this.#epoch === 0x7fffffff) {
      marks.fill(0);
      this.#epoch = 0;
    }
    const epoch = ++this.#epoch;
    marks[owners[start]] = epoch;
    let offered = 1;
    let index = start;
    for (let step = 1; step < length && offered < backends.length; step++) {
      index = index + 1 === length ? 0 : index + 1;
      const owner = owners[index];
      if (marks[owner] === epoch) continue;
      marks[owner] = epoch;
      offered++;
      const backend = backends[owner];
      if (accept(backend)) return backend;
    }
    return undefined;
  }
}
