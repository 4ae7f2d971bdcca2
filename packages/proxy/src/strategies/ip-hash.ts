import { InvalidOptionError } from '../errors';
import { ConsistentHashStrategy, type ConsistentHashOptions } from './consistent-hash';
import { normalizeIp } from './request-keys';
import type { PickContext } from './strategy';

/**
 * Options of {@link IpHashStrategy}: the consistent-hash options plus the key source.
 *
 * @example
 * ```ts
 * import { IpHashStrategy, type IpHashOptions } from '@switchboard/proxy';
 * // Behind a trusted load balancer that sets X-Real-IP:
 * const options: IpHashOptions = {
 *   hash: 'maglev',
 *   key: (ctx) => (ctx.req.headers['x-real-ip'] as string | undefined) ?? ctx.client.address,
 * };
 * const strategy = new IpHashStrategy(options);
 * ```
 * @group Strategies
 */
export type IpHashOptions = ConsistentHashOptions & {
  /**
   * Where the client IP comes from.
   * @defaultValue the socket's remote address (`ctx.client.address`)
   * @remarks Behind another balancer every connection comes from its address:
   * read a header that balancer sets (and that clients cannot forge past it),
   * or a PROXY protocol address once the proxy accepts it. The value is
   * normalised (`::ffff:10.0.0.1` becomes `10.0.0.1`); `undefined` uses the
   * fallback strategy.
   */
  readonly key?: (context: PickContext) => string | undefined;
};

/**
 * Consistent hashing on the client IP: the same client goes to the same
 * backend, from any proxy of a fleet, without shared state.
 *
 * @remarks
 * The L3-style choice: no cookie, no table of clients, so N proxies behind DNS
 * or ECMP agree by construction, because tables are built from backend ids
 * (see {@link ConsistentHashStrategy}). It is what socket.io's long-polling
 * handshake needs when cookies are not an option. Clients behind one NAT share
 * a backend; turn on `boundedLoad` to cap that.
 *
 * @example
 * ```ts
 * import { createProxy, IpHashStrategy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: [
 *     { url: 'http://10.0.0.1:3000', id: 'node-1' },
 *     { url: 'http://10.0.0.2:3000', id: 'node-2' },
 *   ],
 *   strategy: new IpHashStrategy({ hash: 'ring', boundedLoad: { factor: 1.25 } }),
 * });
 * ```
 * @group Strategies
 */
export class IpHashStrategy extends ConsistentHashStrategy {
  readonly name = 'ip-hash';
  readonly #key: ((context: PickContext) => string | undefined) | undefined;

  constructor(options: IpHashOptions = {}) {
    super(options);
    if (options.key !== undefined && typeof options.key !== 'function') {
      throw new InvalidOptionError(`IpHashStrategy: options.key must be a function, got ${typeof options.key}`);
    }
    this.#key = options.key;
  }

  protected keyOf(context: PickContext): string | undefined {
    return normalizeIp(this.#key === undefined ? context.client.address : this.#key(context));
  }
}
