/**
 * The `http2` option group: the limits an HTTP/2 client connection is held to, and their validation.
 * @packageDocumentation
 */
import { InvalidOptionError } from '../errors';
import { DEFAULT_MAX_WEBSOCKET_STREAMS, type Http2WebSocketOptions } from './extended-connect';

/**
 * Limits for HTTP/2 client connections (servers given to `proxy.attach()` and `proxy.listen({ tls, http2: true })`).
 * Every field bounds what one client connection (one HTTP/2 session) can make the proxy do.
 *
 * @remarks
 * One TCP connection carries many HTTP/2 streams, so the per-connection limits HTTP/1.1 gets for free (one request
 * at a time, one parser) have to be set here. The flood counters are per connection and per `floodInterval`
 * window; a connection over any of them gets GOAWAY `ENHANCE_YOUR_CALM` and is closed, its streams end (their table
 * entries with them), and `error` reports an `ERR_HTTP2_FLOOD`. Other connections are not touched.
 * `maxConcurrentStreams` and `maxHeaderListSize` are announced in the server's SETTINGS; `maxInvalidFrames` and
 * `maxRejectedStreams` are Node server options, which the proxy can only set on servers it creates: for your own
 * server spread {@link Proxy.http2ServerOptions} into `http2.createSecureServer()`.
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({
 *   backends: ['http://127.0.0.1:9001'],
 *   http2: { maxConcurrentStreams: 50, maxResets: 100, floodInterval: 5_000 },
 * });
 * ```
 * @group Options
 */
export interface Http2Options extends Http2WebSocketOptions {
  /**
   * Streams one client connection may have open at once (SETTINGS_MAX_CONCURRENT_STREAMS); more are refused with
   * RST_STREAM `REFUSED_STREAM` before they reach the proxy.
   * @defaultValue 100
   * @remarks Each open stream is one request in flight, so this bounds the backend requests one connection can
   * make at once, as one HTTP/1.1 connection is bounded to one. 100 is the floor RFC 9113 recommends.
   */
  readonly maxConcurrentStreams?: number;
  /**
   * Largest header list accepted, in bytes as RFC 9113 counts it (name + value + 32 per field), announced as
   * SETTINGS_MAX_HEADER_LIST_SIZE. A bigger request is refused: RST_STREAM, or 431 where Node lets it through.
   * @defaultValue 32768
   * @remarks HPACK lets a client send a header list far bigger than the bytes on the wire; this is what keeps a
   * request's decoded headers bounded. It also bounds how far endless CONTINUATION frames get.
   */
  readonly maxHeaderListSize?: number;
  /**
   * Streams a client connection may reset (RST_STREAM before the response began) per `floodInterval` before it is
   * cut off with GOAWAY `ENHANCE_YOUR_CALM` (the rapid-reset attack, CVE-2023-44487).
   * @defaultValue 200
   * @remarks A browser cancels streams when a page is left; a few dozen per window are normal. An attacker opens
   * and resets thousands per second, each one costing the proxy a backend request.
   */
  readonly maxResets?: number;
  /**
   * PING frames a client connection may send per `floodInterval` before it is cut off (PING flood, CVE-2019-9512).
   * @defaultValue 100
   */
  readonly maxPings?: number;
  /**
   * SETTINGS frames a client connection may send per `floodInterval` before it is cut off (SETTINGS flood,
   * CVE-2019-9515).
   * @defaultValue 100
   */
  readonly maxSettings?: number;
  /**
   * The window the reset, PING and SETTINGS counts are kept over, in ms.
   * @defaultValue 10000
   */
  readonly floodInterval?: number;
  /**
   * Invalid frames a client connection may send before Node closes it (Node's `maxSessionInvalidFrames`).
   * @defaultValue 100
   * @remarks Applies to servers made by `listen()` and to servers created with {@link Proxy.http2ServerOptions}.
   */
  readonly maxInvalidFrames?: number;
  /**
   * Streams refused for going over `maxConcurrentStreams` before Node closes the connection (Node's
   * `maxSessionRejectedStreams`).
   * @defaultValue 100
   * @remarks Applies to servers made by `listen()` and to servers created with {@link Proxy.http2ServerOptions}.
   */
  readonly maxRejectedStreams?: number;
  /**
   * A client connection with no frame in either direction for this long is closed, with every stream on it, in ms.
   * @defaultValue 300000
   * @remarks After a protocol error nghttp2 sends GOAWAY and Node stops reading the connection without closing it:
   * it would never notice the client leave, and the streams in flight on it would hold their table entries and
   * backend requests for good. This bounds that, and idle connections. A stream waiting that long for a silent
   * backend is cut too, as HTTP/1.1 requests are by the listener's 5-minute request timeout.
   */
  readonly idleTimeout?: number;
}

/**
 * The `http2` options with every default filled in.
 * @internal
 */
export type ResolvedHttp2Options = Required<Http2Options>;

/**
 * Defaults of {@link Http2Options}.
 *
 * @example
 * ```ts
 * import { DEFAULT_HTTP2 } from '@switchboard/proxy';
 * console.log(DEFAULT_HTTP2.maxConcurrentStreams); // 100
 * ```
 * @group Options
 */
export const DEFAULT_HTTP2: Required<Http2Options> = Object.freeze({
  maxConcurrentStreams: 100,
  maxHeaderListSize: 32_768,
  maxResets: 200,
  maxPings: 100,
  maxSettings: 100,
  floodInterval: 10_000,
  maxInvalidFrames: 100,
  maxRejectedStreams: 100,
  idleTimeout: 300_000,
  maxWebSocketStreams: DEFAULT_MAX_WEBSOCKET_STREAMS,
});

/** Largest value an HTTP/2 setting can carry (RFC 9113 6.5.2: 32 bits). */
const MAX_SETTING = 2 ** 32 - 1;

/**
 * Validates `options.http2` into a frozen object with every default; unknown keys throw.
 * @internal
 */
export function resolveHttp2Options(input: unknown): ResolvedHttp2Options {
  if (input === undefined) return DEFAULT_HTTP2;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new InvalidOptionError('options.http2 must be an object');
  const given = input as Record<string, unknown>;
  for (const key of Object.keys(given)) {
    if (!(key in DEFAULT_HTTP2)) throw new InvalidOptionError(`options.http2.${key} is not an option (known: ${Object.keys(DEFAULT_HTTP2).join(', ')})`);
  }
  const out: Record<string, number> = {};
  for (const [key, fallback] of Object.entries(DEFAULT_HTTP2)) {
    const value = given[key] ?? fallback;
    if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_SETTING) {
      const what = key === 'floodInterval' || key === 'idleTimeout' ? 'a positive integer number of milliseconds' : 'a positive integer';
      throw new InvalidOptionError(`options.http2.${key} must be ${what} (at most ${MAX_SETTING}), got ${String(value)}`);
    }
    out[key] = value;
  }
  return Object.freeze(out) as ResolvedHttp2Options;
}
