import { STATUS_CODES, type ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import type { SwitchboardError } from '../errors';
import { dropConnectionHeaders, isHttp2Response } from '../http2/h2-request';

/**
 * The embedder's `errorResponse` for a request, registered under its ServerResponse's request or its
 * upgrade socket. Returns the custom answer's parts, or undefined to keep the generic one.
 * @internal
 */
export type ErrorResponder = (err: SwitchboardError) => { status: number; headers: Readonly<Record<string, string>>; body: string | Buffer } | undefined;

const responders = new WeakMap<object, ErrorResponder>();
const delegates = new WeakMap<object, (err: SwitchboardError) => void>();

/** Hands the proxy's own errors for this request to `delegate` (a middleware's `next`) instead of answering. @internal */
export function setErrorDelegate(req: object, delegate: (err: SwitchboardError) => void): void {
  delegates.set(req, delegate);
}

/** Lets `errorResponse` shape the proxy's own error answers for this request (key: its req or upgrade socket). @internal */
export function setErrorResponder(key: object, responder: ErrorResponder): void {
  responders.set(key, responder);
}

/** `base` with `overrides` replacing same-named headers whatever their case. */
function withOverrides(base: Record<string, string>, overrides: Readonly<Record<string, string>> | undefined): Record<string, string> {
  if (overrides === undefined) return base;
  const replaced = new Set(Object.keys(overrides).map((n) => n.toLowerCase()));
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(base)) if (!replaced.has(name.toLowerCase())) out[name] = value;
  return Object.assign(out, overrides);
}

/** Sockets the proxy already sent an error answer on. */
const answered = new WeakSet<object>();

/** True when the proxy already answered on this socket (so a later parser error adds nothing). @internal */
export function wasAnswered(socket: object): boolean {
  return answered.has(socket);
}

/**
 * Generic bodies for answers the proxy makes itself. They name no backend,
 * address, port or id: the detail goes to the `error` event instead.
 */
function bodyFor(status: number): string {
  return `${status} ${STATUS_CODES[status] ?? 'Error'}\n`;
}

/** Headers every proxy-made error answer carries. @internal */
export function errorHeaders(err: SwitchboardError, retryAfter: number, server: string | undefined): Record<string, string> {
  const headers: Record<string, string> = {
    'Content-Type': 'text/plain; charset=utf-8',
    'Cache-Control': 'no-store',
  };
  if (err.status === 503) headers['Retry-After'] = String(retryAfter);
  if (err.status === 429) headers['Retry-After'] = String((err as SwitchboardError & { retryAfter?: number }).retryAfter ?? retryAfter);
  if (err.code === 'ERR_UNSUPPORTED_WS_VERSION') headers['Sec-WebSocket-Version'] = '13';
  if (server !== undefined) headers['Server'] = server;
  // After a malformed request the connection's framing cannot be trusted.
  if (err.status === 400 || err.status === 414 || err.status === 431 || err.status === 505) headers['Connection'] = 'close';
  return headers;
}

/**
 * Answers an HTTP request with the error's status and a generic body, or
 * destroys the response when headers were already sent (the client then sees
 * a truncated response, which is the honest signal).
 * @internal
 */
export function sendHttpError(res: ServerResponse, err: SwitchboardError, retryAfter: number, server: string | undefined): void {
  if (res.headersSent || err.status === 0 || res.destroyed) {
    res.destroy();
    return;
  }
  const delegate = res.req === undefined ? undefined : delegates.get(res.req);
  if (delegate !== undefined) {
    delegates.delete(res.req);
    delegate(err);
    return;
  }
  const custom = res.req === undefined ? undefined : responders.get(res.req)?.(err);
  const body = custom?.body ?? bodyFor(err.status);
  answered.add(res.socket ?? res);
  const headers = { ...withOverrides(errorHeaders(err, retryAfter, server), custom?.headers), 'Content-Length': String(Buffer.byteLength(body)) };
  // On HTTP/2 a malformed request ends its stream only; `Connection` has no meaning there (RFC 9113 8.2.2).
  res.writeHead(custom?.status ?? err.status, isHttp2Response(res) ? dropConnectionHeaders(headers) : headers);
  res.end(body);
}

/**
 * Writes an HTTP error answer on a raw socket (an upgrade the proxy refuses)
 * and destroys the socket once it is flushed.
 * @internal
 */
export function sendRawError(socket: Duplex, err: SwitchboardError, retryAfter: number, server: string | undefined): void {
  if (err.status === 0 || !socket.writable) {
    socket.destroy();
    return;
  }
  const custom = responders.get(socket)?.(err);
  if (custom !== undefined) {
    sendRawStatus(socket, custom.status, withOverrides(errorHeaders(err, retryAfter, server), custom.headers), custom.body);
    return;
  }
  sendRawStatus(socket, err.status, errorHeaders(err, retryAfter, server));
}

/**
 * Writes `status` with a generic body and `Connection: close` on a raw socket
 * (no ServerResponse exists: a refused upgrade, a parser error), marks the
 * socket answered, and destroys it once the answer is flushed.
 * @internal
 */
export function sendRawStatus(socket: Duplex, status: number, headers: Readonly<Record<string, string>>, customBody?: string | Buffer): void {
  const body = customBody ?? bodyFor(status);
  answered.add(socket);
  const all: Record<string, string> = { ...headers, Connection: 'close', 'Content-Length': String(Buffer.byteLength(body)) };
  let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}\r\n`;
  for (const [name, value] of Object.entries(all)) head += `${name}: ${value}\r\n`;
  socket.end(Buffer.concat([Buffer.from(`${head}\r\n`, 'latin1'), typeof body === 'string' ? Buffer.from(body) : body]), () => socket.destroy());
}
