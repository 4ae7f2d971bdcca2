/**
 * The stable error codes and the one table mapping each code to what the client gets: an HTTP status
 * before a WebSocket is established (or for plain HTTP), a close code once it is.
 */

/**
 * Every stable error code Switchboard produces.
 *
 * @example
 * ```ts
 * import type { ErrorCode } from '@switchboard/proxy';
 * const code: ErrorCode = 'ERR_NO_BACKEND';
 * ```
 * @group Errors
 */
export type ErrorCode =
  | 'ERR_INVALID_OPTION'
  | 'ERR_NO_BACKEND'
  | 'ERR_BACKEND_CONNECT'
  | 'ERR_BACKEND_TIMEOUT'
  | 'ERR_HANDSHAKE_TIMEOUT'
  | 'ERR_BACKEND_RESET'
  | 'ERR_BACKEND_PROTOCOL'
  | 'ERR_CLIENT_RESET'
  | 'ERR_CLIENT_ABORTED'
  | 'ERR_BAD_HANDSHAKE'
  | 'ERR_BAD_REQUEST'
  | 'ERR_UNSUPPORTED_WS_VERSION'
  | 'ERR_PROXY_CLOSING'
  | 'ERR_PROXY_FULL'
  | 'ERR_BACKEND_DRAINING'
  | 'ERR_IDLE_TIMEOUT'
  | 'ERR_SOURCE_EXHAUSTED'
  | 'ERR_URI_TOO_LONG'
  | 'ERR_HEADERS_TOO_LARGE'
  | 'ERR_HTTP_VERSION'
  | 'ERR_ORIGIN_FORBIDDEN'
  | 'ERR_CLIENT_LIMIT'
  | 'ERR_MESSAGE_TOO_BIG'
  | 'ERR_BODY_CONSUMED'
  | 'ERR_NO_ROUTE'
  | 'ERR_HOOK_FAILED'
  | 'ERR_WS_PROTOCOL'
  | 'ERR_CLIENT_BODY'
  | 'ERR_REQUEST_BODY_MISMATCH'
  | 'ERR_HTTP2_FLOOD'
  | 'ERR_CONNECT_UNSUPPORTED'
  | 'ERR_WEBSOCKET_STREAM_LIMIT'
  | 'ERR_SHARED_STATE';

/**
 * How each code is shown to the client: an HTTP status before a WebSocket is
 * established (or for plain HTTP), a close code once it is.
 *
 * @remarks
 * One table instead of an if/else chain per call site. A `status` of 0 means
 * the client is gone or at fault and gets no response; a `closeCode` of 0
 * means the socket is simply destroyed.
 *
 * @example
 * ```ts
 * import { ERROR_REPLIES } from '@switchboard/proxy';
 * console.log(ERROR_REPLIES.ERR_NO_BACKEND.status); // 503
 * ```
 * @group Errors
 */
export const ERROR_REPLIES: Readonly<Record<ErrorCode, { readonly status: number; readonly closeCode: number }>> = {
  ERR_INVALID_OPTION: { status: 0, closeCode: 0 },
  ERR_NO_BACKEND: { status: 503, closeCode: 1013 },
  ERR_BACKEND_CONNECT: { status: 502, closeCode: 1014 },
  ERR_BACKEND_TIMEOUT: { status: 504, closeCode: 1014 },
  ERR_HANDSHAKE_TIMEOUT: { status: 504, closeCode: 1014 },
  ERR_BACKEND_RESET: { status: 502, closeCode: 1011 },
  ERR_BACKEND_PROTOCOL: { status: 502, closeCode: 1014 },
  ERR_CLIENT_RESET: { status: 0, closeCode: 0 },
  ERR_CLIENT_ABORTED: { status: 0, closeCode: 0 },
  ERR_BAD_HANDSHAKE: { status: 400, closeCode: 1002 },
  ERR_BAD_REQUEST: { status: 400, closeCode: 1002 },
  ERR_UNSUPPORTED_WS_VERSION: { status: 426, closeCode: 1002 },
  ERR_PROXY_CLOSING: { status: 503, closeCode: 1001 },
  ERR_PROXY_FULL: { status: 503, closeCode: 1013 },
  ERR_BACKEND_DRAINING: { status: 503, closeCode: 1012 },
  ERR_IDLE_TIMEOUT: { status: 0, closeCode: 1001 },
  ERR_SOURCE_EXHAUSTED: { status: 503, closeCode: 1013 },
  ERR_URI_TOO_LONG: { status: 414, closeCode: 1002 },
  ERR_HEADERS_TOO_LARGE: { status: 431, closeCode: 1002 },
  ERR_HTTP_VERSION: { status: 505, closeCode: 1002 },
  ERR_ORIGIN_FORBIDDEN: { status: 403, closeCode: 1008 },
  ERR_CLIENT_LIMIT: { status: 429, closeCode: 1008 },
  ERR_MESSAGE_TOO_BIG: { status: 0, closeCode: 1009 },
  ERR_BODY_CONSUMED: { status: 500, closeCode: 1011 },
  ERR_NO_ROUTE: { status: 404, closeCode: 1008 },
  ERR_HOOK_FAILED: { status: 500, closeCode: 1011 },
  ERR_WS_PROTOCOL: { status: 0, closeCode: 1002 },
  ERR_CLIENT_BODY: { status: 400, closeCode: 1002 },
  ERR_REQUEST_BODY_MISMATCH: { status: 500, closeCode: 1011 },
  ERR_HTTP2_FLOOD: { status: 0, closeCode: 0 },
  ERR_CONNECT_UNSUPPORTED: { status: 501, closeCode: 1002 },
  ERR_WEBSOCKET_STREAM_LIMIT: { status: 429, closeCode: 1008 },
  ERR_SHARED_STATE: { status: 0, closeCode: 0 },
};
