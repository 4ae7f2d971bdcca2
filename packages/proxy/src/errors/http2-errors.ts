/**
 * HTTP/2 client connection errors. The extended CONNECT refusals (`ERR_CONNECT_UNSUPPORTED`,
 * `ERR_WEBSOCKET_STREAM_LIMIT`) live with their path in `http2/extended-connect-errors.ts`.
 */

import { SwitchboardError } from './switchboard-error';

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
