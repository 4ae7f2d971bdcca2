/**
 * Where an HTTP/2 request enters the proxy: adapted for the HTTP/1.1 path, or answered 400 on its stream. And the
 * error a flooding connection is reported with.
 * @packageDocumentation
 */
import type { ServerResponse } from 'node:http';
import { constants, type Http2ServerRequest, type Http2Session } from 'node:http2';
import { clientKey } from '../connection-table';
import { BadRequestError, Http2FloodError, type SwitchboardError } from '../errors';
import { sendHttpError } from '../http/error-response';
import type { ResolvedOptions } from '../resolve-options';
import { isCutOff, type FloodKind } from './flood-guard';
import { adaptHttp2Request } from './h2-request';

/**
 * Adapts an HTTP/2 request for the forward path (see {@link adaptHttp2Request}); false once it has been refused
 * with 400 on its own stream, or reset because its connection was cut off for a flood.
 * @internal
 */
export function acceptHttp2Request(req: Http2ServerRequest, res: ServerResponse, options: ResolvedOptions, report: (err: SwitchboardError) => void): boolean {
  if (isCutOff(req.stream.session)) {
    req.stream.close(constants.NGHTTP2_REFUSED_STREAM);
    return false;
  }
  // CONNECT (a tunnel, or RFC 8441's extended CONNECT for WebSockets, which has its own path) is never forwarded
  // to an HTTP/1.1 backend as a request.
  const rejection = req.method === 'CONNECT' ? { reason: 'CONNECT is not forwarded' } : adaptHttp2Request(req);
  if (rejection === undefined) return true;
  const err = new BadRequestError(rejection.reason, { clientAddress: clientKey(req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0) });
  report(err);
  sendHttpError(res, err, options.retryAfter, options.server);
  return false;
}

const FLOOD_NAMES: Readonly<Record<FloodKind, string>> = { resets: 'stream resets (rapid reset)', pings: 'PING frames', settings: 'SETTINGS frames' };

/**
 * The report of a connection cut off by the flood guard.
 * @internal
 */
export function floodError(kind: FloodKind, session: Http2Session): Http2FloodError {
  const socket = session.socket as { remoteAddress?: string; remotePort?: number } | undefined;
  return new Http2FloodError(`too many ${FLOOD_NAMES[kind]} on one HTTP/2 connection: GOAWAY ENHANCE_YOUR_CALM`, {
    clientAddress: clientKey(socket?.remoteAddress ?? '', socket?.remotePort ?? 0),
  });
}
