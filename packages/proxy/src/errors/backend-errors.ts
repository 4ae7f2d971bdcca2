/** Failures on the backend side: none available, or the chosen one failed, timed out, reset, is draining or unreachable for lack of source ports. */

import { SwitchboardError } from './switchboard-error';

/**
 * No backend can take the connection (all down, draining or full). Client gets 503 with `Retry-After`.
 *
 * @example
 * ```ts
 * import { NoBackendError } from '@switchboard/proxy';
 * console.log(new NoBackendError('none').status); // 503
 * ```
 * @group Errors
 */
export class NoBackendError extends SwitchboardError {
  readonly code = 'ERR_NO_BACKEND' as const;
  override readonly name = 'NoBackendError';
}

/**
 * The backend refused or failed the connection. Client gets 502.
 *
 * @example
 * ```ts
 * import { BackendConnectError } from '@switchboard/proxy';
 * console.log(new BackendConnectError('refused').status); // 502
 * ```
 * @group Errors
 */
export class BackendConnectError extends SwitchboardError {
  readonly code = 'ERR_BACKEND_CONNECT' as const;
  override readonly name = 'BackendConnectError';
}

/**
 * The backend did not connect or answer in time. Client gets 504.
 *
 * @example
 * ```ts
 * import { BackendTimeoutError } from '@switchboard/proxy';
 * console.log(new BackendTimeoutError('slow').status); // 504
 * ```
 * @group Errors
 */
export class BackendTimeoutError extends SwitchboardError {
  readonly code = 'ERR_BACKEND_TIMEOUT' as const;
  override readonly name = 'BackendTimeoutError';
}

/**
 * The backend closed or reset the connection unexpectedly. 502 before the upgrade; the WebSocket is ended after it.
 *
 * @example
 * ```ts
 * import { BackendResetError } from '@switchboard/proxy';
 * console.log(new BackendResetError('reset').closeCode); // 1011
 * ```
 * @group Errors
 */
export class BackendResetError extends SwitchboardError {
  readonly code = 'ERR_BACKEND_RESET' as const;
  override readonly name = 'BackendResetError';
}

/**
 * The backend answered with something that is not valid HTTP. Client gets 502.
 *
 * @example
 * ```ts
 * import { BackendProtocolError } from '@switchboard/proxy';
 * console.log(new BackendProtocolError('garbage').status); // 502
 * ```
 * @group Errors
 */
export class BackendProtocolError extends SwitchboardError {
  readonly code = 'ERR_BACKEND_PROTOCOL' as const;
  override readonly name = 'BackendProtocolError';
}

/**
 * The connection's backend is being drained (removed or restarted). WebSockets get 1012 (Service Restart).
 *
 * @example
 * ```ts
 * import { BackendDrainingError } from '@switchboard/proxy';
 * console.log(new BackendDrainingError('drain').closeCode); // 1012
 * ```
 * @group Errors
 */
export class BackendDrainingError extends SwitchboardError {
  readonly code = 'ERR_BACKEND_DRAINING' as const;
  override readonly name = 'BackendDrainingError';
}

/**
 * Every local source address has run out of ports toward the backend (EADDRNOTAVAIL).
 * Client gets 503; add `sourceAddresses` or widen `ip_local_port_range`.
 *
 * @example
 * ```ts
 * import { SourceExhaustedError } from '@switchboard/proxy';
 * console.log(new SourceExhaustedError('no ports').status); // 503
 * ```
 * @group Errors
 */
export class SourceExhaustedError extends SwitchboardError {
  readonly code = 'ERR_SOURCE_EXHAUSTED' as const;
  override readonly name = 'SourceExhaustedError';
}
