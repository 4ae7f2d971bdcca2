/**
 * The edge between Node's HTTP/2 compatibility API and the HTTP/1.1 forward path. An `Http2ServerRequest` is
 * adapted once, before routing, so that everything after it (request checks, routing, hooks, strategies, header
 * policy, the undici exchange) reads it as it reads an HTTP/1.1 `IncomingMessage`: a Host header, no
 * pseudo-headers in `rawHeaders`, one Cookie field. The few response-side differences are the helpers at the end.
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import type { Http2ServerRequest } from 'node:http2';
import type { RequestRejection } from '../edge/request-guard';
import { equalsLower } from '../http/header-policy';

/** Requests this module adapted: the request guard lets their version (2.0) through. */
const adapted = new WeakSet<object>();

/** A request the proxy may be handed: HTTP/1.x from node:http(s), or HTTP/2 from node:http2's compatibility API. */
type AnyRequest = IncomingMessage | Http2ServerRequest;

/**
 * True for a request that arrived on an HTTP/2 stream (node:http2's `Http2ServerRequest`).
 * @internal
 */
export function isHttp2Request(req: object): req is Http2ServerRequest {
  return (req as { httpVersionMajor?: number }).httpVersionMajor === 2 && typeof (req as { stream?: unknown }).stream === 'object';
}

/**
 * True for a response on an HTTP/2 stream: it may not carry HTTP/1 connection headers.
 * @internal
 */
export function isHttp2Response(res: object): boolean {
  return typeof (res as { stream?: unknown }).stream === 'object' && (res as { stream?: unknown }).stream !== null;
}

/**
 * True for a request {@link adaptHttp2Request} made ready for the HTTP/1.1 path.
 * @internal
 */
export function isAdaptedHttp2(req: object): boolean {
  return adapted.has(req);
}

/**
 * The HTTP/2 stream id of a request, or undefined for HTTP/1.x: the connection table keys HTTP/2 entries by the
 * client's `ip:port` plus this, since one connection carries many requests at once.
 * @internal
 */
export function streamIdOf(req: object): number | undefined {
  if (!isAdaptedHttp2(req)) return undefined;
  const id = (req as { stream?: { id?: unknown } }).stream?.id;
  return typeof id === 'number' ? id : undefined;
}

/**
 * Makes an HTTP/2 request readable as an HTTP/1.1 one, or says why it cannot be forwarded.
 *
 * @remarks
 * - `:authority` becomes `Host` (RFC 9113 8.3.1: a proxy forwarding to HTTP/1.1 sends it as Host). A request
 *   carrying both, with different values, is refused: a router that reads one and a backend that reads the other
 *   would disagree on where the request goes.
 * - Pseudo-headers leave `rawHeaders` (`:method` and `:path` are `req.method` and `req.url` already).
 * - Cookie fields, which HTTP/2 lets a client split (RFC 9113 8.2.3), are joined with `; ` into one field:
 *   HTTP/1.1 allows one Cookie header only.
 * `rawHeaders` is replaced on the request object itself and `headers.host` is filled in, so hooks, routing and
 * strategies see the same request the backend gets.
 * @internal
 */
export function adaptHttp2Request(req: Http2ServerRequest): RequestRejection | undefined {
  if (adapted.has(req)) return undefined;
  const raw = req.rawHeaders;
  const out: string[] = [];
  let authority: string | undefined;
  let host: string | undefined;
  let hosts = 0;
  const cookies: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!;
    const value = raw[i + 1]!;
    if (name.charCodeAt(0) === 0x3a /* ':' */) {
      if (name === ':authority') authority = value;
      continue;
    }
    if (name.length === 4 && equalsLower(name, 'host')) {
      hosts++;
      host = value;
    }
    if (name.length === 6 && equalsLower(name, 'cookie')) {
      cookies.push(value);
      continue;
    }
    out.push(name, value);
  }
  if (authority !== undefined && host !== undefined && (hosts > 1 || authority.toLowerCase() !== host.toLowerCase())) {
    return { status: 400, reason: 'Host and :authority disagree' };
  }
  // Host first, as an HTTP/1.1 client writes it; a request with neither is left for the guard's missing-Host check.
  if (host === undefined && authority !== undefined) out.unshift('host', authority);
  if (cookies.length > 0) out.push('cookie', cookies.join('; '));
  Object.defineProperty(req, 'rawHeaders', { value: out, configurable: true, enumerable: true, writable: true });
  const headers = req.headers as Record<string, string | string[] | undefined>;
  if (headers.host === undefined && authority !== undefined) headers.host = authority;
  adapted.add(req);
  return undefined;
}

/**
 * Whether a request has a body to forward. HTTP/1.x says so in its framing headers; an HTTP/2 request has one
 * unless its HEADERS frame ended the stream (a body may come without Content-Length).
 * @internal
 */
export function requestHasBody(req: AnyRequest): boolean {
  const length = req.headers['content-length'];
  if (isHttp2Request(req)) return !req.stream.endAfterHeaders && length !== '0';
  return req.headers['transfer-encoding'] !== undefined || (length !== undefined && length !== '0');
}

/**
 * Whether a closed response was delivered whole. On HTTP/1 that is `writableFinished`; Node's HTTP/2 compatibility
 * response reports itself finished whenever its stream closed, a stream the client reset included, so there the
 * proxy must have ended it and the stream closed without an error code.
 * @internal
 */
export function responseCompleted(res: { readonly writableFinished: boolean; readonly writableEnded: boolean }, http2: boolean): boolean {
  if (!http2) return res.writableFinished;
  const stream = (res as { stream?: { rstCode?: number } }).stream;
  return res.writableEnded && (stream?.rstCode ?? 0) === 0;
}

/** Headers that only mean something on an HTTP/1 connection (RFC 9113 8.2.2): never sent on an HTTP/2 response. */
const CONNECTION_SPECIFIC = ['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te'];

function isConnectionSpecific(name: string): boolean {
  for (const c of CONNECTION_SPECIFIC) if (name.length === c.length && equalsLower(name, c)) return true;
  return false;
}

/**
 * A flat header list without the HTTP/1-only fields, for an HTTP/2 response. The backend's own hop-by-hop
 * headers are gone already; this catches what a hook or a strategy added after that filter.
 * @internal
 */
export function withoutConnectionHeaders(raw: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i + 1 < raw.length; i += 2) if (!isConnectionSpecific(raw[i]!)) out.push(raw[i]!, raw[i + 1]!);
  return out;
}

/**
 * Drops the HTTP/1-only fields from a header record (the proxy's own error answers), in place.
 * @internal
 */
export function dropConnectionHeaders(headers: Record<string, string>): Record<string, string> {
  for (const name of Object.keys(headers)) if (isConnectionSpecific(name)) delete headers[name];
  return headers;
}

/**
 * Trailer pairs as the record `Http2ServerResponse.addTrailers()` takes (it reads object keys only); repeated names
 * are joined with `, ` (RFC 9110 5.3).
 * @internal
 */
export function trailerRecord(pairs: readonly (readonly [string, string])[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of pairs) {
    const lower = name.toLowerCase();
    out[lower] = out[lower] === undefined ? value : `${out[lower]}, ${value}`;
  }
  return out;
}

/**
 * The object whose `close` ends a request's exchange and whose identity keys its queue: the HTTP/2 stream (one
 * request per stream, streams independent of each other) or the HTTP/1 socket (requests queued in order).
 * @internal
 */
export function exchangeOwnerOf(req: AnyRequest): object {
  return isHttp2Request(req) ? req.stream : req.socket;
}
