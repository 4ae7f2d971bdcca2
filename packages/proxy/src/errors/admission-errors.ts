/**
 * Refusals at the door decided by the proxy's own state and policy, before any backend is picked: shutting down,
 * full, a client over its limits, no route for the request.
 */

import { SwitchboardError, type ErrorContext } from './switchboard-error';

/**
 * The proxy is shutting down and takes no new connections. Client gets 503 (1001 for live WebSockets).
 *
 * @example
 * ```ts
 * import { ProxyClosingError } from '@switchboard/proxy';
 * console.log(new ProxyClosingError('closing').status); // 503
 * ```
 * @group Errors
 */
export class ProxyClosingError extends SwitchboardError {
  readonly code = 'ERR_PROXY_CLOSING' as const;
  override readonly name = 'ProxyClosingError';
}

/**
 * The proxy is at its `maxConnections`. Client gets 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { ProxyFullError } from '@switchboard/proxy';
 * console.log(new ProxyFullError('full').status); // 503
 * ```
 * @group Errors
 */
export class ProxyFullError extends SwitchboardError {
  readonly code = 'ERR_PROXY_FULL' as const;
  override readonly name = 'ProxyFullError';
}

/**
 * A client exceeded `maxConnectionsPerClient` or `upgradeRate`. Client gets 429 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { ClientLimitError } from '@switchboard/proxy';
 * const err = new ClientLimitError('too fast', { retryAfter: 2 });
 * console.log(err.status, err.retryAfter); // 429 2
 * ```
 * @group Errors
 */
export class ClientLimitError extends SwitchboardError {
  readonly code = 'ERR_CLIENT_LIMIT' as const;
  override readonly name = 'ClientLimitError';
  /** Seconds the client should wait, sent as `Retry-After`. */
  readonly retryAfter: number;

  constructor(message: string, options: { cause?: unknown; retryAfter?: number } & ErrorContext = {}) {
    super(message, options);
    this.retryAfter = options.retryAfter ?? 1;
  }
}

/**
 * No route matches the request's Host and path, and there is no default route (top-level `backends`).
 * Answered 404 with the generic body before any backend is contacted.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ routes: [{ id: 'api', path: '/api', backends: ['http://127.0.0.1:9001'] }] });
 * proxy.on('error', (err) => {
 *   if (err.code === 'ERR_NO_ROUTE') console.warn('unrouted request from', err.clientAddress);
 * });
 * ```
 */
export class NoRouteError extends SwitchboardError {
  readonly code = 'ERR_NO_ROUTE' as const;
  override readonly name = 'NoRouteError';
}
