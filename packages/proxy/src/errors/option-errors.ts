/** Errors of configuration: a bad option or runtime argument, thrown synchronously. */

import { SwitchboardError } from './switchboard-error';

/**
 * A `createProxy()` option (or a runtime call's argument) is invalid. Thrown synchronously.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * try { createProxy({ backends: [] }); } catch (err) { console.log((err as { code: string }).code); } // ERR_INVALID_OPTION
 * ```
 * @group Errors
 */
export class InvalidOptionError extends SwitchboardError {
  readonly code = 'ERR_INVALID_OPTION' as const;
  override readonly name = 'InvalidOptionError';
}
