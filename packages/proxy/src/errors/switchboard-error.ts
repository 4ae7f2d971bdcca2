/**
 * The base class of every error, and its brand. Match on `code`, never on `message` or `instanceof` alone:
 * two installed copies of the library recognise each other's errors through
 * {@link isSwitchboardError}.
 */

import { ERROR_REPLIES, type ErrorCode } from './error-codes';

const kSwitchboardError = Symbol.for('switchboard.error');

/**
 * Context carried by a connection-level error. Never sent to clients.
 *
 * @example
 * ```ts
 * import type { ErrorContext } from '@switchboard/proxy';
 * const ctx: ErrorContext = { backendId: 'a', clientAddress: '127.0.0.1:50000' };
 * ```
 * @group Errors
 */
export interface ErrorContext {
  /** The backend involved, when one was chosen. */
  readonly backendId?: string;
  /** The client's `ip:port`. */
  readonly clientAddress?: string;
  /** The connection table id of the connection, when it had an entry. */
  readonly connectionId?: number;
}

/**
 * Base class of every Switchboard error.
 *
 * @example
 * ```ts
 * import { createProxy, isSwitchboardError } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * proxy.on('error', (err) => {
 *   if (isSwitchboardError(err)) console.log(err.code, err.backendId);
 * });
 * ```
 * @group Errors
 */
export abstract class SwitchboardError extends Error {
  abstract readonly code: ErrorCode;
  readonly backendId: string | undefined;
  readonly clientAddress: string | undefined;
  readonly connectionId: number | undefined;

  constructor(message: string, options: { cause?: unknown } & ErrorContext = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.backendId = options.backendId;
    this.clientAddress = options.clientAddress;
    this.connectionId = options.connectionId;
    Object.defineProperty(this, kSwitchboardError, { value: true });
  }

  /** HTTP status the client gets for this error before a WebSocket is established (0: none). */
  get status(): number {
    return ERROR_REPLIES[this.code].status;
  }

  /** WebSocket close code the client gets once the WebSocket is established (0: none). */
  get closeCode(): number {
    return ERROR_REPLIES[this.code].closeCode;
  }
}

/**
 * True for any Switchboard error, even from another installed copy.
 *
 * @example
 * ```ts
 * import { isSwitchboardError } from '@switchboard/proxy';
 * try { JSON.parse('x'); } catch (err) { console.log(isSwitchboardError(err)); } // false
 * ```
 * @group Errors
 */
export function isSwitchboardError(value: unknown): value is SwitchboardError {
  return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[kSwitchboardError] === true;
}
