import { STATUS_CODES, type IncomingMessage } from 'node:http';
import { connect as netConnect, Socket } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import type { Duplex } from 'node:stream';
import { clientKey, entryContext } from '../connection-table';
import { moveSlot, type LiveConnection, type Opened, type ProxyContext } from '../context';
import { sendRawError } from '../http/error-response';
import {
  BackendConnectError,
  BackendProtocolError,
  BackendResetError,
  BackendTimeoutError,
  BadHandshakeError,
  ClientAbortedError,
  ClientResetError,
  HandshakeTimeoutError,
  ProxyClosingError,
  SourceExhaustedError,
  UnsupportedWebSocketVersionError,
  type SwitchboardError,
} from '../errors';
import { filterResponseHeaders, filterTrailerBlock, forwardRequestHeaders, KEEP_FOR_RAW_BODY, KEEP_FOR_UPGRADE, publicOriginOf, requestHost } from '../http/header-policy';
import { isSourceExhausted } from '../backends/source-addresses';
import { tlsOptions } from '../backends/backend-tls';
import { BackendReader } from './read-buffer';
import { Splice, type SpliceOwner } from './splice';
import { spliceNatively } from './native-handover';
import { bodyFraming, isInterim, parseResponseHead, RefusalBody, serializeRequest, type ResponseHead } from './backend-handshake';
import { passiveFailureOf } from '../backends/outlier-detector';
import { checkUpgradeAnswer, upgradeOffer, type UpgradeOffer } from './upgrade-answer';
import { editForwardHeaders, forwardPath } from '../routing/forward-plan';


/** One try at a backend: its socket, timer, the answer's head so far, and a refusal being relayed. */
interface Attempt {
  readonly socket: Socket;
  /** The socket's own read buffer (plain backends toward a net.Socket client), else its reads come as 'data'. */
  readonly reader: BackendReader | undefined;
  timer: NodeJS.Timeout | undefined;
  /** What the handshake offered; the 101 must answer it. */
  readonly offer: UpgradeOffer;
  head: Buffer | undefined;
  /** Interim (1xx) answers skipped so far. */
  interim: number;
  /** The refusal whose body is being relayed. */
  refusal: RefusalBody | undefined;
}

const WS_KEY = /^[+/0-9A-Za-z]{22}==$/;

/** Most bytes a client may send between its handshake and the backend's 101. */
const MAX_EARLY_BYTES = 64 * 1024;

/** Most interim (1xx) answers skipped before the final one; more is a protocol error, not a reason to keep parsing. */
const MAX_INTERIM_ANSWERS = 8;

/**
 * Checks an upgrade request against RFC 6455 section 4.2.1.
 * @internal
 */
export function validateHandshake(req: IncomingMessage, clientAddress: string): SwitchboardError | undefined {
  const h = req.headers;
  const ctx = { clientAddress };
  if (req.method !== 'GET') return new BadHandshakeError(`upgrade with method ${req.method ?? ''}`, ctx);
  if (h.upgrade?.toLowerCase() !== 'websocket') return new BadHandshakeError('Upgrade header is not websocket', ctx);
  if (!(h.connection ?? '').split(',').some((t) => t.trim().toLowerCase() === 'upgrade')) {
    return new BadHandshakeError('Connection header does not contain upgrade', ctx);
  }
  const key = h['sec-websocket-key'];
  if (key === undefined || !WS_KEY.test(key.trim())) return new BadHandshakeError('invalid Sec-WebSocket-Key', ctx);
  if (h['sec-websocket-version'] !== '13') {
    return new UnsupportedWebSocketVersionError(`unsupported Sec-WebSocket-Version: ${h['sec-websocket-version'] ?? 'none'}`, ctx);
  }
  if (req.url === undefined || !req.url.startsWith('/')) return new BadHandshakeError('request target must be a path', ctx);
  return undefined;
}

function mapBackendError(err: NodeJS.ErrnoException, ctx: { backendId: string; clientAddress: string; connectionId: number }): SwitchboardError {
  const code = err.code ?? '';
  if (code.startsWith('HPE_')) return new BackendProtocolError(`backend sent an invalid response (${code})`, { cause: err, ...ctx });
  if (code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up') {
    return new BackendResetError(`backend closed the connection during the handshake (${code || err.message})`, { cause: err, ...ctx });
  }
  return new BackendConnectError(`backend connection failed (${code || err.message})`, { cause: err, ...ctx });
}

/**
 * One WebSocket through the proxy: backend connect (retried on other backends
 * while nothing has been answered), handshake relay, then a {@link Splice}.
 * @internal
 */
class WebSocketTunnel implements LiveConnection {
  readonly protocol = 'websocket' as const;
  readonly #ctx: ProxyContext;
  readonly #client: Duplex;
  readonly #req: IncomingMessage;
  readonly #head: Buffer;
  #opened: Opened;
  /** Backends already tried for this upgrade. */
  readonly #tried = new Set<string>();
  /** The current backend attempt; its listeners ignore events once it is replaced. */
  #attempt: Attempt | undefined;
  /** Set once the handshake is over: refused, failed, or handed to a {@link SplicedWebSocket}. */
  #done = false;
  /** Source addresses found out of ports for this upgrade. */
  #exhausted = 0;
  /** Bytes the client sent after the handshake, before the backend's 101. */
  #early: Buffer[] = [];
  #earlyBytes = 0;
  /**
   * A response head (a refusal) has gone to the client: from here an error can only cut the connection, since
   * an error head of the proxy's own would land inside the body being relayed.
   */
  #answered = false;
  /** Bounds the wait for a refused client to take the end of its answer. */
  #flushTimer: NodeJS.Timeout | undefined;

  constructor(ctx: ProxyContext, req: IncomingMessage, client: Duplex, head: Buffer, opened: Opened) {
    this.#ctx = ctx;
    this.#req = req;
    this.#client = client;
    this.#head = head;
    this.#opened = opened;
    ctx.live.add(this);
    client.on('error', this.#clientOnError);
    client.on('close', this.#clientOnClose);
    // Keep reading while the backend answers: a paused socket would never
    // notice the client leaving, and its early frames are kept for the backend.
    client.on('data', this.#clientOnEarlyData);
    client.on('end', this.#clientOnClose);
    this.#connect();
  }

  get backendId(): string {
    return this.#opened.backend.id;
  }

  #errorContext(): { backendId: string; clientAddress: string; connectionId: number } {
    return entryContext(this.#opened.entry);
  }

  #connect(): void {
    const { options } = this.#ctx;
    const b = this.#opened.backend;
    this.#tried.add(b.id);
    const localAddress = this.#ctx.sources.next();
    // A plain backend socket reads into a buffer of ours, reused while no write
    // holds on to it (read-buffer.ts). Only toward a net.Socket client: other
    // Duplex streams may keep a written chunk after their write completes.
    const reader =
      !b.secure && this.#client instanceof Socket
        ? new BackendReader(this.#client, {
            backendRead: (chunk) => {
              if (current()) this.#backendBytes(attempt, chunk);
            },
          })
        : undefined;
    const tcp = netConnect({
      host: b.host,
      port: b.port,
      localAddress,
      allowHalfOpen: !b.secure,
      ...(reader !== undefined && { onread: reader.onread }),
    });
    const socket = b.secure ? tlsConnect({ ...tlsOptions(options.backendTls, b.host), socket: tcp, ALPNProtocols: ['http/1.1'] }) : tcp;
    const headers = editForwardHeaders(forwardRequestHeaders(this.#req.rawHeaders, {
      clientAddress: this.#opened.entry.clientAddress,
      priorChain: this.#ctx.edge.forwardedChain(this.#req),
      peerAddress: this.#req.socket.remoteAddress ?? '',
      proto: isEncrypted(this.#client) ? 'https' : 'http',
      xForwarded: options.xForwarded,
      forwarded: options.forwarded,
      upgrade: true,
      fallbackHost: requestHost(this.#req),
    }), this.#req, b);
    const attempt: Attempt = { socket, reader, timer: undefined, offer: upgradeOffer(headers), head: undefined, interim: 0, refusal: undefined };
    this.#attempt = attempt;
    const current = (): boolean => this.#attempt === attempt && !this.#done;
    const fail = (err: SwitchboardError): void => {
      if (!current()) return;
      // Once a refusal is being relayed the client has bytes: no retry, just end.
      if (attempt.refusal !== undefined) this.teardown(err);
      else this.#attemptFailed(err);
    };
    const onSocketError = (err: NodeJS.ErrnoException): void => {
      if (!current()) return;
      if (localAddress !== undefined && isSourceExhausted(err)) this.#sourceExhausted(err);
      else fail(mapBackendError(err, this.#errorContext()));
    };
    socket.on('error', onSocketError);
    if (tcp !== socket) tcp.on('error', onSocketError);
    if (reader === undefined) {
      socket.on('data', (chunk: Buffer) => {
        if (current()) this.#backendBytes(attempt, chunk);
      });
    }
    socket.on('end', () => {
      if (!current()) return;
      // Only a body delimited by the close ends here; a shorter one than announced is cut, not passed off as whole.
      if (attempt.refusal?.framing.kind === 'close') this.#refusalDone(attempt);
      else if (attempt.refusal !== undefined) fail(new BackendResetError('backend closed the connection before the end of its answer', this.#errorContext()));
      else fail(new BackendResetError('backend closed the connection during the handshake', this.#errorContext()));
    });
    attempt.timer = setTimeout(() => fail(new BackendTimeoutError('backend did not accept the connection in time', this.#errorContext())), options.connectTimeout);
    socket.once(b.secure ? 'secureConnect' : 'connect', () => {
      if (!current()) return;
      clearTimeout(attempt.timer);
      attempt.timer = setTimeout(() => fail(new HandshakeTimeoutError('backend did not answer the WebSocket handshake in time', this.#errorContext())), options.handshakeTimeout);
      socket.write(serializeRequest(forwardPath(this.#req, b), headers));
    });
  }

  /** Backend bytes before the 101: the answer's head, then (for a refusal) its body. */
  #backendBytes(attempt: Attempt, chunk: Buffer): void {
    if (attempt.refusal !== undefined) {
      this.#relayRefusal(attempt, chunk);
      return;
    }
    let buf = attempt.head === undefined ? chunk : Buffer.concat([attempt.head, chunk]);
    for (;;) {
      const head = parseResponseHead(buf);
      if (head === undefined) {
        attempt.head = buf.length > 0 ? buf : undefined;
        return;
      }
      attempt.head = undefined;
      if (typeof head === 'string') {
        this.#attemptFailed(new BackendProtocolError(`backend sent an invalid response (${head})`, this.#errorContext()));
        return;
      }
      buf = buf.subarray(head.bodyStart);
      if (!isInterim(head.status)) {
        if (head.status === 101) this.#backendOnSwitch(attempt, head, buf);
        else this.#backendOnResponse(attempt, head, buf);
        return;
      }
      // 100 Continue, 103 Early Hints...: not the answer. Skipped, not relayed; the final answer decides.
      if (++attempt.interim > MAX_INTERIM_ANSWERS) {
        this.#attemptFailed(new BackendProtocolError('backend sent too many interim (1xx) answers', this.#errorContext()));
        return;
      }
    }
  }

  /** A 101: spliced only when it proves the backend is a WebSocket server answering this handshake. */
  #backendOnSwitch(attempt: Attempt, head: ResponseHead, rest: Buffer): void {
    const fault = checkUpgradeAnswer(head.rawHeaders, attempt.offer);
    if (fault === undefined) this.#backendOnUpgrade(head, attempt.socket, rest);
    else this.#attemptFailed(new BackendProtocolError(`backend sent an invalid upgrade answer (${fault})`, this.#errorContext()));
  }

  /** That source address has no port left toward this backend: try the next one, then give up with 503. */
  #sourceExhausted(err: NodeJS.ErrnoException): void {
    this.#exhausted++;
    if (this.#exhausted >= this.#ctx.sources.size) {
      this.teardown(new SourceExhaustedError('every source address is out of ports toward the backend', { cause: err, ...this.#errorContext() }));
      return;
    }
    this.#dropAttempt();
    this.#connect();
  }

  /** Drops the current attempt's sockets and timer. */
  #dropAttempt(): void {
    const attempt = this.#attempt;
    if (attempt === undefined) return;
    this.#attempt = undefined;
    clearTimeout(attempt.timer);
    attempt.socket.destroy();
  }

  /**
   * Nothing reached the client yet and the upgrade carries no body, so another
   * backend may take it: retry while the budget allows, else refuse once.
   */
  #attemptFailed(err: SwitchboardError): void {
    // The same table as the HTTP path: a bad 101 is a protocol failure, a reset a reset.
    const kind = passiveFailureOf(err.code);
    if (kind !== undefined) this.#ctx.backendFailed(this.#opened.backend, kind);
    if (this.#tried.size > this.#ctx.options.retries || this.#ctx.isClosing()) {
      this.teardown(err);
      return;
    }
    const next = this.#ctx.open(this.#req, 'websocket', this.#tried);
    if (!('entry' in next)) {
      this.teardown(err);
      return;
    }
    this.#dropAttempt();
    this.#ctx.observer.retry(this.#opened.backend.id, 'websocket');
    moveSlot(this.#opened.entry, next.entry);
    this.#ctx.finish(this.#opened.backend, this.#opened.entry, err);
    this.#opened = next;
    this.#connect();
  }

  readonly #clientOnEarlyData = (chunk: Buffer): void => {
    this.#earlyBytes += chunk.length;
    if (this.#earlyBytes > MAX_EARLY_BYTES) {
      this.teardown(new BadHandshakeError('client sent too much data before the handshake completed', this.#errorContext()));
      return;
    }
    this.#early.push(chunk);
  };

  readonly #clientOnError = (err: NodeJS.ErrnoException): void => {
    this.teardown(new ClientResetError(`client socket error during the handshake: ${err.code ?? err.message}`, { cause: err, ...this.#errorContext() }));
  };

  readonly #clientOnClose = (): void => {
    this.teardown(new ClientAbortedError('client closed the connection during the handshake', this.#errorContext()));
  };

  #publicOrigin(): string | undefined {
    return publicOriginOf(requestHost(this.#req), isEncrypted(this.#client) ? 'https' : 'http');
  }

  #backendOnUpgrade(res: ResponseHead, upstream: Socket, upstreamHead: Buffer): void {
    const attempt = this.#attempt;
    if (attempt !== undefined) clearTimeout(attempt.timer);
    this.#attempt = undefined;
    const client = this.#client;
    client.removeListener('error', this.#clientOnError);
    client.removeListener('close', this.#clientOnClose);
    client.removeListener('end', this.#clientOnClose);
    client.removeListener('data', this.#clientOnEarlyData);
    // The handshake's listeners go; the splice attaches its own.
    upstream.removeAllListeners('error');
    upstream.removeAllListeners('data');
    upstream.removeAllListeners('end');
    const { backend, entry, pick } = this.#opened;
    this.#ctx.backendSucceeded(backend);
    this.#ctx.observer.handshake(backend.id, entry.openedAt);
    const extra = this.#ctx.options.strategy.responseHeaders?.(backend, pick);
    const headers = filterResponseHeaders(res.rawHeaders, this.#ctx.responsePolicy, this.#publicOrigin(), KEEP_FOR_UPGRADE, extra);
    let head = 'HTTP/1.1 101 Switching Protocols\r\n';
    for (let i = 0; i < headers.length; i += 2) head += `${headers[i]}: ${headers[i + 1]}\r\n`;
    head += '\r\n';
    const early = this.#head.length > 0 ? [this.#head, ...this.#early] : this.#early;
    this.#early = [];
    // The handshake is over: from here the connection is a lean SplicedWebSocket,
    // and this tunnel (request, headers, retry state, closures) can be collected.
    this.#done = true;
    this.#ctx.live.delete(this);
    if (spliceNatively(this.#ctx, backend, entry, client, upstream, head, upstreamHead, early)) return;
    client.write(head);
    const live = new SplicedWebSocket(this.#ctx, backend, entry);
    const splice = new Splice(client as Socket, upstream, entry, this.#ctx.options, live);
    live.splice = splice;
    this.#ctx.live.add(live);
    attempt?.reader?.relayTo(splice);
    splice.start(upstreamHead, early);
  }

  /** The backend refused the upgrade: relay its answer as a plain HTTP response, then close. */
  #backendOnResponse(attempt: Attempt, res: ResponseHead, rest: Buffer): void {
    const framing = bodyFraming(res.status, res.rawHeaders);
    if (typeof framing === 'string') {
      this.#attemptFailed(new BackendProtocolError(`backend sent an invalid response (${framing})`, this.#errorContext()));
      return;
    }
    const status = res.status;
    if (status >= 500) this.#ctx.backendFailed(this.#opened.backend, 'status-5xx');
    // The body is relayed as it came, so its framing header stays; the other hop-by-hop ones go.
    const kept = filterResponseHeaders(res.rawHeaders, this.#ctx.responsePolicy, this.#publicOrigin(), KEEP_FOR_RAW_BODY);
    let head = `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Unknown'}\r\nConnection: close\r\n`;
    for (let i = 0; i < kept.length; i += 2) head += `${kept[i]}: ${kept[i + 1]}\r\n`;
    this.#client.write(`${head}\r\n`);
    this.#answered = true;
    // The body goes to the client no faster than it reads: the backend waits while the client's buffer is full.
    this.#client.on('drain', this.#clientOnDrain);
    const origin = this.#publicOrigin();
    attempt.refusal = new RefusalBody(framing, (block) => filterTrailerBlock(block, this.#ctx.responsePolicy, origin));
    if (attempt.refusal.complete) this.#refusalDone(attempt);
    else if (rest.length > 0) this.#relayRefusal(attempt, rest);
  }

  /** Relays refusal body bytes until the body ends by its framing (or the backend closes). */
  #relayRefusal(attempt: Attempt, chunk: Buffer): void {
    const body = attempt.refusal!;
    const out = body.relay(chunk);
    if (out === null) {
      this.teardown(new BackendProtocolError('backend sent an invalid chunked body', this.#errorContext()));
      return;
    }
    this.#opened.entry.bytesOut += out.length;
    if (out.length > 0 && !this.#client.write(out)) attempt.socket.pause();
    if (body.complete) this.#refusalDone(attempt);
  }

  readonly #clientOnDrain = (): void => {
    this.#attempt?.socket.resume();
  };

  /** The refusal is complete: end the client's connection once it is flushed. */
  #refusalDone(attempt: Attempt): void {
    if (this.#attempt !== attempt) return;
    this.#attempt = undefined;
    clearTimeout(attempt.timer);
    attempt.socket.destroy();
    const client = this.#client;
    client.removeListener('close', this.#clientOnClose);
    client.removeListener('end', this.#clientOnClose);
    client.removeListener('drain', this.#clientOnDrain);
    // A client that never reads the end of its answer does not hold the connection for good.
    this.#flushTimer = setTimeout(() => {
      this.teardown(new HandshakeTimeoutError('client did not read the refused upgrade\'s answer in time', this.#errorContext()));
    }, this.#ctx.options.handshakeTimeout);
    client.once('close', () => this.teardown(undefined));
    client.end(() => this.teardown(undefined));
  }

  /** Before the 101 there is no frame stream to close: the client is refused with `report`'s status. */
  close(_code: number, _text: string, _timeout: number, report: SwitchboardError): void {
    this.teardown(report);
  }

  abort(): void {
    this.teardown(new ProxyClosingError('proxy is shutting down', this.#errorContext()));
  }

  /** Ends the tunnel once; before the 101 the client gets the error's HTTP status. */
  teardown(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    this.#dropAttempt();
    clearTimeout(this.#flushTimer);
    if (reason !== undefined && reason.status !== 0 && !this.#answered) {
      sendRawError(this.#client, reason, this.#ctx.options.retryAfter, this.#ctx.options.server);
    } else {
      this.#client.destroy();
    }
    this.#finish(reason);
  }

  #finish(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    this.#done = true;
    this.#ctx.live.delete(this);
    this.#ctx.finish(this.#opened.backend, this.#opened.entry, reason);
  }
}



/**
 * A WebSocket after its 101: the splice and what the proxy needs to end it and
 * account for it. Deliberately small: it is what an idle connection keeps.
 * @internal
 */
class SplicedWebSocket implements LiveConnection, SpliceOwner {
  readonly #ctx: ProxyContext;
  readonly #backend: Opened['backend'];
  readonly #entry: Opened['entry'];
  splice!: Splice;

  constructor(ctx: ProxyContext, backend: Opened['backend'], entry: Opened['entry']) {
    this.#ctx = ctx;
    this.#backend = backend;
    this.#entry = entry;
  }

  get protocol(): 'websocket' {
    return 'websocket';
  }

  get backendId(): string {
    return this.#entry.backendId;
  }

  close(code: number, text: string, timeout: number, report: SwitchboardError): void {
    this.splice.requestClose(code, text, timeout, report);
  }

  abort(): void {
    this.splice.teardown(new ProxyClosingError('proxy is shutting down', entryContext(this.#entry)));
  }

  teardown(reason: SwitchboardError | undefined): void {
    this.splice.teardown(reason);
  }

  spliceDone(reason: SwitchboardError | undefined): void {
    this.#ctx.live.delete(this);
    this.#ctx.finish(this.#backend, this.#entry, reason);
  }
}

function isEncrypted(socket: Duplex): boolean {
  return (socket as Socket & { encrypted?: boolean }).encrypted === true;
}

/**
 * Handles one upgrade request: validate, pick, tunnel. Never throws.
 * @internal
 */
export function handleUpgrade(ctx: ProxyContext, req: IncomingMessage, socket: Duplex, head: Buffer): void {
  // Own the socket's errors from the first moment: an error before a listener
  // exists would crash the process.
  socket.on('error', noop);
  const { options } = ctx;
  const reject = (err: SwitchboardError): void => {
    ctx.reportError(err);
    sendRawError(socket, err, options.retryAfter, options.server);
  };
  const clientAddress = clientKey(req.socket.remoteAddress ?? '', req.socket.remotePort ?? 0);
  if (ctx.isClosing()) return reject(new ProxyClosingError('proxy is closing', { clientAddress }));
  const refused = validateHandshake(req, clientAddress) ?? ctx.edge.check(req, 'websocket', clientAddress);
  if (refused !== undefined) return reject(refused);
  const opened = ctx.open(req, 'websocket');
  if (!('entry' in opened)) return reject(opened);
  new WebSocketTunnel(ctx, req, socket, head, opened);
}

function noop(): void {}
