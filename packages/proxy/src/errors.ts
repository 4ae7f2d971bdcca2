/**
 * Error classes. Match on `code`, never on `message` or `instanceof` alone:
 * two installed copies of the library recognise each other's errors through
 * {@link isSwitchboardError}.
 */

const kSwitchboardError = Symbol.for('switchboard.error');

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
 * The backend accepted the connection but did not answer the WebSocket handshake in time. Client gets 504.
 *
 * @example
 * ```ts
 * import { HandshakeTimeoutError } from '@switchboard/proxy';
 * console.log(new HandshakeTimeoutError('no 101').status); // 504
 * ```
 * @group Errors
 */
export class HandshakeTimeoutError extends SwitchboardError {
  readonly code = 'ERR_HANDSHAKE_TIMEOUT' as const;
  override readonly name = 'HandshakeTimeoutError';
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
 * The client's WebSocket handshake is invalid. Client gets 400.
 *
 * @example
 * ```ts
 * import { BadHandshakeError } from '@switchboard/proxy';
 * console.log(new BadHandshakeError('no key').status); // 400
 * ```
 * @group Errors
 */
export class BadHandshakeError extends SwitchboardError {
  readonly code = 'ERR_BAD_HANDSHAKE' as const;
  override readonly name = 'BadHandshakeError';
}

/**
 * The client's HTTP request cannot be forwarded (e.g. an absolute-form or `*` request target). Client gets 400.
 *
 * @example
 * ```ts
 * import { BadRequestError } from '@switchboard/proxy';
 * console.log(new BadRequestError('target').status); // 400
 * ```
 * @group Errors
 */
export class BadRequestError extends SwitchboardError {
  readonly code = 'ERR_BAD_REQUEST' as const;
  override readonly name = 'BadRequestError';
}

/**
 * The client asked for a WebSocket version other than 13. Client gets 426 with `Sec-WebSocket-Version: 13`.
 *
 * @example
 * ```ts
 * import { UnsupportedWebSocketVersionError } from '@switchboard/proxy';
 * console.log(new UnsupportedWebSocketVersionError('v8').status); // 426
 * ```
 * @group Errors
 */
export class UnsupportedWebSocketVersionError extends SwitchboardError {
  readonly code = 'ERR_UNSUPPORTED_WS_VERSION' as const;
  override readonly name = 'UnsupportedWebSocketVersionError';
}

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
 * A WebSocket carried no traffic in either direction for `idleTimeout`. Both sides get 1001.
 *
 * @example
 * ```ts
 * import { IdleTimeoutError } from '@switchboard/proxy';
 * console.log(new IdleTimeoutError('idle').closeCode); // 1001
 * ```
 * @group Errors
 */
export class IdleTimeoutError extends SwitchboardError {
  readonly code = 'ERR_IDLE_TIMEOUT' as const;
  override readonly name = 'IdleTimeoutError';
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

/**
 * The request target is longer than `maxUrlLength`. Client gets 414.
 *
 * @example
 * ```ts
 * import { UriTooLongError } from '@switchboard/proxy';
 * console.log(new UriTooLongError('long').status); // 414
 * ```
 * @group Errors
 */
export class UriTooLongError extends SwitchboardError {
  readonly code = 'ERR_URI_TOO_LONG' as const;
  override readonly name = 'UriTooLongError';
}

/**
 * The request has more header lines than `maxHeaderCount`. Client gets 431.
 *
 * @example
 * ```ts
 * import { HeadersTooLargeError } from '@switchboard/proxy';
 * console.log(new HeadersTooLargeError('many').status); // 431
 * ```
 * @group Errors
 */
export class HeadersTooLargeError extends SwitchboardError {
  readonly code = 'ERR_HEADERS_TOO_LARGE' as const;
  override readonly name = 'HeadersTooLargeError';
}

/**
 * The request uses an HTTP version other than 1.0 or 1.1. Client gets 505.
 *
 * @example
 * ```ts
 * import { HttpVersionError } from '@switchboard/proxy';
 * console.log(new HttpVersionError('0.9').status); // 505
 * ```
 * @group Errors
 */
export class HttpVersionError extends SwitchboardError {
  readonly code = 'ERR_HTTP_VERSION' as const;
  override readonly name = 'HttpVersionError';
}

/**
 * A WebSocket upgrade from an Origin not in `allowedOrigins` (cross-site WebSocket hijacking defence). Client gets 403.
 *
 * @example
 * ```ts
 * import { OriginForbiddenError } from '@switchboard/proxy';
 * console.log(new OriginForbiddenError('evil').status); // 403
 * ```
 * @group Errors
 */
export class OriginForbiddenError extends SwitchboardError {
  readonly code = 'ERR_ORIGIN_FORBIDDEN' as const;
  override readonly name = 'OriginForbiddenError';
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
 * A WebSocket frame or message exceeded `maxFramePayload` / `maxMessageSize`. Both sides get 1009.
 *
 * @example
 * ```ts
 * import { MessageTooBigError } from '@switchboard/proxy';
 * console.log(new MessageTooBigError('big').closeCode); // 1009
 * ```
 * @group Errors
 */
export class MessageTooBigError extends SwitchboardError {
  readonly code = 'ERR_MESSAGE_TOO_BIG' as const;
  override readonly name = 'MessageTooBigError';
}

/**
 * The request body was already read by another handler (a body parser) and the
 * proxy has no body it can forward in its place: none was given in `req.body`
 * or the `body` option of `proxy.handleRequest()`, or it is an object the
 * proxy cannot serialize for the request's Content-Type. Client gets 500; the
 * backend is not contacted and its health is not touched.
 *
 * @example
 * ```ts
 * import { ConsumedBodyError } from '@switchboard/proxy';
 * console.log(new ConsumedBodyError('read by a parser').status); // 500
 * ```
 * @group Errors
 */
export class ConsumedBodyError extends SwitchboardError {
  readonly code = 'ERR_BODY_CONSUMED' as const;
  override readonly name = 'ConsumedBodyError';
}

/**
 * A spliced WebSocket peer broke RFC 6455 framing (a control frame over 125 bytes or fragmented, a wrong MASK bit, a
 * reserved opcode...). The offending frame is not relayed; both sides get 1002 at a frame boundary.
 *
 * @example
 * ```ts
 * import { WebSocketProtocolError } from '@switchboard/proxy';
 * console.log(new WebSocketProtocolError('bad frame').closeCode); // 1002
 * ```
 * @group Errors
 */
export class WebSocketProtocolError extends SwitchboardError {
  readonly code = 'ERR_WS_PROTOCOL' as const;
  override readonly name = 'WebSocketProtocolError';
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

/**
 * The request the proxy was handed carries fewer or more body bytes than its `Content-Length`,
 * usually because a framework in front (a body parser) read the body before the proxy did.
 * Client gets 500: the fault is on the proxy's side of the client, not in the backend, whose
 * health is never touched.
 *
 * @example
 * ```ts
 * import { RequestBodyMismatchError } from '@switchboard/proxy';
 * console.log(new RequestBodyMismatchError('body already read').status); // 500
 * ```
 * @group Errors
 */
export class RequestBodyMismatchError extends SwitchboardError {
  readonly code = 'ERR_REQUEST_BODY_MISMATCH' as const;
  override readonly name = 'RequestBodyMismatchError';
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

/**
 * An HTTP/2 client connection went over one of the `http2` flood limits (stream resets, PING or SETTINGS frames per
 * `floodInterval`): it got GOAWAY `ENHANCE_YOUR_CALM` and was closed, with every stream on it. `message` names the
 * flood; other connections are not affected. Never counted against a backend.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'] });
 * proxy.on('error', (err) => {
 *   if (err.code === 'ERR_HTTP2_FLOOD') console.warn('cut off', err.clientAddress, err.message);
 * });
 * ```
 * @group Errors
 */
export class Http2FloodError extends SwitchboardError {
  readonly code = 'ERR_HTTP2_FLOOD' as const;
  override readonly name = 'Http2FloodError';
}

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
