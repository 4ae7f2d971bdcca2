/** The `sharedState` Redis cannot be used. */

import { SwitchboardError } from './switchboard-error';

/**
 * The `sharedState` Redis cannot be used: the optional `ioredis` package is not installed (thrown by
 * `createProxy`), or Redis is unreachable when {@link Proxy.fleet} is asked. Never sent to clients:
 * while Redis is down the proxy keeps serving from its local state.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], sharedState: { redis: 'redis://127.0.0.1:6379' } });
 * proxy.fleet().catch((err: { code?: string }) => {
 *   if (err.code === 'ERR_SHARED_STATE') console.warn('fleet table unavailable: Redis is down');
 * });
 * ```
 * @group Errors
 */
export class SharedStateError extends SwitchboardError {
  readonly code = 'ERR_SHARED_STATE' as const;
  override readonly name = 'SharedStateError';
}
