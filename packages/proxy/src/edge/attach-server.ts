/**
 * `Proxy.attach()`'s wiring: the listeners it puts on an http, https or http2 secure server, and the function
 * that takes them off again.
 */
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Server as HttpsServer } from 'node:https';
import type { Http2SecureServer } from 'node:http2';
import type { Duplex } from 'node:stream';
import type { SwitchboardError } from '../errors';
import { attachExtendedConnect } from '../http2/extended-connect';
import { attachHttp2, isHttp2Server } from '../http2/h2-server';
import { floodError } from '../http2/h2-entry';
import type { ResolvedOptions } from '../resolve-options';
import { onClientError } from './listener';

/** What the attached listeners call into. */
export interface AttachTarget {
  readonly options: ResolvedOptions;
  readonly handleRequest: (req: IncomingMessage, res: ServerResponse) => void;
  readonly handleUpgrade: (req: IncomingMessage, socket: Duplex, head: Buffer) => void;
  reportError(err: SwitchboardError): void;
}

/** Adds the proxy's `request`, `upgrade` (and, on HTTP/2, session and extended CONNECT) listeners; returns `detach`. */
export function attachServer(server: Server | HttpsServer | Http2SecureServer, target: AttachTarget): () => void {
  const { handleRequest, handleUpgrade, options } = target;
  const events = server as Server;
  events.on('request', handleRequest);
  events.on('upgrade', handleUpgrade);
  // Without a clientError listener Node answers parser errors itself; ours adds the generic bodies.
  const ownsClientErrors = events.listenerCount('clientError') === 0;
  if (ownsClientErrors) events.on('clientError', onClientError);
  const detachHttp2 = isHttp2Server(server) ? attachHttp2(server, options.http2, (kind, session) => target.reportError(floodError(kind, session))) : undefined;
  const detachWebSockets = isHttp2Server(server) ? attachWebSockets(server, target) : undefined;
  return () => {
    events.removeListener('request', handleRequest);
    events.removeListener('upgrade', handleUpgrade);
    if (ownsClientErrors) events.removeListener('clientError', onClientError);
    detachHttp2?.();
    detachWebSockets?.();
  };
}

/** RFC 8441: WebSockets over the HTTP/2 streams of a node:http2 server. */
function attachWebSockets(server: Http2SecureServer, target: AttachTarget): () => void {
  const { retryAfter, server: serverHeader, http2 } = target.options;
  return attachExtendedConnect(server, { handleUpgrade: target.handleUpgrade, reportError: (err) => target.reportError(err), retryAfter, server: serverHeader, maxWebSocketStreams: http2.maxWebSocketStreams, sessionIdleTimeout: http2.idleTimeout });
}
