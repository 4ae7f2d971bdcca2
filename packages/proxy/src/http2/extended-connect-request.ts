/**
 * The HTTP/1.1 upgrade request an extended CONNECT stands for (RFC 8441 section 5): `:path` is the request target,
 * `:authority` the Host, and the handshake headers HTTP/2 leaves out are added, with a fresh `Sec-WebSocket-Key`
 * (the client sends none over HTTP/2, and the backend's `Sec-WebSocket-Accept` is checked against this one).
 * Everything downstream (request guard, Origin policy, routing, hooks, strategies, forwarding headers) reads it as
 * it reads an HTTP/1.1 upgrade.
 * @internal
 */
import { randomBytes } from 'node:crypto';
import { IncomingMessage, type IncomingHttpHeaders } from 'node:http';
import type { Socket } from 'node:net';

/** HTTP/2 stream id of each request made here, for the connection table. */
const streamIds = new WeakMap<IncomingMessage, number>();

/**
 * The HTTP/2 stream an upgrade request came on, when it came as an extended CONNECT.
 * @internal
 */
export function extendedConnectStreamOf(req: IncomingMessage): number | undefined {
  return streamIds.get(req);
}

/**
 * Builds the upgrade request. `socket` is what `req.socket` reads as (the session's socket: its address is the
 * client's), `rawHeaders` the stream's flat `[name, value, ...]` list.
 * @internal
 */
export function extendedConnectRequest(socket: Socket, headers: IncomingHttpHeaders, rawHeaders: readonly string[], streamId: number): IncomingMessage {
  const req = new IncomingMessage(socket);
  req.method = 'GET';
  req.url = String(headers[':path']);
  req.httpVersion = '1.1';
  req.httpVersionMajor = 1;
  req.httpVersionMinor = 1;
  const raw: string[] = ['Host', String(headers[':authority'])];
  const cookies: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!;
    const lower = name.toLowerCase();
    // :authority wins over a host field (RFC 9113 8.3.1); the key is ours to make.
    if (lower.startsWith(':') || lower === 'host' || lower === 'sec-websocket-key') continue;
    // HTTP/2 may split cookies into several fields; HTTP/1.1 wants one (RFC 9113 8.2.3).
    if (lower === 'cookie') cookies.push(rawHeaders[i + 1]!);
    else raw.push(name, rawHeaders[i + 1]!);
  }
  if (cookies.length > 0) raw.push('cookie', cookies.join('; '));
  raw.push('Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Key', randomBytes(16).toString('base64'));
  req.rawHeaders = raw;
  req.headers = headersOf(raw);
  req.complete = true;
  req.push(null);
  streamIds.set(req, streamId);
  return req;
}

/** The lower-cased headers object of a flat list, duplicates joined as Node's parser joins them. */
function headersOf(raw: readonly string[]): IncomingHttpHeaders {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    const value = raw[i + 1]!;
    const prior = out[name];
    out[name] = prior === undefined ? value : `${prior}, ${value}`;
  }
  return out;
}
