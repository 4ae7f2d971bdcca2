/**
 * The backend half of a WebSocket handshake, written and read by hand.
 *
 * @remarks
 * Node's HTTP client would do it, but per upgrade it builds a ClientRequest,
 * an IncomingMessage and a parser, and the request object stays reachable
 * from the socket for the WebSocket's whole life. The proxy only needs to send
 * one GET and read one response head, bounded in size.
 * @internal
 */

/** Largest response head accepted from a backend, like Node's maxHeaderSize. */
export const MAX_RESPONSE_HEAD = 16 * 1024;

const HEAD_END = Buffer.from('\r\n\r\n');
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: [^\r\n]*)?$/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const BAD_VALUE = /[\0-\x08\x0a-\x1f\x7f]/;
const MIN_STATUS = 100;
const MAX_STATUS = 599;

/** A parsed response head. */
export interface ResponseHead {
  readonly status: number;
  /** Flat `[name, value, ...]`, as Node's rawHeaders. */
  readonly rawHeaders: string[];
  /** Offset of the first byte after the head in the buffer it was parsed from. */
  readonly bodyStart: number;
}

/** Serialises the upgrade request. Values come from Node's parser or the proxy, so they hold no CR/LF. */
export function serializeRequest(path: string, rawHeaders: readonly string[]): string {
  let out = `GET ${path} HTTP/1.1\r\n`;
  for (let i = 0; i < rawHeaders.length; i += 2) out += `${rawHeaders[i]}: ${rawHeaders[i + 1]}\r\n`;
  return `${out}\r\n`;
}

/**
 * Parses a response head from the bytes received so far: `undefined` while it
 * is incomplete, a string naming the fault when it is not valid HTTP/1.x.
 */
export function parseResponseHead(buf: Buffer): ResponseHead | string | undefined {
  const end = buf.indexOf(HEAD_END);
  if (end === -1) return buf.length > MAX_RESPONSE_HEAD ? 'response head too large' : undefined;
  if (end > MAX_RESPONSE_HEAD) return 'response head too large';
  const lines = buf.toString('latin1', 0, end).split('\r\n');
  const match = STATUS_LINE.exec(lines[0] ?? '');
  if (match === null) return 'invalid status line';
  const status = Number(match[1]);
  // Three digits are not enough: `099` or `600` would be relayed as a status no client can interpret.
  if (status < MIN_STATUS || status > MAX_STATUS) return 'status code out of range';
  const rawHeaders: string[] = [];
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(':');
    if (colon <= 0) return 'invalid header line';
    const name = line.slice(0, colon);
    if (!TOKEN.test(name)) return 'invalid header name';
    const value = line.slice(colon + 1).trim();
    if (BAD_VALUE.test(value)) return 'invalid header value';
    rawHeaders.push(name, value);
  }
  return { status, rawHeaders, bodyStart: end + HEAD_END.length };
}

/**
 * Whether a status is an interim answer (1xx other than 101, such as 100 Continue or 103 Early Hints): the final
 * answer is still to come, so the head is skipped (not relayed: a WebSocket client has no use for it).
 */
export function isInterim(status: number): boolean {
  return status >= MIN_STATUS && status < 200 && status !== 101;
}

/** How a refusal's body is delimited (RFC 9112 section 6.3). */
export type BodyFraming =
  | { readonly kind: 'length'; readonly length: number }
  | { readonly kind: 'chunked' }
  | { readonly kind: 'close' }
  | { readonly kind: 'none' };

/** The framing of a response body from its status and headers, or a string naming the fault. */
export function bodyFraming(status: number, rawHeaders: readonly string[]): BodyFraming | string {
  if (status === 204 || status === 304 || status < 200) return { kind: 'none' };
  let length: number | undefined;
  let chunked = false;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const name = rawHeaders[i]!.toLowerCase();
    const value = rawHeaders[i + 1]!;
    if (name === 'transfer-encoding') {
      if (value.trim().toLowerCase() !== 'chunked' || chunked) return 'unsupported transfer-encoding';
      chunked = true;
    } else if (name === 'content-length') {
      if (!/^\d+$/.test(value) || length !== undefined) return 'invalid content-length';
      length = Number(value);
    }
  }
  if (chunked && length !== undefined) return 'both content-length and transfer-encoding';
  if (chunked) return { kind: 'chunked' };
  if (length !== undefined) return { kind: 'length', length };
  return { kind: 'close' };
}

/** Keeps trailer fields as they are (a refusal relayed without a policy). */
const KEEP_TRAILERS = (block: string): string => block;
const NOTHING = Buffer.alloc(0);

/**
 * A relayed refusal's body, fed chunk by chunk: which bytes of each chunk go to the client and whether it is complete.
 *
 * @remarks
 * Bytes past the body's end are dropped (the connection closes after a refusal). A chunked body's trailer section
 * is held until the body ends and goes out through `filterTrailers`, so hidden headers cannot ride in trailers.
 */
export class RefusalBody {
  readonly framing: BodyFraming;
  #remaining: number;
  readonly #chunked: FilteredChunkedBody | undefined;
  #chunkedDone = false;

  constructor(framing: BodyFraming, filterTrailers: (block: string) => string = KEEP_TRAILERS) {
    this.framing = framing;
    this.#remaining = framing.kind === 'length' ? framing.length : 0;
    this.#chunked = framing.kind === 'chunked' ? new FilteredChunkedBody(filterTrailers) : undefined;
  }

  /** Nothing more belongs to the body (none at all, all its bytes seen, or its last chunk seen). */
  get complete(): boolean {
    const kind = this.framing.kind;
    return kind === 'none' || (kind === 'length' && this.#remaining === 0) || this.#chunkedDone;
  }

  /** The bytes of `chunk` to write to the client (empty when none); `null` for an invalid chunked body. */
  relay(chunk: Buffer): Buffer | null {
    if (this.complete) return NOTHING;
    if (this.framing.kind === 'length') {
      const take = Math.min(chunk.length, this.#remaining);
      this.#remaining -= take;
      return take === chunk.length ? chunk : chunk.subarray(0, take);
    }
    if (this.#chunked === undefined) return chunk;
    const { relay, end } = this.#chunked.push(chunk);
    if (this.#chunked.failed) return null;
    if (end >= 0) this.#chunkedDone = true;
    return relay ?? NOTHING;
  }
}

type ChunkState = 'size' | 'ext' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'trailer-line' | 'end-lf' | 'done';

/**
 * Finds where a chunked body ends without decoding it (the bytes are relayed
 * as they came): chunk sizes, data, the last chunk and its trailers.
 */
export class ChunkedBodyEnd {
  #state: ChunkState = 'size';
  #size = 0;
  #digits = 0;
  #remaining = 0;
  #failed = false;
  #trailerStart = -1;

  get failed(): boolean {
    return this.#failed;
  }

  /** Offset in the last pushed buffer where the trailer section (after the last chunk) began, or -1. */
  get trailerStart(): number {
    return this.#trailerStart;
  }

  /** Consumes bytes; returns the offset just past the body's end in `buf`, or -1 while it goes on. */
  push(buf: Buffer): number {
    this.#trailerStart = -1;
    for (let i = 0; i < buf.length; i++) {
      const c = buf[i]!;
      switch (this.#state) {
        case 'size': {
          const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0x61 && c <= 0x66 ? c - 0x57 : c >= 0x41 && c <= 0x46 ? c - 0x37 : -1;
          if (d >= 0 && this.#digits < 8) {
            this.#size = this.#size * 16 + d;
            this.#digits++;
          } else if (this.#digits > 0 && (c === 0x3b || c === 0x20 || c === 0x09)) this.#state = 'ext';
          else if (this.#digits > 0 && c === 0x0d) this.#state = 'size-lf';
          else return this.#fail();
          break;
        }
        case 'ext':
          if (c === 0x0d) this.#state = 'size-lf';
          break;
        case 'size-lf':
          if (c !== 0x0a) return this.#fail();
          if (this.#size === 0) {
            this.#state = 'trailer';
            this.#trailerStart = i + 1;
          } else {
            this.#remaining = this.#size;
            this.#state = 'data';
          }
          break;
        case 'data': {
          const take = Math.min(this.#remaining, buf.length - i);
          this.#remaining -= take;
          i += take - 1;
          if (this.#remaining === 0) this.#state = 'data-cr';
          break;
        }
        case 'data-cr':
          if (c !== 0x0d) return this.#fail();
          this.#state = 'data-lf';
          break;
        case 'data-lf':
          if (c !== 0x0a) return this.#fail();
          this.#size = 0;
          this.#digits = 0;
          this.#state = 'size';
          break;
        case 'trailer':
          // Either the final CRLF or the first byte of a trailer line.
          this.#state = c === 0x0d ? 'end-lf' : 'trailer-line';
          break;
        case 'trailer-line':
          if (c === 0x0a) this.#state = 'trailer';
          break;
        case 'end-lf':
          if (c !== 0x0a) return this.#fail();
          this.#state = 'done';
          return i + 1;
        case 'done':
          return i;
      }
    }
    return -1;
  }

  #fail(): number {
    this.#failed = true;
    this.#state = 'done';
    return 0;
  }
}

/**
 * A chunked body relayed byte for byte, except its trailer section: chunks
 * pass through as they come; the trailer fields are held (at most
 * {@link MAX_RESPONSE_HEAD} bytes) until the body ends and are then handed to
 * `filter`, whose text is relayed instead (a trailer may name the backend as a
 * header can: see `filterTrailerBlock`).
 * @internal
 */
export class FilteredChunkedBody {
  readonly #end = new ChunkedBodyEnd();
  readonly #filter: (block: string) => string;
  #trailers: Buffer[] | undefined;
  #trailerBytes = 0;
  #tooLarge = false;

  constructor(filter: (block: string) => string) {
    this.#filter = filter;
  }

  /** True once the body is malformed or its trailers exceed the bound. */
  get failed(): boolean {
    return this.#end.failed || this.#tooLarge;
  }

  /**
   * Consumes bytes: `relay` is what to write to the client now (undefined for
   * nothing), `end` the offset just past the body's end in `buf`, or -1.
   */
  push(buf: Buffer): { readonly relay: Buffer | undefined; readonly end: number } {
    const end = this.#end.push(buf);
    if (this.#end.failed) return { relay: undefined, end: -1 };
    const take = end >= 0 ? end : buf.length;
    const start = this.#trailers === undefined ? this.#end.trailerStart : 0;
    let relay: Buffer | undefined;
    if (start < 0) relay = take > 0 ? buf.subarray(0, take) : undefined;
    else {
      relay = start > 0 ? buf.subarray(0, start) : undefined;
      // A copy: the reader's buffer is reused for the next read.
      const held = Buffer.from(buf.subarray(start, take));
      (this.#trailers ??= []).push(held);
      this.#trailerBytes += held.length;
      if (this.#trailerBytes > MAX_RESPONSE_HEAD) {
        this.#tooLarge = true;
        return { relay: undefined, end: -1 };
      }
    }
    if (end >= 0 && this.#trailers !== undefined) {
      const block = Buffer.from(this.#filter(Buffer.concat(this.#trailers).toString('latin1')), 'latin1');
      this.#trailers = undefined;
      relay = relay === undefined ? block : Buffer.concat([relay, block]);
    }
    return { relay, end };
  }
}
