import { InvalidOptionError } from '../errors';
import { isCandidate } from './admission';
import { LoadBound, type BoundedLoadOptions } from './bounded-load';
import { murmur3 } from './hash-function';
import type { HashTable } from './hash-table';
import { LeastConnectionsStrategy } from './least-connections';
import { MaglevTable, type MaglevOptions } from './maglev';
import { RingHashTable, type RingHashOptions } from './ring-hash';
import type { BackendView, PickContext, Strategy } from './strategy';

/** Seed of key hashes, distinct from the seeds that place ring points and Maglev permutations. */
const KEY_SEED = 0x6b657973; // "keys"

/**
 * Options shared by the consistent-hash strategies ({@link IpHashStrategy},
 * {@link HashStrategy}); `hash` selects the table and which size option applies.
 *
 * @remarks
 * `maglev` (default) balances best (every backend within ~1% of its share at
 * M > 100 x N) and looks up in O(1); adding a backend moves a bit more than
 * the ideal share of keys. `ring` moves the fewest keys on change (removing a
 * backend moves only its own keys) but balances within ~`1/sqrt(points)`.
 * For WebSockets each connection is placed once and stays for hours, so
 * balance at placement usually matters more than reshuffling on the rare
 * membership change; pick `ring` when keys carry expensive state (a cache, a
 * room) that must move as little as possible.
 *
 * @example
 * ```ts
 * import { IpHashStrategy, type ConsistentHashOptions } from '@switchboard/proxy';
 * const options: ConsistentHashOptions = { hash: 'ring', pointsPerBackend: 2000, boundedLoad: { factor: 1.25 } };
 * const strategy = new IpHashStrategy(options);
 * ```
 * @group Strategies
 */
export type ConsistentHashOptions = ConsistentHashCommonOptions &
  (({ readonly hash?: 'maglev' } & MaglevOptions) | ({ readonly hash: 'ring' } & RingHashOptions));

/**
 * The consistent-hash table algorithm.
 *
 * @example
 * ```ts
 * import type { HashAlgorithm } from '@switchboard/proxy';
 * const algorithm: HashAlgorithm = 'maglev';
 * ```
 * @group Strategies
 */
export type HashAlgorithm = 'ring' | 'maglev';

/**
 * Options every consistent-hash strategy accepts, whatever its table.
 *
 * @example
 * ```ts
 * import { LeastConnectionsStrategy, type ConsistentHashCommonOptions } from '@switchboard/proxy';
 * const common: ConsistentHashCommonOptions = { boundedLoad: {}, fallback: new LeastConnectionsStrategy() };
 * ```
 * @group Strategies
 */
export interface ConsistentHashCommonOptions {
  /**
   * Cap every backend at `factor x` the average load (see {@link BoundedLoadOptions}).
   * @defaultValue off
   * @remarks `{}` turns it on with factor 1.25.
   */
  readonly boundedLoad?: BoundedLoadOptions;
  /**
   * Strategy used when a connection has no key (e.g. the header is missing).
   * @defaultValue a new {@link LeastConnectionsStrategy}
   * @remarks Least-connections because keyless connections are placed once
   * and live long, like the hashed ones; it sees every connection's
   * `update`/`onConnectionOpen`/`onConnectionClose` calls, not only its own.
   */
  readonly fallback?: Strategy;
}

/**
 * Base of the consistent-hash strategies: builds a ring or Maglev table from
 * stable backend ids and places each key on the first backend of its
 * preference order that can take it.
 *
 * @remarks
 * Tables hold every configured backend whatever its state, and state is read
 * live at pick time. So a backend that goes down or drains keeps its slots: its
 * keys walk to the next backend in their order while it is away and come back
 * when it returns, and no other key moves. Tables are rebuilt only when the
 * set of ids or a weight changes. Ids are sorted by code unit, never by
 * locale, so every proxy builds the same table. Subclasses provide the key.
 *
 * @example
 * ```ts
 * import { ConsistentHashStrategy, type PickContext } from '@switchboard/proxy';
 * class TenantHash extends ConsistentHashStrategy {
 *   readonly name = 'tenant-hash';
 *   protected keyOf(ctx: PickContext): string | undefined {
 *     return ctx.req.headers.host;
 *   }
 * }
 * const strategy = new TenantHash({ hash: 'ring' });
 * ```
 * @group Strategies
 */
export abstract class ConsistentHashStrategy implements Strategy {
  abstract readonly name: string;
  /** Which table this strategy builds. */
  readonly algorithm: HashAlgorithm;
  readonly #table: HashTable;
  readonly #bound: LoadBound | undefined;
  readonly #fallback: Strategy;
  /** Members of the current table, sorted by id, and their weights at build time. */
  #members: readonly BackendView[] = [];
  #weights: readonly number[] = [];
  #updated = false;
  /** The connection being placed, read by the accept callbacks (set per pick; a walk never re-enters). */
  #context: PickContext | undefined;
  readonly #accept = (backend: BackendView): boolean => isCandidate(backend, this.#context!);
  readonly #acceptBounded = (backend: BackendView): boolean => this.#accept(backend) && this.#bound!.allows(backend);

  constructor(options: ConsistentHashOptions = {}) {
    const algorithm = options.hash ?? 'maglev';
    if (algorithm === 'maglev') this.#table = new MaglevTable(options as MaglevOptions);
    else if (algorithm === 'ring') this.#table = new RingHashTable(options as RingHashOptions);
    else throw new InvalidOptionError(`hash must be 'ring' or 'maglev', got ${String(algorithm)}`);
    this.algorithm = algorithm;
    this.#bound = options.boundedLoad === undefined ? undefined : new LoadBound(options.boundedLoad);
    const fallback = options.fallback ?? new LeastConnectionsStrategy();
    if (typeof fallback !== 'object' || fallback === null || typeof fallback.pick !== 'function') {
      throw new InvalidOptionError('fallback must be a strategy object with pick()');
    }
    this.#fallback = fallback;
  }

  /** The key of this connection, or `undefined` to use the fallback strategy. */
  protected abstract keyOf(context: PickContext): string | undefined;

  update(backends: readonly BackendView[]): void {
    this.#updated = true;
    this.#bound?.reset(backends);
    this.#fallback.update?.(backends);
    const members = backends.filter((b) => b.weight > 0).sort(compareIds);
    if (!this.#sameMembers(members)) {
      this.#table.build(members);
      this.#members = members;
      this.#weights = members.map((b) => b.weight);
    }
  }

  /** Other workers' counts moved: recount the bound's total; the table is untouched. */
  onLoadChange(backends: readonly BackendView[]): void {
    this.#bound?.reset(backends);
    this.#fallback.onLoadChange?.(backends);
  }

  pick(context: PickContext, candidates: readonly BackendView[]): BackendView | undefined {
    const key = this.keyOf(context);
    if (key === undefined) return this.#fallback.pick(context, candidates);
    // The proxy calls update() first; a hand-driven strategy gets a table from its first candidates.
    if (!this.#updated) this.update(candidates);
    const hash = murmur3(key, KEY_SEED);
    this.#context = context;
    let chosen: BackendView | undefined;
    if (this.#bound !== undefined) chosen = this.#table.find(hash, this.#acceptBounded);
    // Without a bound, or if every backend is at its bound (some are full
    // and the rest are over), the key's first backend that can take it.
    chosen ??= this.#table.find(hash, this.#accept);
    this.#context = undefined;
    return chosen ?? this.#fallback.pick(context, candidates);
  }

  onConnectionOpen(backend: BackendView, context: PickContext): void {
    this.#bound?.opened(backend);
    this.#fallback.onConnectionOpen?.(backend, context);
  }

  onConnectionClose(backend: BackendView): void {
    this.#bound?.closed(backend);
    this.#fallback.onConnectionClose?.(backend);
  }

  responseHeaders(backend: BackendView, context: PickContext): Readonly<Record<string, string | readonly string[]>> | undefined {
    return this.#fallback.responseHeaders?.(backend, context);
  }

  #sameMembers(members: readonly BackendView[]): boolean {
    if (members.length !== this.#members.length) return false;
    for (let i = 0; i < members.length; i++) {
      if (members[i] !== this.#members[i] || members[i].weight !== this.#weights[i]) return false;
    }
    return true;
  }
}

/** Code-unit order: locale-independent, so every process sorts ids the same way. */
function compareIds(a: BackendView, b: BackendView): number {
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}
