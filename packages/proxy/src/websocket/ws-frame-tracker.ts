import { randomFillSync } from 'node:crypto';

/**
 * Options for one direction of a spliced WebSocket connection.
 *
 * @example
 * ```ts
 * const fromClient: FrameTrackerOptions = { masked: true, maxMessageSize: 1 << 20 };
 * ```
 */
export interface FrameTrackerOptions {
  /** `true` client-to-server (every frame must set MASK); `false` server-to-client (MASK must be clear). */
  masked: boolean;
  /**
   * Largest payload of one frame, in bytes; more is violation 1009.
   * @defaultValue `Infinity`
   * @remarks Checked on the header, so an oversized frame is caught before its payload is relayed.
   */
  maxFramePayload?: number;
  /**
   * Largest data message, in bytes, summed over its fragments (control frames do not count); more is violation 1009.
   * @defaultValue `Infinity`
   */
  maxMessageSize?: number;
}

/**
 * Why a {@link FrameTracker} stopped: the close code to send (1002 protocol error, 1009 too big) and a short
 * reason that never quotes payload bytes.
 *
 * @example
 * ```ts
 * const v: FrameViolation = { code: 1002, reason: 'MASK must be set' };
 * ```
 */
export interface FrameViolation {
  code: 1002 | 1009;
  reason: string;
}

const STATE_HEADER = 0;
const STATE_PAYLOAD = 1;
const STATE_CLOSE_CODE = 2;
const STATE_FAILED = 3;
const OP_CONTINUATION = 0x0;
const OP_BINARY = 0x2;
const OP_CLOSE = 0x8;
const OP_PONG = 0xa;
const FIN_BIT = 0x80;
const MASK_BIT = 0x80;
const MAX_CONTROL_PAYLOAD = 125;
const LEN_16 = 126;
const LEN_64 = 127;
const MAX_HEADER = 14;
const TWO_POW_32 = 0x100000000;
/** Highest upper 32-bit word that keeps a 64-bit length within Number.MAX_SAFE_INTEGER. */
const MAX_SAFE_HIGH_WORD = 0x1fffff;
const NO_STATUS_CODE = 1005;

/** Header size implied by the second header byte; the first byte never changes it. */
function headerSize(b1: number): number {
  const len7 = b1 & 0x7f;
  return 2 + (len7 === LEN_16 ? 2 : len7 === LEN_64 ? 8 : 0) + ((b1 & MASK_BIT) !== 0 ? 4 : 0);
}

/**
 * Finds WebSocket frame boundaries (RFC 6455 section 5.2) in one direction of a spliced byte stream, so the proxy
 * knows where a close or ping frame may be injected. It reads only the 2-14 header bytes of each frame and skips
 * payloads by counting; the only payload it reads is the 2-byte status code of a close frame.
 *
 * @remarks Hot path: no allocation per chunk, no closures. A header split across chunks is gathered in a 14-byte
 * buffer allocated once. RSV bits are not checked: extensions such as permessage-deflate belong to the two ends.
 * Never hand the same chunks to `ws` as well: its Receiver unmasks in place.
 *
 * @example
 * ```ts
 * const tracker = new FrameTracker({ masked: false });
 * tracker.push(Buffer.from([0x01, 0x01, 0x68])); // "h", FIN=0
 * tracker.inFragmentedMessage; // true, and tracker.atBoundary is true: a ping may go in here
 * ```
 */
export class FrameTracker {
  readonly #maskBit: number;
  readonly #maxFramePayload: number;
  readonly #maxMessageSize: number;
  /** A header split across chunks is gathered here; made on first need (rare), so an idle connection holds none. */
  #header: Buffer | undefined = undefined;
  #headerLen = 0;
  #state = STATE_HEADER;
  /** Payload bytes of the current frame not yet consumed (for close frames, including the status code). */
  #remaining = 0;
  #opcode = 0;
  #fin = false;
  #inMessage = false;
  #messageBytes = 0;
  /** Close frames only: the 32-bit masking key (0 when unmasked, which makes the XOR a no-op). */
  #mask = 0;
  #codeBytes = 0;
  #pendingCode = NO_STATUS_CODE;
  #closeCode: number | undefined = undefined;
  #violation: FrameViolation | undefined = undefined;
  #violationOffset = -1;
  #frames = 0;
  #messages = 0;

  /** @throws RangeError when a limit is not a non-negative number. */
  constructor(options: FrameTrackerOptions) {
    this.#maskBit = options.masked ? MASK_BIT : 0;
    this.#maxFramePayload = checkLimit('maxFramePayload', options.maxFramePayload);
    this.#maxMessageSize = checkLimit('maxMessageSize', options.maxMessageSize);
  }

  /** `true` when no frame is partially through; a control frame may be injected here. */
  get atBoundary(): boolean {
    return this.#state === STATE_HEADER && this.#headerLen === 0;
  }

  /** `true` from the header of a FIN=0 data frame until its final continuation frame has fully passed. */
  get inFragmentedMessage(): boolean {
    return this.#inMessage;
  }

  /** Status code of the first close frame that fully passed (1005 if it had no payload); else `undefined`. */
  get closeCode(): number | undefined {
    return this.#closeCode;
  }

  /** The first violation found; once set the tracker consumes nothing more. */
  get violation(): FrameViolation | undefined {
    return this.#violation;
  }

  /**
   * Where the offending frame starts in the chunk given to the call that found the violation: the offset of its
   * first header byte, or -1 when that header began in an earlier chunk. Everything before it belongs to frames
   * that passed, so a relay may forward exactly those bytes and stand at a frame boundary.
   */
  get violationOffset(): number {
    return this.#violationOffset;
  }

  /** Complete frames seen, control frames included. */
  get frames(): number {
    return this.#frames;
  }

  /** Complete data messages seen (a fragmented message counts once, at the end of its final fragment). */
  get messages(): number {
    return this.#messages;
  }

  /**
   * Consumes the whole chunk. Returns `false` once a violation is found, and on every later call.
   *
   * @example
   * ```ts
   * new FrameTracker({ masked: false }).push(Buffer.from([0x81, 0x02, 0x68, 0x69])); // true: text "hi"
   * ```
   */
  push(chunk: Buffer): boolean {
    if (this.#state === STATE_FAILED) return false;
    this.#run(chunk, 0, false);
    return this.#state !== STATE_FAILED;
  }

  /**
   * Consumes bytes from `offset` up to and including the end of the current frame, or to the end of the chunk if
   * the frame goes on, and returns how many were consumed. At a boundary, or after a violation, it returns 0. If a
   * violation is found on the way, it returns the bytes consumed up to it; check {@link FrameTracker.violation}.
   *
   * @example
   * ```ts
   * const tracker = new FrameTracker({ masked: false });
   * tracker.push(Buffer.from([0x82, 0x03, 0x01]));
   * tracker.pushToBoundary(Buffer.from([0x02, 0x03, 0x89, 0x00]), 0); // 2: the rest of the binary frame
   * ```
   */
  pushToBoundary(chunk: Buffer, offset = 0): number {
    if (this.#state === STATE_FAILED || this.atBoundary) return 0;
    return this.#run(chunk, offset, true) - offset;
  }

  /** The one loop behind push() and pushToBoundary(); returns the index it stopped at. */
  #run(chunk: Buffer, start: number, stopAtBoundary: boolean): number {
    const end = chunk.length;
    let i = start;
    /** First byte of a header gathered byte by byte in this call; -1 while it began in an earlier chunk. */
    let headerStart = -1;
    while (i < end) {
      if (this.#state === STATE_PAYLOAD) {
        const left = end - i;
        if (left < this.#remaining) {
          this.#remaining -= left;
          return end;
        }
        i += this.#remaining;
        this.#remaining = 0;
        this.#endFrame();
        if (stopAtBoundary) return i;
      } else if (this.#state === STATE_HEADER) {
        // Fast path: the whole header is in this chunk, parse it in place without copying.
        if (this.#headerLen === 0 && end - i >= 2) {
          const size = headerSize(chunk[i + 1]);
          if (end - i >= size) {
            if (!this.#checkStart(chunk[i], chunk[i + 1]) || !this.#parseHeader(chunk, i)) return this.#failedAt(i);
            // No stop check needed: pushToBoundary() starts mid-frame and returns at the first boundary, never here.
            i += size;
            continue;
          }
        }
        const header = (this.#header ??= Buffer.allocUnsafe(MAX_HEADER));
        if (this.#headerLen === 0) headerStart = i;
        header[this.#headerLen++] = chunk[i++];
        if (this.#headerLen === 2 && !this.#checkStart(header[0], header[1])) return this.#failedAt(headerStart, i);
        if (this.#headerLen >= 2 && this.#headerLen === headerSize(header[1])) {
          this.#headerLen = 0;
          if (!this.#parseHeader(header, 0)) return this.#failedAt(headerStart, i);
          if (this.#state === STATE_HEADER && stopAtBoundary) return i;
        }
      } else if (this.#state === STATE_CLOSE_CODE) {
        const maskByte = (this.#mask >>> (this.#codeBytes === 0 ? 24 : 16)) & 0xff;
        this.#pendingCode = (this.#pendingCode << 8) | (chunk[i++] ^ maskByte);
        this.#remaining--;
        if (++this.#codeBytes === 2) {
          if (this.#remaining > 0) {
            this.#state = STATE_PAYLOAD;
          } else {
            this.#endFrame();
            if (stopAtBoundary) return i;
          }
        }
      } else {
        return i;
      }
    }
    return i;
  }

  /** Checks everything the first two header bytes decide, before the rest of the header arrives. */
  #checkStart(b0: number, b1: number): boolean {
    const opcode = b0 & 0x0f;
    if (opcode > OP_PONG || (opcode > OP_BINARY && opcode < OP_CLOSE)) {
      return this.#fail(1002, `reserved opcode 0x${opcode.toString(16)}`);
    }
    if ((b1 & MASK_BIT) !== this.#maskBit) {
      return this.#fail(1002, this.#maskBit !== 0 ? 'MASK must be set' : 'MASK must be clear');
    }
    if (opcode >= OP_CLOSE) {
      if ((b0 & FIN_BIT) === 0) return this.#fail(1002, 'fragmented control frame');
      if ((b1 & 0x7f) > MAX_CONTROL_PAYLOAD) return this.#fail(1002, 'control frame payload over 125 bytes');
    } else if (opcode === OP_CONTINUATION) {
      if (!this.#inMessage) return this.#fail(1002, 'continuation frame without a message in progress');
    } else if (this.#inMessage) {
      return this.#fail(1002, 'new data frame inside a fragmented message');
    }
    return true;
  }

  /** Parses a complete header that passed #checkStart and enters the matching state. */
  #parseHeader(buf: Buffer, o: number): boolean {
    const b0 = buf[o];
    const b1 = buf[o + 1];
    const len7 = b1 & 0x7f;
    let length = len7;
    let maskAt = o + 2;
    if (len7 === LEN_16) {
      length = (buf[o + 2] << 8) | buf[o + 3];
      maskAt += 2;
    } else if (len7 === LEN_64) {
      const high = buf.readUInt32BE(o + 2);
      if (high >= 0x80000000) return this.#fail(1002, '64-bit payload length has its most significant bit set');
      // Past 2^53 a Number cannot count bytes exactly; no peer can send that much anyway (ws refuses it too).
      if (high > MAX_SAFE_HIGH_WORD) return this.#fail(1009, 'payload length over 2^53 - 1');
      length = high * TWO_POW_32 + buf.readUInt32BE(o + 6);
      maskAt += 8;
    }
    if (length > this.#maxFramePayload) return this.#fail(1009, 'frame payload too big');
    const opcode = b0 & 0x0f;
    const fin = (b0 & FIN_BIT) !== 0;
    if (opcode < OP_CLOSE) {
      this.#messageBytes = opcode === OP_CONTINUATION ? this.#messageBytes + length : length;
      if (this.#messageBytes > this.#maxMessageSize) return this.#fail(1009, 'message too big');
      if (!fin) this.#inMessage = true;
    }
    this.#opcode = opcode;
    this.#fin = fin;
    this.#remaining = length;
    if (opcode === OP_CLOSE && length !== 0) {
      // A 1-byte body cannot hold the status code; both ends would fail it with 1002, so we do too.
      if (length === 1) return this.#fail(1002, 'close frame payload of 1 byte');
      this.#mask = (b1 & MASK_BIT) !== 0 ? buf.readUInt32BE(maskAt) : 0;
      this.#codeBytes = 0;
      this.#pendingCode = 0;
      this.#state = STATE_CLOSE_CODE;
    } else if (length === 0) {
      this.#pendingCode = NO_STATUS_CODE;
      this.#endFrame();
    } else {
      this.#state = STATE_PAYLOAD;
    }
    return true;
  }

  #endFrame(): void {
    this.#state = STATE_HEADER;
    this.#frames++;
    const opcode = this.#opcode;
    if (opcode < OP_CLOSE) {
      if (this.#fin) {
        this.#inMessage = false;
        this.#messages++;
      }
    } else if (opcode === OP_CLOSE && this.#closeCode === undefined) {
      this.#closeCode = this.#pendingCode;
    }
  }

  /** Records where the offending frame started; returns `stop`, where the loop stopped. */
  #failedAt(frameStart: number, stop = frameStart): number {
    this.#violationOffset = frameStart;
    return stop;
  }

  #fail(code: 1002 | 1009, reason: string): false {
    this.#violation = { code, reason };
    this.#state = STATE_FAILED;
    return false;
  }
}

function checkLimit(name: string, value: number | undefined): number {
  if (value === undefined) return Infinity;
  if (typeof value !== 'number' || Number.isNaN(value) || value < 0) {
    throw new RangeError(`${name} must be a non-negative number or Infinity, got ${String(value)}.`);
  }
  return value;
}

/** FIN=1 control frame; the payload is copied into the frame and masked there, never in the caller's buffer. */
function encodeControlFrame(opcode: number, payload: Buffer, masked: boolean): Buffer {
  const headerLength = masked ? 6 : 2;
  const frame = Buffer.allocUnsafe(headerLength + payload.length);
  frame[0] = FIN_BIT | opcode;
  frame[1] = (masked ? MASK_BIT : 0) | payload.length;
  payload.copy(frame, headerLength);
  if (masked) {
    randomFillSync(frame, 2, 4);
    for (let i = 0; i < payload.length; i++) frame[headerLength + i] ^= frame[2 + (i & 3)];
  }
  return frame;
}

/**
 * Encodes a close frame with `code` and the UTF-8 `reason`, cut at a character boundary so the payload fits in
 * 125 bytes. `masked: true` (random key from crypto.randomFillSync) is required for frames sent to the backend.
 *
 * @throws RangeError when `code` may not be sent on the wire (for example 1005 or 1006).
 * @example
 * ```ts
 * const toClient = encodeCloseFrame(1001, 'proxy shutting down', false);
 * ```
 */
export function encodeCloseFrame(code: number, reason: string, masked: boolean): Buffer {
  // Codes an endpoint may put on the wire (RFC 6455 section 7.4.1): 1004-1006 and 1015 are reserved.
  const sendable = (code >= 1000 && code <= 1014 && (code < 1004 || code > 1006)) || (code >= 3000 && code <= 4999);
  if (!Number.isInteger(code) || !sendable) throw new RangeError(`close code ${code} may not be sent in a close frame.`);
  const text = Buffer.from(reason, 'utf8');
  let reasonLength = Math.min(text.length, MAX_CONTROL_PAYLOAD - 2);
  // Never cut inside a multi-byte character: the peer would fail the close with 1007 (invalid UTF-8).
  while (reasonLength < text.length && reasonLength > 0 && (text[reasonLength] & 0xc0) === 0x80) reasonLength--;
  const payload = Buffer.allocUnsafe(2 + reasonLength);
  payload.writeUInt16BE(code, 0);
  text.copy(payload, 2, 0, reasonLength);
  return encodeControlFrame(OP_CLOSE, payload, masked);
}

/**
 * Encodes a ping frame with `payload` (at most 125 bytes; an empty Buffer for none).
 *
 * @throws RangeError when the payload is over 125 bytes.
 * @example
 * ```ts
 * const toBackend = encodePingFrame(Buffer.alloc(0), true);
 * ```
 */
export function encodePingFrame(payload: Buffer, masked: boolean): Buffer {
  if (payload.length > MAX_CONTROL_PAYLOAD) {
    throw new RangeError(`ping payload is ${payload.length} bytes; a control frame carries at most 125.`);
  }
  return encodeControlFrame(0x9, payload, masked);
}
