/**
 * node:http2 secure servers: the options the proxy creates them with, and what attaching to one adds to what
 * attaching to an http(s) server does (SETTINGS, flood counters per session).
 * @packageDocumentation
 */
import type { Http2SecureServer, Http2Session, SecureServerOptions } from 'node:http2';
import type { FloodKind } from './flood-guard';
import { SessionFloodGuard } from './flood-guard';
import type { ResolvedHttp2Options } from './http2-options';

/**
 * True for a node:http2 server (`http2.createSecureServer()` or `http2.createServer()`).
 * @internal
 */
export function isHttp2Server(server: object): server is Http2SecureServer {
  return typeof (server as { updateSettings?: unknown }).updateSettings === 'function';
}

/**
 * Header pairs Node accepts on one HTTP/2 request beyond `maxHeaderCount`: room for the pseudo-headers, and for a
 * request a little over the count to still get the guard's 431 instead of a reset stream.
 */
const PAIRS_OVER_HEADER_COUNT = 32;

/**
 * Unacknowledged PINGs the proxy's side may have in flight. The proxy sends none, so this bounds nothing it does
 * (Node's own default is 10 as well); it is set so the value is stated rather than inherited. It does not defend
 * against PINGs *from* the client: that is {@link SessionFloodGuard}'s job.
 */
const MAX_OUTSTANDING_PINGS = 10;

/**
 * The node:http2 server options for a server that serves HTTP/1.1 and HTTP/2 through the proxy, `key`/`cert` aside.
 * @internal
 */
export function http2ServerOptions(limits: ResolvedHttp2Options, maxHeaderCount: number): SecureServerOptions {
  return {
    allowHTTP1: true,
    settings: serverSettings(limits),
    maxSessionInvalidFrames: limits.maxInvalidFrames,
    maxSessionRejectedStreams: limits.maxRejectedStreams,
    maxHeaderListPairs: maxHeaderCount + PAIRS_OVER_HEADER_COUNT,
    maxOutstandingPings: MAX_OUTSTANDING_PINGS,
  };
}

/**
 * The SETTINGS every client connection gets. `enableConnectProtocol` announces RFC 8441 extended CONNECT, which
 * WebSockets over HTTP/2 need (browsers only try it when the server sends it).
 */
function serverSettings(limits: ResolvedHttp2Options): NonNullable<SecureServerOptions['settings']> {
  return { maxConcurrentStreams: limits.maxConcurrentStreams, maxHeaderListSize: limits.maxHeaderListSize, enableConnectProtocol: true };
}

/** A connection silent for `idleTimeout`: closed with its streams (their exchanges see their responses close). */
function sessionOnTimeout(this: Http2Session): void {
  if (!this.destroyed) this.destroy();
}

/**
 * Attaches the HTTP/2 parts to a node:http2 server: the proxy's SETTINGS (for connections made from now on) and a
 * {@link SessionFloodGuard} and the `idleTimeout` on every session. Returns its detach; the SETTINGS stay, as Node cannot take them back
 * for connections already open.
 * @internal
 */
export function attachHttp2(server: Http2SecureServer, limits: ResolvedHttp2Options, onFlood: (kind: FloodKind, session: Http2Session) => void): () => void {
  server.updateSettings(serverSettings(limits));
  const onSession = (session: Http2Session): void => {
    new SessionFloodGuard(session, limits, onFlood);
    session.setTimeout(limits.idleTimeout, sessionOnTimeout);
  };
  server.on('session', onSession);
  return () => {
    server.removeListener('session', onSession);
  };
}
