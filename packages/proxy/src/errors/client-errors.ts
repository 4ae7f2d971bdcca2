/** Failures on the client side: its socket broke, it left early, or its request body failed mid-upload. */

import { SwitchboardError } from './switchboard-error';

/**
 * The client's socket failed (reset, broken pipe). Nothing is sent to it.
 *
 * @example
 * ```ts
 * import { ClientResetError } from '@switchboard/proxy';
 * console.log(new ClientResetError('ECONNRESET').code); // ERR_CLIENT_RESET
 * ```
 * @group Errors
 */
export class ClientResetError extends SwitchboardError {
  readonly code = 'ERR_CLIENT_RESET' as const;
  override readonly name = 'ClientResetError';
}

/**
 * The client went away before its request completed; the backend request is aborted.
 *
 * @example
 * ```ts
 * import { ClientAbortedError } from '@switchboard/proxy';
 * console.log(new ClientAbortedError('gone').code); // ERR_CLIENT_ABORTED
 * ```
 * @group Errors
 */
export class ClientAbortedError extends SwitchboardError {
  readonly code = 'ERR_CLIENT_ABORTED' as const;
  override readonly name = 'ClientAbortedError';
}

/**
 * The client's request body failed while it was being forwarded (its stream errored, or the
 * client's connection broke mid-upload); a client that simply left is `ERR_CLIENT_ABORTED`.
 * Client gets 400 if it is still there. Never counted against the backend's health.
 *
 * @example
 * ```ts
 * import { ClientBodyError } from '@switchboard/proxy';
 * console.log(new ClientBodyError('bad chunk').status); // 400
 * ```
 * @group Errors
 */
export class ClientBodyError extends SwitchboardError {
  readonly code = 'ERR_CLIENT_BODY' as const;
  override readonly name = 'ClientBodyError';
}
