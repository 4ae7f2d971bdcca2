import { SwitchboardError } from '../errors';

/**
 * An HTTP/2 CONNECT the proxy does not serve: a plain CONNECT (a tunnel to `:authority`) or an extended CONNECT
 * whose `:protocol` is not `websocket`. Client gets 501 before any backend is contacted.
 *
 * @example
 * ```ts
 * import { ConnectUnsupportedError } from '@switchboard/proxy';
 * console.log(new ConnectUnsupportedError(':protocol is not websocket').status); // 501
 * ```
 * @group Errors
 */
export class ConnectUnsupportedError extends SwitchboardError {
  readonly code = 'ERR_CONNECT_UNSUPPORTED' as const;
  override readonly name = 'ConnectUnsupportedError';
}

/**
 * An HTTP/2 client connection already carries `http2.maxWebSocketStreams` WebSockets. The extended CONNECT is
 * answered 429 with `Retry-After`; the connection and its other streams go on.
 *
 * @example
 * ```ts
 * import { WebSocketStreamLimitError } from '@switchboard/proxy';
 * console.log(new WebSocketStreamLimitError('too many').status); // 429
 * ```
 * @group Errors
 */
export class WebSocketStreamLimitError extends SwitchboardError {
  readonly code = 'ERR_WEBSOCKET_STREAM_LIMIT' as const;
  override readonly name = 'WebSocketStreamLimitError';
}
