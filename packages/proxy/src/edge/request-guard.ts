/**
 * Request checks that run before anything is forwarded, for what Node's HTTP parser lets through.
 *
 * What Node 20.20's parser (llhttp, strict by default) already does, found by sending raw bytes to a node:http
 * server (the canary tests in request-guard.test.ts keep this table honest). "clientError" means the server emits
 * `'clientError'` with that `err.code` and, when no listener is attached, writes the status shown and closes; with a
 * listener attached Node writes nothing and the listener must answer (see {@link statusForClientError}).
 *
 * | input                                              | Node 20 default server                                   |
 * |----------------------------------------------------|----------------------------------------------------------|
 * | obs-fold (`X: a\r\n b`)                            | 400, HPE_INVALID_HEADER_TOKEN                            |
 * | Content-Length + Transfer-Encoding (either order)  | 400, HPE_INVALID_TRANSFER_ENCODING / _CONTENT_LENGTH     |
 * | duplicate Content-Length, equal or not             | 400, HPE_UNEXPECTED_CONTENT_LENGTH                       |
 * | Content-Length `5, 5`, `+5`, `-1`, `0x5`, `5a`, `` | 400, HPE_INVALID_CONTENT_LENGTH (2^64: "overflow")       |
 * | Content-Length `005`                               | accepted as 5                                            |
 * | TE `chunked, gzip`; TE twice; TE `chunked, chunked`| 400, HPE_INVALID_TRANSFER_ENCODING                       |
 * | TE `gzip`, `identity`, `xchunked`, `chunked;x=1`   | 400 HPE_INVALID_TRANSFER_ENCODING, but only AFTER the    |
 * |                                                    | `'request'` event has fired: this module must catch it   |
 * | TE `gzip, chunked`; TE `CHUNKED`                   | accepted                                                 |
 * | TE on an HTTP/1.0 request                          | accepted, body parsed as chunked                         |
 * | header name with space, `@`, CTL, non-ASCII, empty,| 400, HPE_INVALID_HEADER_TOKEN                            |
 * | no colon, space before colon                       |                                                          |
 * | header value with NUL, 0x01-0x1f (not HTAB), 0x7f  | 400, HPE_INVALID_HEADER_TOKEN                            |
 * | header value with bare CR / bare LF line ending    | 400, HPE_LF_EXPECTED / HPE_CR_EXPECTED                   |
 * | header value with HTAB, or 0x80-0xff (obs-text,    | accepted (RFC 9110 allows obs-text); Node decodes header |
 * | invalid UTF-8)                                     | bytes as latin1, so nothing breaks                       |
 * | header section over maxHeaderSize (16 KiB)         | 431, HPE_HEADER_OVERFLOW; a request line over it too     |
 * |                                                    | (so a 17 KiB URL gets 431, not 414)                      |
 * | URL of 10 KiB (under maxHeaderSize)                | accepted: this module answers 414                        |
 * | URL with NUL, 0x7f, non-ASCII, tab, space          | 400, HPE_INVALID_URL / HPE_INVALID_CONSTANT              |
 * | more than ~1000 header lines                       | accepted; lines past the cap are silently DROPPED from   |
 * |                                                    | `rawHeaders` and `headers` (maxHeadersCount): 431 here   |
 * | HTTP/1.1 without Host                              | 400 written by Node itself, no clientError event         |
 * | duplicate Host; Host `a b`                         | accepted, second Host silently dropped: 400 here         |
 * | lowercase or unknown method; TLS ClientHello       | 400, HPE_INVALID_METHOD                                  |
 * | `HTTP/1.2`, `HTTP/3.0`, `http/1.1`, junk after ver.| 400, HPE_INVALID_VERSION / HPE_INVALID_CONSTANT          |
 * | `GET /` (HTTP/0.9), `GET / HTTP/2.0`               | accepted as a request: 505 here                          |
 * | all-LF line endings                                | 400, HPE_INVALID_VERSION                                 |
 * | chunk size `zz`; chunk line ending in LF only      | 400 after `'request'` (HPE_INVALID_CHUNK_SIZE,           |
 * |                                                    | HPE_CR_EXPECTED); `req` emits `'error'` (ECONNRESET)     |
 * | chunk extensions over 16 KiB                       | 413 after `'request'`, HPE_CHUNK_EXTENSIONS_OVERFLOW     |
 * | WebSocket upgrade with Content-Length 5 or chunked | accepted, `'upgrade'` fires, body bytes in `head`: 400   |
 * | headers dribbled slower than headersTimeout        | 408, ERR_HTTP_REQUEST_TIMEOUT (checked only every        |
 * |                                                    | connectionsCheckingInterval, 30 s by default)            |
 * | client closes mid-headers                          | clientError HPE_INVALID_EOF_STATE; nothing to answer     |
 *
 * With `insecureHTTPParser: true` Node lets obs-fold (joined with a space, undetectable afterwards), CL + TE,
 * any TE list, repeated TE, CTL bytes in values and bare-LF line endings through to `'request'`, so every check
 * below except obs-fold also guards a server created that way.
 *
 * @packageDocumentation
 */
import type { IncomingMessage } from 'node:http';
import { InvalidOptionError } from '../errors';
import { equalsLower } from '../http/header-policy';

/**
 * Why a request was refused: the status to answer with (then close the connection) and a short reason that never
 * quotes the request, safe to log.
 *
 * @example
 * ```ts
 * const r: RequestRejection = { status: 414, reason: 'request target longer than maxUrlLength' };
 * ```
 */
export interface RequestRejection {
  readonly status: 400 | 414 | 431 | 505;
  readonly reason: string;
}

/**
 * Options of {@link createRequestGuard}.
 *
 * @example
 * ```ts
 * const options: RequestGuardOptions = { maxUrlLength: 4096, maxHeaderCount: 64 };
 * ```
 */
export interface RequestGuardOptions {
  /**
   * Longest request target (`req.url`) accepted, in characters; longer gets 414.
   * @defaultValue {@link DEFAULT_MAX_URL_LENGTH}
   * @remarks Node only limits the request line and headers together (maxHeaderSize, 16 KiB, answered with 431).
   */
  readonly maxUrlLength?: number;
  /**
   * Most header lines accepted; more gets 431.
   * @defaultValue {@link DEFAULT_MAX_HEADER_COUNT}
   * @remarks Node silently drops lines past about a thousand, so a check made on the headers it keeps could be
   * dodged by padding. 100 is Apache's `LimitRequestFields`.
   */
  readonly maxHeaderCount?: number;
}

/**
 * Default {@link RequestGuardOptions.maxUrlLength} (nginx's default `large_client_header_buffers` line size).
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_URL_LENGTH); // 8192
 * ```
 */
export const DEFAULT_MAX_URL_LENGTH = 8192;

/**
 * Default {@link RequestGuardOptions.maxHeaderCount}.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_HEADER_COUNT); // 100
 * ```
 */
export const DEFAULT_MAX_HEADER_COUNT = 100;

/**
 * The parts of an `IncomingMessage` the guard reads (an `IncomingMessage` is one).
 *
 * @example
 * ```ts
 * const req: GuardedRequest = { httpVersionMajor: 1, httpVersionMinor: 1, url: '/', rawHeaders: ['Host', 'a'] };
 * ```
 */
export type GuardedRequest = Pick<IncomingMessage, 'httpVersionMajor' | 'httpVersionMinor' | 'url' | 'rawHeaders'>;

/**
 * Checks one request; `undefined` means it may be forwarded.
 *
 * @example
 * ```ts
 * const guard: RequestGuard = createRequestGuard();
 * ```
 */
export type RequestGuard = (req: GuardedRequest, http2?: boolean) => RequestRejection | undefined;

/** RFC 9110 token characters, as a 128-entry table: one array lookup per byte of every header name. */
const TOKEN = new Uint8Array(128);
for (const c of "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ") TOKEN[c.charCodeAt(0)] = 1;
const DIGITS = /^[0-9]+$/;
/** uri-host [":" port]: an IP-literal, or a reg-name of unreserved, pct-encoded and sub-delims characters. */
const HOST = /^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9\-._~!$&'()*+,;=%]*)(?::[0-9]*)?$/;
/** `upgrade` as a token of a Connection value (`keep-alive, Upgrade`). */
const UPGRADE_TOKEN = /(?:^|,)[ \t]*upgrade[ \t]*(?:,|$)/i;
const HTAB = 0x09;
const DEL = 0x7f;

function reject(status: RequestRejection['status'], reason: string): RequestRejection {
  return { status, reason };
}

function isToken(name: string): boolean {
  if (name.length === 0) return false;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 128 || TOKEN[c] === 0) return false;
  }
  return true;
}

/** Field values may hold HTAB, SP, visible ASCII and obs-text (0x80-0xff), nothing else (RFC 9110 5.5). */
function hasControl(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c < 0x20 && c !== HTAB) || c === DEL) return true;
  }
  return false;
}

function hasControlOrSpace(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c <= 0x20 || c === DEL) return true;
  }
  return false;
}

/** The checks, in order; options already validated. */
function check(req: GuardedRequest, maxUrlLength: number, maxHeaderCount: number, http2: boolean): RequestRejection | undefined {
  // HTTP/0.9 and "HTTP/2.0" in an HTTP/1 request line both reach 'request'; neither can be relayed as HTTP/1.1. A
  // request that came on an HTTP/2 stream (`http2`, adapted by http2/h2-request.ts) is 2.0 and is relayed as 1.1.
  if (http2 ? req.httpVersionMajor !== 2 : req.httpVersionMajor !== 1 || (req.httpVersionMinor !== 0 && req.httpVersionMinor !== 1)) {
    return reject(505, 'unsupported HTTP version');
  }
  const url = req.url ?? '';
  if (url.length > maxUrlLength) return reject(414, 'request target longer than maxUrlLength');
  if (hasControlOrSpace(url)) return reject(400, 'invalid character in request target');
  const raw = req.rawHeaders;
  if (raw.length / 2 > maxHeaderCount) return reject(431, 'more header fields than maxHeaderCount');
  let contentLengths = 0;
  let contentLength = '';
  let transferEncodings = 0;
  let transferEncoding = '';
  let hosts = 0;
  let host = '';
  let upgradeHeader = false;
  let connectionUpgrade = false;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i];
    const value = raw[i + 1];
    if (!isToken(name)) return reject(400, 'invalid header name');
    if (hasControl(value)) return reject(400, 'invalid character in header value');
    // Only a few names matter below. Lengths are compared first, which keeps the common header cheap, and the names
    // are matched in place: toLowerCase() would copy every capitalised one (`Host`, `Connection`).
    if (name.length === 14 && equalsLower(name, 'content-length')) {
      contentLengths++;
      contentLength = value;
    } else if (name.length === 17 && equalsLower(name, 'transfer-encoding')) {
      transferEncodings++;
      transferEncoding = value;
    } else if (name.length === 4 && equalsLower(name, 'host')) {
      hosts++;
      host = value;
    } else if (name.length === 7 && equalsLower(name, 'upgrade')) {
      upgradeHeader = true;
    } else if (name.length === 10 && equalsLower(name, 'connection') && UPGRADE_TOKEN.test(value)) {
      connectionUpgrade = true;
    }
  }
  // Two framings, or two lengths, is how request smuggling starts: a backend may pick the other one. Even equal
  // duplicates are refused, as Node does; RFC 9112 would allow them, but nothing legitimate sends them.
  if (contentLengths > 1) return reject(400, 'duplicate Content-Length');
  if (transferEncodings > 1) return reject(400, 'duplicate Transfer-Encoding');
  if (contentLengths === 1 && transferEncodings === 1) return reject(400, 'both Content-Length and Transfer-Encoding');
  if (contentLengths === 1 && !DIGITS.test(contentLength)) return reject(400, 'invalid Content-Length');
  // RFC 9113 8.2.2: connection-specific fields make an HTTP/2 request malformed (Node's http2 lets some through).
  if (http2 && transferEncodings > 0) return reject(400, 'Transfer-Encoding in an HTTP/2 request');
  if (transferEncodings === 1) {
    // A single `chunked` only: the body is re-framed on the way to the backend, so another coding could not be
    // relayed faithfully, and Node only rejects some of them after 'request' has already fired.
    if (transferEncoding.trim().toLowerCase() !== 'chunked') return reject(400, 'Transfer-Encoding other than chunked');
    // RFC 9112 6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
    if (req.httpVersionMinor === 0 && !http2) return reject(400, 'Transfer-Encoding in an HTTP/1.0 request');
  }
  // RFC 9112 3.2: exactly one valid Host in HTTP/1.1 (Node keeps the first of two and says nothing).
  if (hosts > 1) return reject(400, 'duplicate Host');
  if (hosts === 0 && (http2 || req.httpVersionMinor === 1)) return reject(400, 'missing Host');
  if (hosts === 1 && !HOST.test(host)) return reject(400, 'invalid Host');
  // Bytes after an upgrade request belong to the new protocol; a body there is one the backend would read as frames.
  // Upgrade + Connection: upgrade is the test llhttp applies to route a request to 'upgrade'.
  if (upgradeHeader && connectionUpgrade && (transferEncodings > 0 || (contentLengths > 0 && Number(contentLength) > 0))) {
    return reject(400, 'upgrade request with a body');
  }
  return undefined;
}

/**
 * Builds the request check, validating its options once.
 *
 * @remarks Call it first in both the `'request'` and the `'upgrade'` path, before choosing a backend. On a
 * rejection answer `status` with `Connection: close` and a generic body (for an upgrade, write the response on the
 * socket and end it), forward nothing, and do not read the body: the framing cannot be trusted.
 *
 * @throws {@link InvalidOptionError} (`ERR_INVALID_OPTION`) for a non-integer or non-positive limit.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const guard = createRequestGuard({ maxUrlLength: 4096 });
 * createServer((req, res) => {
 *   const rejection = guard(req);
 *   if (rejection !== undefined) {
 *     res.writeHead(rejection.status, { connection: 'close' }).end();
 *     return;
 *   }
 *   // ... forward
 * });
 * ```
 */
export function createRequestGuard(options: RequestGuardOptions = {}): RequestGuard {
  const { maxUrlLength = DEFAULT_MAX_URL_LENGTH, maxHeaderCount = DEFAULT_MAX_HEADER_COUNT } = options;
  if (!Number.isInteger(maxUrlLength) || maxUrlLength < 1) {
    throw new InvalidOptionError(`maxUrlLength must be a positive integer, got ${String(maxUrlLength)}`);
  }
  if (!Number.isInteger(maxHeaderCount) || maxHeaderCount < 1) {
    throw new InvalidOptionError(`maxHeaderCount must be a positive integer, got ${String(maxHeaderCount)}`);
  }
  return (req, http2 = false) => check(req, maxUrlLength, maxHeaderCount, http2);
}

/**
 * The status a `'clientError'` listener should answer with, mirroring what Node writes when there is no listener;
 * `undefined` when nothing should be written (the connection failed, e.g. ECONNRESET, or the client left
 * mid-request).
 *
 * @remarks Write only if `socket.writable` and no response has started on that connection (Node's default checks
 * the in-flight response's `headersSent`), then destroy the socket. This matters after a {@link RequestGuard}
 * refusal: for `Transfer-Encoding: gzip` the guard answers 400 in `'request'`, then the parser fails on the body
 * bytes and emits `'clientError'` on the same socket; remember answered sockets (a `WeakSet<Socket>`) and skip
 * those. Never echo `err.rawPacket`: it holds the client's bytes, cookies included.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const server = createServer();
 * server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
 *   const status = statusForClientError(err);
 *   if (status !== undefined && socket.writable) socket.write(`HTTP/1.1 ${status} \r\nConnection: close\r\n\r\n`);
 *   socket.destroy();
 * });
 * ```
 */
export function statusForClientError(err: { readonly code?: string }): 400 | 408 | 413 | 431 | undefined {
  const code = err.code ?? '';
  if (code === 'HPE_HEADER_OVERFLOW') return 431;
  if (code === 'HPE_CHUNK_EXTENSIONS_OVERFLOW') return 413;
  if (code === 'ERR_HTTP_REQUEST_TIMEOUT') return 408;
  // EOF mid-request: the client is gone, there is no one to answer.
  if (code === 'HPE_INVALID_EOF_STATE') return undefined;
  return code.startsWith('HPE_') ? 400 : undefined;
}
