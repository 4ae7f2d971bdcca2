/**
 * Error classes, one module per concern; this barrel keeps `'../errors'` the one import path. Match on `code`,
 * never on `message` or `instanceof` alone (see {@link isSwitchboardError}).
 */

export { ERROR_REPLIES, type ErrorCode } from './error-codes';
export { SwitchboardError, isSwitchboardError, type ErrorContext } from './switchboard-error';
export { InvalidOptionError } from './option-errors';
export { ProxyClosingError, ProxyFullError, ClientLimitError, NoRouteError } from './admission-errors';
export {
  NoBackendError,
  BackendConnectError,
  BackendTimeoutError,
  BackendResetError,
  BackendProtocolError,
  BackendDrainingError,
  SourceExhaustedError,
} from './backend-errors';
export { ClientResetError, ClientAbortedError, ClientBodyError } from './client-errors';
export {
  BadRequestError,
  UriTooLongError,
  HeadersTooLargeError,
  HttpVersionError,
  ConsumedBodyError,
  RequestBodyMismatchError,
} from './request-errors';
export {
  BadHandshakeError,
  UnsupportedWebSocketVersionError,
  HandshakeTimeoutError,
  OriginForbiddenError,
  IdleTimeoutError,
  MessageTooBigError,
  WebSocketProtocolError,
} from './websocket-errors';
export { HookError } from './hook-errors';
export { Http2FloodError } from './http2-errors';
export { SharedStateError } from './shared-state-errors';
