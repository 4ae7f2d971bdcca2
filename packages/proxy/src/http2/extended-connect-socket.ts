/**
 * An HTTP/2 stream carrying a WebSocket (RFC 8441), seen by the upgrade path as the client socket of an HTTP/1.1
 * upgrade, so validation, strategies, the connection table, frame tracking, limits, drain and shutdown are the ones
 * every WebSocket goes through.
 *
 * @remarks
 * The upgrade path writes an HTTP/1.1 answer head first; this socket turns it into the HTTP/2 answer: a 101 becomes
 * `:status 200` with the headers the backend negotiated (subprotocol, extensions, a sticky cookie), anything else
 * becomes that status with its body (a chunked one decoded into DATA). After the head, bytes are WebSocket frames,
 * passed through as they are, since RFC 8441 carries RFC 6455 frames unchanged in DATA frames. Backpressure holds
 * both ways: a `write()` returns false while the stream is over its high-water mark (the client is not reading, or
 * its flow-control window is closed), and the stream is paused while this socket's read buffer is full.
 * @internal
 */
import { constants, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import { Duplex } from 'node:stream';
import { bodyFraming, parseResponseHead, type ResponseHead } from '../websocket/backend-handshake';
import { ChunkedDecoder } from './extended-connect-body';

const { NGHTTP2_CANCEL, NGHTTP2_NO_ERROR } = constants;

/** Headers of an HTTP/1.1 answer that HTTP/2 forbids (RFC 9113 8.2.2) or that only make sense in HTTP/1.1's upgrade. */
const NOT_HTTP2 = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade', 'te', 'sec-websocket-accept']);

type State = 'head' | 'websocket' | 'body';

/** @internal */
export class ExtendedConnectSocket extends Duplex {
  /** Read by the upgrade path for `X-Forwarded-Proto`. */
  readonly encrypted: boolean;
  readonly #stream: ServerHttp2Stream;
  #state: State = 'head';
  #head: Buffer | undefined;
  #chunked: ChunkedDecoder | undefined;
  /** The client sent END_STREAM (its FIN). */
  #clientEnded = false;
  /** The callback of a write waiting for the stream's 'drain'. */
  #waiting: ((err?: Error | null) => void) | undefined;

  constructor(stream: ServerHttp2Stream) {
    super({ allowHalfOpen: true });
    this.#stream = stream;
    this.encrypted = stream.session?.encrypted === true;
    stream.on('data', this.#streamOnData);
    stream.on('end', this.#streamOnEnd);
    stream.on('error', this.#streamOnError);
    stream.on('close', this.#streamOnClose);
    stream.on('drain', this.#streamOnDrain);
  }

  /** The HTTP/2 stream id, for the connection table. */
  get streamId(): number {
    return this.#stream.id ?? 0;
  }

  /** The splice sets it on TCP sockets; a stream has no Nagle to turn off. */
  setNoDelay(): this {
    return this;
  }

  readonly #streamOnData = (chunk: Buffer): void => {
    if (!this.push(chunk)) this.#stream.pause();
  };

  readonly #streamOnEnd = (): void => {
    this.#clientEnded = true;
    this.push(null);
  };

  readonly #streamOnError = (err: Error): void => {
    this.destroy(err);
  };

  readonly #streamOnDrain = (): void => {
    const cb = this.#waiting;
    this.#waiting = undefined;
    cb?.();
  };

  readonly #streamOnClose = (): void => {
    if (this.destroyed) return;
    const code = this.#stream.rstCode ?? NGHTTP2_NO_ERROR;
    // A reset by the client is its TCP RST: the upgrade path reports a client reset and ends the backend side.
    if (code !== NGHTTP2_NO_ERROR || !this.#clientEnded) {
      this.destroy(Object.assign(new Error(`client reset the HTTP/2 stream (code ${code})`), { code: 'ERR_HTTP2_STREAM_RESET' }));
    } else {
      this.destroy();
    }
  };

  override _read(): void {
    if (this.#stream.isPaused()) this.#stream.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#state === 'head') {
      this.#readHead(chunk, cb);
      return;
    }
    this.#send(chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    const stream = this.#stream;
    if (this.#state === 'head' || stream.destroyed || stream.writableEnded) {
      cb();
      return;
    }
    stream.end(() => cb());
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const stream = this.#stream;
    this.#waiting = undefined;
    stream.removeListener('data', this.#streamOnData);
    if (!stream.destroyed) {
      // After a complete answer, NO_ERROR only tells the client to stop sending (RFC 9113 8.1); else the stream is cut.
      stream.close(stream.writableFinished ? NGHTTP2_NO_ERROR : NGHTTP2_CANCEL);
    }
    cb(err);
  }

  /** Collects the HTTP/1.1 answer head the upgrade path writes, then answers the stream with it. */
  #readHead(chunk: Buffer, cb: (err?: Error | null) => void): void {
    const buf = this.#head === undefined ? chunk : Buffer.concat([this.#head, chunk]);
    const head = parseResponseHead(buf);
    if (head === undefined) {
      this.#head = buf;
      cb();
      return;
    }
    this.#head = undefined;
    if (typeof head === 'string') {
      cb(new Error(`invalid answer head for an HTTP/2 stream (${head})`));
      return;
    }
    const fault = this.#respond(head);
    if (fault !== undefined) {
      cb(fault);
      return;
    }
    const rest = buf.subarray(head.bodyStart);
    if (rest.length > 0) this.#send(rest, cb);
    else cb();
  }

  #respond(head: ResponseHead): Error | undefined {
    const headers: OutgoingHttpHeaders = { ':status': head.status === 101 ? 200 : head.status };
    for (let i = 0; i < head.rawHeaders.length; i += 2) {
      const name = head.rawHeaders[i]!.toLowerCase();
      if (NOT_HTTP2.has(name)) continue;
      const value = head.rawHeaders[i + 1]!;
      const prior = headers[name];
      headers[name] = prior === undefined ? value : Array.isArray(prior) ? [...prior, value] : [String(prior), value];
    }
    if (head.status === 101) {
      this.#state = 'websocket';
    } else {
      this.#state = 'body';
      const framing = bodyFraming(head.status, head.rawHeaders);
      if (typeof framing !== 'string' && framing.kind === 'chunked') this.#chunked = new ChunkedDecoder();
    }
    try {
      this.#stream.respond(headers);
      return undefined;
    } catch (err) {
      return err as Error;
    }
  }

  /** Writes to the stream; the write completes at once, or on 'drain' when the stream is over its high-water mark. */
  #send(chunk: Buffer, cb: (err?: Error | null) => void): void {
    const stream = this.#stream;
    if (stream.destroyed || stream.writableEnded) {
      cb();
      return;
    }
    let data = [chunk];
    if (this.#chunked !== undefined) {
      if (this.#chunked.done) {
        cb();
        return;
      }
      data = this.#chunked.push(chunk);
      if (this.#chunked.failed) {
        cb(new Error('invalid chunked body in a refusal'));
        return;
      }
    }
    let ok = true;
    for (const part of data) if (part.length > 0) ok = stream.write(part) && ok;
    if (ok) cb();
    else this.#waiting = cb;
  }
}
