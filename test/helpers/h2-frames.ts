/**
 * A tiny HTTP/2 client that writes frames by hand, for the hostile frames Node's own client will not send (rapid
 * resets, PING and SETTINGS floods, endless CONTINUATION, more streams than the server allows). It speaks TLS with
 * ALPN h2, sends the preface, acknowledges the server's SETTINGS, and records every frame it reads.
 *
 * Header blocks use only HPACK literals without indexing and static-table references, so no dynamic table state is
 * kept on either side and any block can be cut into CONTINUATION frames at any byte.
 */
import { connect, type TLSSocket } from 'node:tls';

export const FRAME = { DATA: 0, HEADERS: 1, PRIORITY: 2, RST_STREAM: 3, SETTINGS: 4, PUSH_PROMISE: 5, PING: 6, GOAWAY: 7, WINDOW_UPDATE: 8, CONTINUATION: 9 } as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
/** RFC 9113 section 7 error codes the tests look for. */
export const H2_ERROR = { NO_ERROR: 0, PROTOCOL_ERROR: 1, INTERNAL_ERROR: 2, REFUSED_STREAM: 7, CANCEL: 8, ENHANCE_YOUR_CALM: 11 } as const;
/** RFC 9113 section 6.5.2 setting identifiers. */
export const SETTING = { HEADER_TABLE_SIZE: 1, ENABLE_PUSH: 2, MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_FRAME_SIZE: 5, MAX_HEADER_LIST_SIZE: 6, ENABLE_CONNECT_PROTOCOL: 8 } as const;

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');

export interface Frame {
  readonly type: number;
  readonly flags: number;
  readonly stream: number;
  readonly payload: Buffer;
}

export function encodeFrame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

/** HPACK integer with an `prefix`-bit prefix (RFC 7541 section 5.1); `first` holds the pattern bits above it. */
function hpackInt(value: number, prefix: number, first: number): Buffer {
  const max = (1 << prefix) - 1;
  if (value < max) return Buffer.from([first | value]);
  const out = [first | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return Buffer.from(out);
}

function hpackString(s: string): Buffer {
  const bytes = Buffer.from(s, 'latin1');
  return Buffer.concat([hpackInt(bytes.length, 7, 0), bytes]);
}

/** One header field as a literal without indexing with a literal name (RFC 7541 section 6.2.2). */
export function hpackLiteral(name: string, value: string): Buffer {
  return Buffer.concat([Buffer.from([0x00]), hpackString(name), hpackString(value)]);
}

/** A request header block: pseudo-headers first, then `headers` in order. */
export function requestBlock(request: { method?: string; path?: string; authority?: string; scheme?: string; headers?: readonly [string, string][] }): Buffer {
  const parts: Buffer[] = [
    hpackLiteral(':method', request.method ?? 'GET'),
    hpackLiteral(':scheme', request.scheme ?? 'https'),
    hpackLiteral(':path', request.path ?? '/'),
  ];
  if (request.authority !== undefined) parts.push(hpackLiteral(':authority', request.authority));
  for (const [n, v] of request.headers ?? []) parts.push(hpackLiteral(n, v));
  return Buffer.concat(parts);
}

export function settingsPayload(settings: readonly [number, number][]): Buffer {
  const out = Buffer.alloc(settings.length * 6);
  settings.forEach(([id, value], i) => {
    out.writeUInt16BE(id, i * 6);
    out.writeUInt32BE(value, i * 6 + 2);
  });
  return out;
}

export function rstStream(stream: number, code: number = H2_ERROR.CANCEL): Buffer {
  const payload = Buffer.alloc(4);
  payload.writeUInt32BE(code, 0);
  return encodeFrame(FRAME.RST_STREAM, 0, stream, payload);
}

export function headersFrame(stream: number, block: Buffer, flags: number = FLAG.END_HEADERS | FLAG.END_STREAM): Buffer {
  return encodeFrame(FRAME.HEADERS, flags, stream, block);
}

/** A header block of any size as HEADERS plus CONTINUATION frames of at most 16 KiB (the default SETTINGS_MAX_FRAME_SIZE). */
export function headerFrames(stream: number, block: Buffer, endStream = true): Buffer {
  const max = 16_384;
  const parts: Buffer[] = [];
  for (let at = 0; at < block.length || at === 0; at += max) {
    const piece = block.subarray(at, at + max);
    const last = at + max >= block.length;
    const flags = (last ? FLAG.END_HEADERS : 0) | (at === 0 && endStream ? FLAG.END_STREAM : 0);
    parts.push(encodeFrame(at === 0 ? FRAME.HEADERS : FRAME.CONTINUATION, flags, stream, piece));
  }
  return Buffer.concat(parts);
}

export function pingFrame(data = Buffer.alloc(8)): Buffer {
  return encodeFrame(FRAME.PING, 0, 0, data);
}

/** The parsed GOAWAY: last stream id and error code. */
export function goawayOf(frame: Frame): { lastStream: number; code: number } {
  return { lastStream: frame.payload.readUInt32BE(0) & 0x7fffffff, code: frame.payload.readUInt32BE(4) };
}

/** The SETTINGS values of a (non-ACK) SETTINGS frame. */
export function settingsOf(frame: Frame): Map<number, number> {
  const out = new Map<number, number>();
  for (let i = 0; i + 6 <= frame.payload.length; i += 6) out.set(frame.payload.readUInt16BE(i), frame.payload.readUInt32BE(i + 2));
  return out;
}

/**
 * A raw HTTP/2 connection: `send()` writes bytes, `frames` holds what the server sent, `closed` resolves when the
 * socket is gone. The server's SETTINGS are acknowledged as they arrive, as a real client does (unless
 * `ackSettings: false`: the server's limits then stay pending).
 */
export class RawH2 {
  readonly socket: TLSSocket;
  readonly frames: Frame[] = [];
  readonly closed: Promise<void>;
  /** Bytes written so far. */
  written = 0;
  #buffer: Buffer = Buffer.alloc(0);
  #waiters: (() => void)[] = [];

  readonly #ackSettings: boolean;

  private constructor(socket: TLSSocket, ackSettings: boolean) {
    this.socket = socket;
    this.#ackSettings = ackSettings;
    socket.on('error', () => undefined);
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
    socket.on('data', (chunk: Buffer) => this.#read(chunk));
    socket.on('close', () => this.#wake());
  }

  /** Connects with ALPN h2 and writes the preface and an empty (or the given) SETTINGS frame. */
  static async open(port: number, ca: string, settings: readonly [number, number][] = [], options: { ackSettings?: boolean } = {}): Promise<RawH2> {
    const socket = connect({ host: '127.0.0.1', port, ca, servername: 'localhost', ALPNProtocols: ['h2'] });
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', () => resolve());
      socket.once('error', reject);
    });
    if (socket.alpnProtocol !== 'h2') throw new Error(`server chose ALPN ${String(socket.alpnProtocol)}, not h2`);
    const h2 = new RawH2(socket, options.ackSettings ?? true);
    h2.send(Buffer.concat([PREFACE, encodeFrame(FRAME.SETTINGS, 0, 0, settingsPayload(settings))]));
    return h2;
  }

  /** Writes bytes; false once the socket is gone (an attack loop stops there). */
  send(bytes: Buffer): boolean {
    if (this.socket.destroyed || !this.socket.writable) return false;
    this.written += bytes.length;
    this.socket.write(bytes);
    return true;
  }

  /** Resolves once the socket's buffered writes have drained (or it closed). */
  async flushed(): Promise<void> {
    if (this.socket.destroyed || this.socket.writableLength === 0) return;
    await new Promise<void>((resolve) => {
      const done = (): void => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** The first frame that matches, waiting up to `timeout` ms; undefined if none came (or the socket closed). */
  async waitFor(match: (f: Frame) => boolean, timeout = 5000): Promise<Frame | undefined> {
    const deadline = Date.now() + timeout;
    for (;;) {
      const found = this.frames.find(match);
      if (found !== undefined) return found;
      if (this.socket.destroyed || Date.now() >= deadline) return undefined;
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, deadline - Date.now());
        this.#waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** The GOAWAY the server sent, if any, within `timeout` ms. */
  async goaway(timeout = 5000): Promise<{ lastStream: number; code: number } | undefined> {
    const f = await this.waitFor((x) => x.type === FRAME.GOAWAY, timeout);
    return f === undefined ? undefined : goawayOf(f);
  }

  close(): void {
    this.socket.destroy();
  }

  #read(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    while (this.#buffer.length >= 9) {
      const length = this.#buffer.readUIntBE(0, 3);
      if (this.#buffer.length < 9 + length) break;
      const frame: Frame = { type: this.#buffer[3]!, flags: this.#buffer[4]!, stream: this.#buffer.readUInt32BE(5) & 0x7fffffff, payload: this.#buffer.subarray(9, 9 + length) };
      this.#buffer = this.#buffer.subarray(9 + length);
      // DATA payloads are not kept: a test may read megabytes; their length is.
      this.frames.push(frame.type === FRAME.DATA ? { ...frame, payload: Buffer.alloc(0) } : { ...frame, payload: Buffer.from(frame.payload) });
      if (this.#ackSettings && frame.type === FRAME.SETTINGS && (frame.flags & FLAG.ACK) === 0) this.send(encodeFrame(FRAME.SETTINGS, FLAG.ACK, 0));
    }
    this.#wake();
  }

  #wake(): void {
    const waiters = this.#waiters;
    this.#waiters = [];
    for (const w of waiters) w();
  }
}
