import type { IncomingMessage } from 'node:http';
import { ConsistentHashStrategy, type ConsistentHashOptions } from './consistent-hash';
import { createKeyReader, type HashKeySource } from './request-keys';
import type { PickContext } from './strategy';

/**
 * Options of {@link HashStrategy}: the consistent-hash options plus the key.
 *
 * @example
 * ```ts
 * import { HashStrategy, type HashOptions } from '@switchboard/proxy';
 * const options: HashOptions = { key: { header: 'x-user-id' }, hash: 'ring' };
 * const strategy = new HashStrategy(options);
 * ```
 * @group Strategies
 */
export type HashOptions = ConsistentHashOptions & {
  /**
   * What to hash.
   * @defaultValue `'path'`
   * @remarks See {@link HashKeySource}. A connection without the key (header
   * missing, empty value, function returning `undefined`) is placed by
   * `fallback`, least-connections by default, and is not sticky.
   */
  readonly key?: HashKeySource;
};

/**
 * Consistent hashing on any request key: a header, a query parameter, a
 * cookie, the path, or a function of the request.
 *
 * @remarks
 * An L7 shard key: all connections of one user, room or document meet on one
 * backend, so that backend can keep the state in memory and fan out locally.
 * Which key, and what happens without one, are the options; everything else
 * (ring or Maglev, bounded load, skipping down or full backends, agreement
 * between proxies) is as in {@link ConsistentHashStrategy}. By name
 * (`strategy: 'hash'`) it hashes the path.
 *
 * @example
 * ```ts
 * import { createProxy, HashStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001', 'http://127.0.0.1:9002'],
 *   strategy: new HashStrategy({ key: { query: 'room' }, boundedLoad: { factor: 1.5 } }),
 * });
 * ```
 * @group Strategies
 */
export class HashStrategy extends ConsistentHashStrategy {
  readonly name = 'hash';
  readonly #read: (req: IncomingMessage) => string | undefined;

  constructor(options: HashOptions = {}) {
    super(options);
    this.#read = createKeyReader(options.key === undefined ? 'path' : options.key);
  }

  protected keyOf(context: PickContext): string | undefined {
    return this.#read(context.req);
  }
}
