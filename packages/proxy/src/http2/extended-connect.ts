/**
 * WebSockets over HTTP/2 (RFC 8441): the server advertises SETTINGS_ENABLE_CONNECT_PROTOCOL, and each extended
 * CONNECT with `:protocol: websocket` is checked here, then handed to the proxy's upgrade path as an HTTP/1.1
 * upgrade (request from extended-connect-request.ts, client socket from extended-connect-socket.ts).
 * @internal
 */
import type { IncomingMessage } from 'node:http';
import { Http2ServerRequest, type Http2SecureServer, type Http2Session, type IncomingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { clientKey } from '../connection-table';
import { BadHandshakeError, type SwitchboardError } from '../errors';
import { sendRawError } from '../http/error-response';
import { ConnectUnsupportedError, WebSocketStreamLimitError } from './extended-connect-errors';
import { extendedConnectRequest } from './extended-connect-request';
import { ExtendedConnectSocket } from './extended-connect-socket';

/**
 * Limits of WebSockets carried over HTTP/2 (RFC 8441 extended CONNECT).
 *
 * @example
 * ```ts
 * import { createProxy } from '@switchboard/proxy';
 * const proxy = createProxy({ backends: ['http://127.0.0.1:9001'], http2: { maxWebSocketStreams: 50 } });
 * ```
 * @group Options
 */
export interface Http2WebSocketOptions {
  /**
   * Most WebSockets one HTTP/2 client connection may carry at once; each further extended CONNECT on it is
   * answered 429 (`ERR_WEBSOCKET_STREAM_LIMIT`, with `Retry-After`) while the others go on.
   *
   * @defaultValue 100
   * @remarks
   * One TLS connection can multiplex many WebSockets, each holding a backend connection: without a bound, one
   * client socket could open thousands of backend connections, which `maxConnectionsPerClient` would only catch
   * per address. A status rather than RST_STREAM REFUSED_STREAM: a browser retries a refused stream on the same
   * connection, while a 429 fails that WebSocket with a clear cause.
   */
  readonly maxWebSocketStreams?: number;
}

/** @internal */
export const DEFAULT_MAX_WEBSOCKET_STREAMS = 100;

/** What the extended CONNECT handler needs from the proxy. @internal */
export interface ExtendedConnectDeps {
  /** The proxy's upgrade entry: routing, hooks, request checks, then the tunnel. */
  handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void;
  reportError(err: SwitchboardError): void;
  readonly retryAfter: number;
  readonly server: string | undefined;
  readonly maxWebSocketStreams: number;
  /** The session idle timeout (`http2.idleTimeout`, ms) to restore once a session carries no WebSocket. */
  readonly sessionIdleTimeout: number;
}

const EMPTY = Buffer.alloc(0);

/**
 * Serves RFC 8441 WebSockets on a node:http2 server; returns the function that stops it. The compatibility API's
 * 'connect' event carries every HTTP/2 CONNECT (it needs a 'request' listener, which `proxy.attach` adds).
 * @internal
 */
export function attachExtendedConnect(server: Http2SecureServer, deps: ExtendedConnectDeps): () => void {
  // New sessions send SETTINGS_ENABLE_CONNECT_PROTOCOL = 1 (without it a client may not send :protocol at all);
  // attachHttp2 announces it with the other SETTINGS, this keeps the module whole on its own.
  server.updateSettings({ enableConnectProtocol: true });
  const perSession = new WeakMap<Http2Session, number>();
  const onConnect = (req: Http2ServerRequest | IncomingMessage, other: unknown): void => {
    if (req instanceof Http2ServerRequest) {
      handleExtendedConnect(deps, perSession, req.stream, req.headers, req.rawHeaders, req.socket as unknown as Socket);
    } else if (server.listenerCount('connect') === 1) {
      // An HTTP/1.1 CONNECT (allowHTTP1): Node destroys it when nobody listens, and nobody else does.
      (other as Duplex).destroy();
    }
  };
  server.on('connect', onConnect);
  return () => {
    server.removeListener('connect', onConnect);
  };
}

/** The RFC 8441 checks the upgrade path cannot make (it sees an HTTP/1.1 request); undefined when they pass. */
function checkExtendedConnect(headers: IncomingHttpHeaders, clientAddress: string): SwitchboardError | undefined {
  const protocol = headers[':protocol'];
  const ctx = { clientAddress };
  if (protocol === undefined) return new ConnectUnsupportedError('CONNECT without :protocol (a tunnel) is not served', ctx);
  if (typeof protocol !== 'string' || protocol.toLowerCase() !== 'websocket') return new ConnectUnsupportedError(':protocol is not websocket', ctx);
  const scheme = headers[':scheme'];
  if (scheme !== 'https' && scheme !== 'http') return new BadHandshakeError('extended CONNECT without :scheme http or https', ctx);
  const path = headers[':path'];
  if (typeof path !== 'string' || !path.startsWith('/')) return new BadHandshakeError('extended CONNECT without a :path', ctx);
  const authority = headers[':authority'];
  if (typeof authority !== 'string' || authority === '') return new BadHandshakeError('extended CONNECT without :authority', ctx);
  return undefined;
}

function handleExtendedConnect(
  deps: ExtendedConnectDeps,
  perSession: WeakMap<Http2Session, number>,
  stream: ServerHttp2Stream,
  headers: IncomingHttpHeaders,
  rawHeaders: readonly string[],
  peer: Socket,
): void {
  const socket = new ExtendedConnectSocket(stream);
  // Owned from the first moment, as an HTTP/1.1 upgrade socket is.
  socket.on('error', noop);
  const clientAddress = clientKey(peer.remoteAddress ?? '', peer.remotePort ?? 0);
  const refuse = (err: SwitchboardError): void => {
    deps.reportError(err);
    sendRawError(socket, err, deps.retryAfter, deps.server);
  };
  const refused = checkExtendedConnect(headers, clientAddress);
  if (refused !== undefined) return refuse(refused);
  const session = stream.session;
  if (session === undefined) {
    socket.destroy();
    return;
  }
  const open = perSession.get(session) ?? 0;
  if (open >= deps.maxWebSocketStreams) {
    return refuse(new WebSocketStreamLimitError(`client connection already carries ${open} WebSockets (http2.maxWebSocketStreams)`, { clientAddress }));
  }
  perSession.set(session, open + 1);
  // A quiet HTTP/1.1 WebSocket lives until the proxy's own idleTimeout (none by default); the session's idle
  // timeout would close a quiet HTTP/2 one, so it is suspended while the session carries a WebSocket. Re-armed
  // without a callback: the listener attachHttp2 registered stays and fires.
  if (open === 0) session.setTimeout(0);
  stream.once('close', () => {
    const left = (perSession.get(session) ?? 1) - 1;
    if (left > 0) {
      perSession.set(session, left);
      return;
    }
    perSession.delete(session);
    if (!session.destroyed) session.setTimeout(deps.sessionIdleTimeout);
  });
  deps.handleUpgrade(extendedConnectRequest(peer, headers, rawHeaders, stream.id ?? 0), socket, EMPTY);
}

function noop(): void {}
