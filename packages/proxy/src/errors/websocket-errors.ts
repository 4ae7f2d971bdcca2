/** WebSocket errors: a refused or unanswered handshake, and what ends a spliced WebSocket (idle, too big, broken framing). */

import { SwitchboardError } from './switchboard-error';

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
