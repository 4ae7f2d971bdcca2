/** A user hook failed; its error is the `cause`. */

import { SwitchboardError } from './switchboard-error';

/**
 * A user hook (`rewrite`, `onRequest`, `onResponse`, `errorResponse`) threw, rejected or returned
 * something unusable. The client gets 500 with the generic body (or the connection is cut when the
 * response had begun); the hook's error is the `cause`. The proxy keeps serving.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], rewrite: (p) => p });
 * proxy.on('error', (err) => {
 *   if (err.code === 'ERR_HOOK_FAILED') console.error('hook failed', err.cause);
 * });
 * ```
 */
export class HookError extends SwitchboardError {
  readonly code = 'ERR_HOOK_FAILED' as const;
  override readonly name = 'HookError';
}
