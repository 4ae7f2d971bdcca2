import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Pool, buildConnector, type Dispatcher } from 'undici';
import type { Backend } from '../backends/backend-pool';
import { ClientConnectionQueue, type QueuedExchange } from './client-connection-queue';
import { clientKey, entryContext } from '../connection-table';
import { moveSlot, type LiveConnection, type Opened, type ProxyContext } from '../context';
import { sendHttpError } from './error-response';
import { consumedBodyOf, withReplayHeaders, type ReplayBody } from './consumed-body';
import { tlsOptions } from '../backends/backend-tls';
import {
  BackendConnectError,
  BackendProtocolError,
  BackendResetError,
  BackendTimeoutError,
  BadHandshakeError,
  BadRequestError,
  ClientAbortedError,
  ConsumedBodyError,
  ClientBodyError,
  ProxyClosingError,
  RequestBodyMismatchError,
  SourceExhaustedError,
  type SwitchboardError,
} from '../errors';
import { passiveFailureOf } from '../backends/outlier-detector';
import { editForwardHeaders, editResponseHead, forwardPath } from '../routing/forward-plan';
import { exchangeOwnerOf, isHttp2Request, requestHasBody, responseCompleted, trailerRecord, withoutConnectionHeaders } from '../http2/h2-request';
import { filterResponseHeaders, filterTrailers, forwardRequestHeaders, KEEP_NONE, publicOriginOf, requestHost } from './header-policy';

type ErrorCtx = { backendId: string; clientAddress: string; connectionId: number };

function mapUndiciError(err: Error & { code?: string }, ctx: ErrorCtx): SwitchboardError {
  const code = err.code ?? '';
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
      return new BackendTimeoutError('backend did not accept the connection in time', { cause: err, ...ctx });
    case 'UND_ERR_HEADERS_TIMEOUT':
      return new BackendTimeoutError('backend did not send response headers in time', { cause: err, ...ctx });
    case 'UND_ERR_BODY_TIMEOUT':
      return new BackendTimeoutError('backend paused the response body for too long', { cause: err, ...ctx });
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      // The body handed to the proxy does not match its Content-Length: read before us (a body parser), not the backend's doing.
      return new RequestBodyMismatchError('request body does not match its Content-Length (was it read before the proxy?)', { cause: err, ...ctx });
    case 'EADDRNOTAVAIL':
      return new SourceExhaustedError('every source address is out of ports toward the backend', { cause: err, ...ctx });
    case 'UND_ERR_SOCKET':
    case 'ECONNRESET':
    case 'EPIPE':
      return new BackendResetError(`backend closed the connection (${code})`, { cause: err, ...ctx });
    default:
      // undici's parser errors do not always carry an HPE_ code (a bad chunk size has none): the class names them.
      if (code.startsWith('HPE_') || err.name === 'HTTPParserError' || code === 'UND_ERR_INFO' || code === 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH') {
        return new BackendProtocolError(`backend sent an invalid response (${code})`, { cause: err, ...ctx });
      }
      return new BackendConnectError(`backend request failed (${code || err.message})`, { cause: err, ...ctx });
  }
}

/** The client's request body failed while undici pulled it: whatever undici then reports, the cause is the client. */
function mapBodyError(err: Error & { code?: string }, ctx: ErrorCtx): SwitchboardError {
  if (err.code === 'ECONNRESET' || err.code === 'ERR_STREAM_PREMATURE_CLOSE') return new ClientAbortedError('client went away during its upload', { cause: err, ...ctx });
  return new ClientBodyError(`client request body failed (${err.code ?? err.message})`, { cause: err, ...ctx });
}

/**
 * A keep-alive undici Pool per backend.
 * @internal
 */
export class BackendDispatchers {
  readonly #pools = new Map<string, Pool>();
  readonly #ctx: ProxyContext;

  constructor(ctx: ProxyContext) {
    this.#ctx = ctx;
  }

  get(backend: Backend): Pool {
    let pool = this.#pools.get(backend.id);
    if (pool === undefined) {
      const { options } = this.#ctx;
      const sources = this.#ctx.sources;
      const connectOptions = { timeout: options.connectTimeout, ...(backend.secure ? tlsOptions(options.backendTls, backend.host) : {}) };
      const connector = buildConnector(connectOptions as buildConnector.BuildOptions);
      pool = new Pool(backend.target.origin.replace(/^ws/, 'http'), {
        // Each new backend connection takes the next source address in turn.
        connect: sources.size === 0 ? connector : (opts, callback) => connector({ ...opts, localAddress: sources.next() ?? null }, callback),
        headersTimeout: options.headersTimeout,
        bodyTimeout: options.bodyTimeout,
      });
      this.#pools.set(backend.id, pool);
    }
    return pool;
  }

  /** Closes a removed backend's pool once its in-flight requests are done. */
  forget(id: string): void {
    const pool = this.#pools.get(id);
    if (pool === undefined) return;
    this.#pools.delete(id);
    pool.close().catch(() => undefined);
  }

  /** Closes every pool: graceful waits for queued requests, otherwise destroys them. */
  async close(graceful: boolean): Promise<void> {
    const pools = [...this.#pools.values()];
    this.#pools.clear();
    await Promise.all(pools.map((p) => (graceful ? p.close() : p.destroy()).catch(() => undefined)));
  }
}

/** Methods whose requests may be sent twice (RFC 9110 section 9.2.2). */
const IDEMPOTENT = new Set(['GET', 'HEAD', 'OPTIONS', 'TRACE', 'PUT', 'DELETE']);

/** Failures after which the backend cannot have acted on the request, or an idempotent one may be resent. */
const RETRYABLE = new Set(['ERR_BACKEND_CONNECT', 'ERR_BACKEND_RESET']);

/**
 * The exchange a response belongs to. Its listeners are then shared functions
 * that find it through `this` (ws `kWebSocket`), not two closures per request.
 */
const kExchange = Symbol('switchboard.exchange');

type ExchangeResponse = ServerResponse & { [kExchange]?: HttpExchange };

function resOnClose(this: ExchangeResponse): void {
  this[kExchange]?.resClosed();
}

function resOnDrain(this: ExchangeResponse): void {
  this[kExchange]?.resDrained();
}

/**
 * The undici dispatch handler of one send of an exchange.
 *
 * @remarks
 * One object per send, its callbacks on the prototype: a handler literal of
 * arrow functions would cost six closures per request. It forwards to its
 * exchange only while it is the exchange's current attempt, so a late callback
 * of a failed send cannot touch its retry.
 */
class Attempt implements Dispatcher.DispatchHandler {
  readonly #exchange: HttpExchange;

  constructor(exchange: HttpExchange) {
    this.#exchange = exchange;
  }

  onConnect(abort: (err?: Error) => void): void {
    if (!this.#exchange.attemptConnected(this, abort)) abort();
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    return this.#exchange.isCurrent(this) ? this.#exchange.onHeaders(statusCode, rawHeaders, resume) : false;
  }

  onData(chunk: Buffer): boolean {
    return this.#exchange.isCurrent(this) ? this.#exchange.onData(chunk) : false;
  }

  onComplete(trailers: string[] | null): void {
    if (this.#exchange.isCurrent(this)) this.#exchange.onComplete(trailers as unknown as Buffer[] | null);
  }

  onError(err: Error & { code?: string }): void {
    if (this.#exchange.isCurrent(this)) this.#exchange.onError(err);
  }
}

/**
 * One HTTP request in flight through the proxy.
 *
 * @remarks
 * Its {@link Attempt} handlers write response headers, body chunks and
 * trailers straight into the client's response, with no intermediate Readable
 * or Promise per request. Backpressure: `onData` returns `res.write()`'s
 * verdict (false pauses the backend socket) and the response's `'drain'`
 * resumes it.
 * @internal
 */
class HttpExchange implements LiveConnection {
  readonly protocol = 'http' as const;
  readonly #ctx: ProxyContext;
  readonly #dispatchers: BackendDispatchers;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  #opened: Opened;
  /** Backends tried before the current one; made on the first retry, as most requests never retry. */
  #tried: Set<string> | undefined;
  readonly #hasBody: boolean;
  /** The body a framework already read from `req`, sent in its place. */
  readonly #replay: ReplayBody | undefined;
  /** Read once: a request's socket reference does not outlive it. */
  readonly #proto: 'http' | 'https';
  /** The client speaks HTTP/2: its response takes no HTTP/1 connection headers and trailers as a record. */
  readonly #http2: boolean;
  /** The send whose callbacks count; undefined once the exchange is over. */
  #attempt: Attempt | undefined;
  #abortUpstream: ((err?: Error) => void) | undefined;
  #resumeUpstream: (() => void) | undefined;
  /** `'drain'` is listened to from the first full write on: most responses never fill the socket buffer. */
  #drainListened = false;
  #headersSent = false;
  #done = false;
  /** Set when reading the client's body threw: the exchange's failure is then the client's. */
  #bodyError: (Error & { code?: string }) | undefined;
  /** Told once when the exchange is over, so the connection's next pipelined request can start. */
  readonly #turn: QueuedRequest;

  constructor(ctx: ProxyContext, dispatchers: BackendDispatchers, req: IncomingMessage, res: ServerResponse, opened: Opened, turn: QueuedRequest, replay?: ReplayBody) {
    this.#ctx = ctx;
    this.#turn = turn;
    this.#dispatchers = dispatchers;
    this.#req = req;
    this.#res = res;
    this.#opened = opened;
    this.#hasBody = requestHasBody(req);
    this.#http2 = isHttp2Request(req);
    this.#proto = (req.socket as Socket & { encrypted?: boolean }).encrypted === true ? 'https' : 'http';
    this.#replay = replay;
    if (replay !== undefined) opened.entry.bytesIn += replay.bytes.length;
    ctx.live.add(this);
    (res as ExchangeResponse)[kExchange] = this;
    res.on('close', resOnClose);
    this.#send();
  }

  get backendId(): string {
    return this.#opened.backend.id;
  }

  #send(): void {
    const { options } = this.#ctx;
    const req = this.#req;
    const backend = this.#opened.backend;
    const headers = editForwardHeaders(forwardRequestHeaders(req.rawHeaders, {
      clientAddress: this.#opened.entry.clientAddress,
      priorChain: this.#ctx.edge.forwardedChain(req),
      peerAddress: req.socket.remoteAddress ?? '',
      proto: this.#proto,
      xForwarded: options.xForwarded,
      forwarded: options.forwarded,
      upgrade: false,
      fallbackHost: requestHost(req),
    }), req, backend);
    const replay = this.#replay;
    const attempt = new Attempt(this);
    this.#attempt = attempt;
    this.#dispatchers.get(backend).dispatch(
      // undici destroys a stream body it has finished with, so it gets a wrapper, never the request itself.
      { path: forwardPath(req, backend), method: req.method ?? 'GET', headers: replay === undefined ? headers : withReplayHeaders(headers, replay), body: replay?.bytes ?? (this.#hasBody ? Readable.from(this.#countedBody(), { objectMode: false }) : null) },
      attempt,
    );
  }

  /** @internal */
  isCurrent(attempt: Attempt): boolean {
    return attempt === this.#attempt;
  }

  /** Keeps the current attempt's abort; false tells a stale attempt to abort itself. @internal */
  attemptConnected(attempt: Attempt, abort: (err?: Error) => void): boolean {
    if (attempt !== this.#attempt) return false;
    this.#abortUpstream = abort;
    return true;
  }

  #errorContext(): ErrorCtx {
    return entryContext(this.#opened.entry);
  }

  /** The request body as an async iterable that counts bytes and keeps undici's pull-based backpressure. */
  async *#countedBody(): AsyncGenerator<Buffer> {
    try {
      for await (const chunk of this.#req as AsyncIterable<Buffer>) {
        this.#opened.entry.bytesIn += chunk.length;
        yield chunk;
      }
    } catch (err) {
      this.#bodyError = err as Error;
      throw err;
    }
  }

  /** @internal */
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    // 1xx informational answers (103 Early Hints) are not relayed: Node's response API cannot send them in order.
    if (statusCode < 200) return true;
    this.#resumeUpstream = resume;
    this.#headersSent = true;
    this.#opened.entry.status = statusCode;
    const { backend, pick } = this.#opened;
    if (statusCode >= 500) this.#ctx.backendFailed(backend, 'status-5xx');
    else this.#ctx.backendSucceeded(backend);
    this.#ctx.observer.httpResponse(backend.id, statusCode, this.#opened.entry.openedAt);
    const { options, responsePolicy } = this.#ctx;
    const extra = options.strategy.responseHeaders?.(backend, pick);
    const raw: string[] = new Array<string>(rawHeaders.length);
    // latin1 keeps every byte of a header value as it came, whatever its encoding.
    for (let i = 0; i < rawHeaders.length; i++) raw[i] = rawHeaders[i]!.toString('latin1');
    const filtered = filterResponseHeaders(raw, responsePolicy, publicOriginOf(requestHost(this.#req), this.#proto), KEEP_NONE, extra);
    const headers = editResponseHead(filtered, statusCode, this.#req, backend, responsePolicy.hidden);
    if (!Array.isArray(headers)) {
      this.#headersSent = false;
      this.teardown(headers);
      return false;
    }
    this.#res.writeHead(statusCode, this.#http2 ? withoutConnectionHeaders(headers) : headers);
    return true;
  }

  /** @internal */
  onData(chunk: Buffer): boolean {
    this.#opened.entry.bytesOut += chunk.length;
    const res = this.#res;
    if (res.write(chunk)) return true;
    if (!this.#drainListened) {
      this.#drainListened = true;
      res.on('drain', resOnDrain);
    }
    return false;
  }

  /** @internal */
  onComplete(trailers: Buffer[] | null): void {
    const res = this.#res;
    if (trailers !== null && trailers.length > 0) {
      const raw: string[] = [];
      for (let i = 0; i < trailers.length; i++) raw.push(trailers[i]!.toString('latin1'));
      const kept = filterTrailers(raw, this.#ctx.responsePolicy, publicOriginOf(requestHost(this.#req), this.#proto));
      const pairs: [string, string][] = [];
      for (let i = 0; i < kept.length; i += 2) pairs.push([kept[i]!, kept[i + 1]!]);
      if (pairs.length > 0) res.addTrailers(this.#http2 ? trailerRecord(pairs) : pairs);
    }
    res.end();
  }

  /** @internal */
  resDrained(): void {
    // Node can emit 'drain' synchronously inside a write made from another undici parser's callback; resuming
    // there re-enters undici (its `currentParser === null` assertion fails an unrelated exchange). Resume once
    // the current parser has returned, and only if this exchange is still streaming.
    if (this.#resumeUpstream === undefined || this.#done) return;
    queueMicrotask(() => {
      if (!this.#done && this.#attempt !== undefined) this.#resumeUpstream?.();
    });
  }

  /** @internal */
  onError(err: Error & { code?: string }): void {
    const mapped = this.#bodyError === undefined ? mapUndiciError(err, this.#errorContext()) : mapBodyError(this.#bodyError, this.#errorContext());
    if (this.#headersSent) {
      // Mid-body: the client's response is cut (no hang); nothing can be retried.
      this.teardown(mapped);
      return;
    }
    const timedOut = err.code === 'UND_ERR_CONNECT_TIMEOUT';
    // Only failures the backend caused count against it: never the client's body, nor the proxy's own ports.
    const kind = passiveFailureOf(mapped.code);
    if (kind !== undefined) this.#ctx.backendFailed(this.#opened.backend, kind);
    // Only a request that can be sent again unchanged is retried: no body (it is consumed), idempotent method.
    const retryable = (RETRYABLE.has(mapped.code) || timedOut) && !this.#hasBody && IDEMPOTENT.has(this.#req.method ?? '');
    const tried = (this.#tried ??= new Set()).add(this.#opened.backend.id);
    if (retryable && tried.size <= this.#ctx.options.retries && !this.#ctx.isClosing()) {
      const next = this.#ctx.open(this.#req, 'http', tried);
      if ('entry' in next) {
        this.#ctx.observer.retry(this.#opened.backend.id, 'http');
        moveSlot(this.#opened.entry, next.entry);
        this.#ctx.finish(this.#opened.backend, this.#opened.entry, mapped);
        this.#opened = next;
        this.#abortUpstream = undefined;
        this.#send();
        return;
      }
    }
    this.teardown(mapped);
  }

  /** @internal */
  resClosed(): void {
    if (responseCompleted(this.#res, this.#http2)) this.#finish(undefined);
    else this.teardown(new ClientAbortedError('client went away before the response completed', this.#errorContext()));
  }

  close(): void {
    // In-flight requests are left to finish; close() and drain() abort them after their timeout.
  }

  abort(): void {
    this.teardown(new ProxyClosingError('proxy is shutting down', this.#errorContext()));
  }

  teardown(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    const abort = this.#abortUpstream;
    this.#abortUpstream = undefined;
    // No current attempt any more: undici answers the abort with onError, which is then ignored.
    this.#attempt = undefined;
    abort?.(reason ?? new ClientAbortedError('exchange ended', this.#errorContext()));
    if (reason !== undefined && reason.status !== 0 && !this.#res.headersSent && !this.#res.destroyed) this.#ctx.observer.httpResponse(this.#opened.backend.id, reason.status, undefined);
    if (reason !== undefined) sendHttpError(this.#res, reason, this.#ctx.options.retryAfter, this.#ctx.options.server);
    else this.#res.destroy();
    this.#finish(reason);
  }

  #finish(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#attempt = undefined;
    this.#resumeUpstream = undefined;
    this.#ctx.live.delete(this);
    this.#ctx.finish(this.#opened.backend, this.#opened.entry, reason);
    this.#turn.over();
  }
}

/**
 * One request waiting for its turn on its client connection (see {@link ClientConnectionQueue}).
 * @internal
 */
class QueuedRequest implements QueuedExchange {
  readonly #ctx: ProxyContext;
  readonly #dispatchers: BackendDispatchers;
  readonly #req: IncomingMessage;
  readonly #res: ServerResponse;
  readonly #queue: ClientConnectionQueue;
  /** The body an embedder handed over for a request its framework already read (`handleRequest`'s `body`). */
  readonly #body: unknown;
  #exchange: HttpExchange | undefined;

  constructor(ctx: ProxyContext, dispatchers: BackendDispatchers, req: IncomingMessage, res: ServerResponse, queue: ClientConnectionQueue, body: unknown) {
    this.#ctx = ctx;
    this.#dispatchers = dispatchers;
    this.#req = req;
    this.#res = res;
    this.#queue = queue;
    this.#body = body;
  }

  start(): void {
    this.#exchange = startRequest(this.#ctx, this.#dispatchers, this.#req, this.#res, this, this.#body);
    // A refused request is answered at once; Node keeps that small answer in order behind the ones before it.
    if (this.#exchange === undefined) this.over();
  }

  clientGone(): void {
    this.#exchange?.resClosed();
  }

  over(): void {
    this.#queue.done(this);
  }
}


/**
 * Handles one HTTP request: queued behind the requests before it on the same client connection, then picked,
 * forwarded through undici and answered. Never throws.
 * @internal
 */
export function handleHttpRequest(ctx: ProxyContext, dispatchers: BackendDispatchers, req: IncomingMessage, res: ServerResponse, body?: unknown): void {
  // HTTP/2 streams are independent requests, each its own queue of one; HTTP/1 requests queue per socket.
  const queue = ClientConnectionQueue.of(exchangeOwnerOf(req) as Socket);
  queue.push(new QueuedRequest(ctx, dispatchers, req, res, queue, body));
}

/** Checks, picks and starts the exchange of one request, or answers its refusal and returns undefined. */
function startRequest(ctx: ProxyContext, dispatchers: BackendDispatchers, req: IncomingMessage, res: ServerResponse, turn: QueuedRequest, body: unknown): HttpExchange | undefined {
  const clientAddress = clientKey(req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0);
  let refused: SwitchboardError | undefined;
  if (ctx.isClosing()) refused = new ProxyClosingError('proxy is closing', { clientAddress });
  else if (req.url === undefined || !req.url.startsWith('/')) refused = new BadRequestError('request target must be a path', { clientAddress });
  else refused = ctx.edge.check(req, 'http', clientAddress);
  // A WebSocket handshake without `Connection: upgrade` reaches us as a plain
  // request; forwarding it with Upgrade stripped would hand the backend a
  // confusing half-handshake.
  if (refused === undefined && req.headers.upgrade?.toLowerCase().includes('websocket')) {
    refused = new BadHandshakeError('Connection header does not contain upgrade', { clientAddress });
  }
  // Refused before a backend is picked: a body read by another handler is the embedder's doing, not the backend's.
  let replay: ReplayBody | undefined;
  if (refused === undefined) {
    const kept = consumedBodyOf(req as IncomingMessage & { body?: unknown }, body, { clientAddress });
    if (kept instanceof ConsumedBodyError) refused = kept;
    else replay = kept;
  }
  if (refused === undefined) {
    const opened = ctx.open(req, 'http');
    if ('entry' in opened) return new HttpExchange(ctx, dispatchers, req, res, opened, turn, replay);
    refused = opened;
  }
  ctx.reportError(refused);
  if (refused.status !== 0) ctx.observer.httpResponse(undefined, refused.status, undefined);
  sendHttpError(res, refused, ctx.options.retryAfter, ctx.options.server);
  return undefined;
}
