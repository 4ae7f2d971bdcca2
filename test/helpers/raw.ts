import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';

/** What came back on one raw TCP connection. */
export interface RawAnswer {
  /** Every byte received, in order. */
  readonly data: Buffer;
  /** The first line of the answer (`HTTP/1.1 400 Bad Request`), or '' when nothing came. */
  readonly statusLine: string;
  /** The status code of the first line, or 0. */
  readonly status: number;
  /** The peer closed the connection (FIN or reset) before `timeoutMs`. */
  readonly closed: boolean;
  /** ms from the first write to the close (or to the timeout). */
  readonly elapsed: number;
}

/** One write, optionally after a pause (ms), on the raw connection. */
export type RawStep = string | Buffer | { readonly wait: number } | { readonly end: true } | { readonly reset: true };

/**
 * Opens a TCP connection, performs `steps` (writes, pauses, a FIN or a reset) and collects everything the peer
 * answers until it closes or `timeoutMs` passes. The socket is always destroyed before this resolves.
 */
export async function rawExchange(port: number, steps: RawStep | readonly RawStep[], timeoutMs = 3000): Promise<RawAnswer> {
  const socket: Socket = connect({ port, host: '127.0.0.1', allowHalfOpen: true });
  const chunks: Buffer[] = [];
  let closed = false;
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closedP = new Promise<void>((resolve) => socket.once('close', () => {
    closed = true;
    resolve();
  }));
  // A FIN from the peer after its answer: finish our side too, so 'close' follows.
  socket.on('end', () => socket.end());
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  const started = Date.now();
  for (const step of Array.isArray(steps) ? steps : [steps]) {
    if (closed) break;
    if (typeof step === 'string' || Buffer.isBuffer(step)) socket.write(step);
    else if ('wait' in step) await Promise.race([closedP, new Promise((r) => setTimeout(r, step.wait))]);
    else if ('end' in step) socket.end();
    else socket.resetAndDestroy();
  }
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([closedP, new Promise<void>((r) => (timer = setTimeout(r, timeoutMs)))]);
  clearTimeout(timer);
  const elapsed = Date.now() - started;
  socket.destroy();
  const data = Buffer.concat(chunks);
  const text = data.toString('latin1');
  const eol = text.indexOf('\r\n');
  const statusLine = eol < 0 ? text : text.slice(0, eol);
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(statusLine);
  return { data, statusLine, status: m === null ? 0 : Number(m[1]), closed, elapsed };
}

/** The body of an HTTP answer (after the blank line). */
export function bodyOf(answer: RawAnswer): string {
  const text = answer.data.toString('latin1');
  const at = text.indexOf('\r\n\r\n');
  return at < 0 ? '' : text.slice(at + 4);
}

/** A request head from lines: CRLF-joined, ending with the blank line. */
export function head(...lines: string[]): string {
  return [...lines, '', ''].join('\r\n');
}

/** A fixed, valid Sec-WebSocket-Key (the RFC 6455 sample nonce). */
export const WS_KEY = 'dGhlIHNhbXBsZSBub25jZQ==';

/** The header lines of a valid WebSocket handshake (after the request line and Host). */
export const WS_HEADERS = ['Upgrade: websocket', 'Connection: Upgrade', `Sec-WebSocket-Key: ${WS_KEY}`, 'Sec-WebSocket-Version: 13'];

/** One WebSocket frame; masked (client to server) unless `masked` is false. */
export function wsFrame(opcode: number, payload: Buffer | string, options: { fin?: boolean; masked?: boolean } = {}): Buffer {
  const data = typeof payload === 'string' ? Buffer.from(payload) : payload;
  const masked = options.masked ?? true;
  const first = ((options.fin ?? true) ? 0x80 : 0) | opcode;
  let len: Buffer;
  if (data.length < 126) len = Buffer.from([(masked ? 0x80 : 0) | data.length]);
  else if (data.length < 0x10000) {
    len = Buffer.alloc(3);
    len[0] = (masked ? 0x80 : 0) | 126;
    len.writeUInt16BE(data.length, 1);
  } else {
    len = Buffer.alloc(9);
    len[0] = (masked ? 0x80 : 0) | 127;
    len.writeBigUInt64BE(BigInt(data.length), 1);
  }
  if (!masked) return Buffer.concat([Buffer.from([first]), len, data]);
  const mask = randomBytes(4);
  const out = Buffer.from(data);
  for (let i = 0; i < out.length; i++) out[i]! ^= mask[i % 4]!;
  return Buffer.concat([Buffer.from([first]), len, mask, out]);
}

/** Close code of the first close frame (opcode 8, unmasked) found in server-to-client bytes, or undefined. */
export function firstCloseCode(frames: Buffer): number | undefined {
  let at = 0;
  while (at + 2 <= frames.length) {
    const opcode = frames[at]! & 0x0f;
    let len = frames[at + 1]! & 0x7f;
    let hdr = 2;
    if (len === 126) {
      if (at + 4 > frames.length) return undefined;
      len = frames.readUInt16BE(at + 2);
      hdr = 4;
    } else if (len === 127) {
      if (at + 10 > frames.length) return undefined;
      len = Number(frames.readBigUInt64BE(at + 2));
      hdr = 10;
    }
    if ((frames[at + 1]! & 0x80) !== 0) hdr += 4;
    if (opcode === 0x8) return len >= 2 && at + hdr + 2 <= frames.length ? frames.readUInt16BE(at + hdr) : 1005;
    at += hdr + len;
  }
  return undefined;
}

/** The bytes after the first `\r\n\r\n` (the frames following a 101). */
export function afterHead(data: Buffer): Buffer {
  const at = data.indexOf('\r\n\r\n');
  return at < 0 ? Buffer.alloc(0) : data.subarray(at + 4);
}
