/**
 * PROXY protocol v1 and v2 (https://www.haproxy.org/download/2.9/doc/proxy-protocol.txt): the header an L3/L4
 * balancer (HAProxy `send-proxy`, nginx `proxy_protocol on`, AWS NLB) puts in front of a TCP stream to say which
 * client it is relaying. Accept it only from trusted peers: from anyone else it is a forged identity.
 *
 * @packageDocumentation
 */
import type { Socket } from 'node:net';
import { InvalidOptionError } from '../errors';
import { formatIp, parseIp } from './ip-address';

/**
 * One end of the relayed connection, as the balancer saw it.
 *
 * @example
 * ```ts
 * const source: ProxyEndpoint = { address: '203.0.113.7', port: 51234 };
 * ```
 */
export interface ProxyEndpoint {
  /** Canonical address: dotted quad for IPv4 and IPv4-mapped IPv6, lowercase compressed IPv6 otherwise. */
  readonly address: string;
  readonly port: number;
}

/**
 * What {@link parseProxyHeader} found in the first bytes of a connection.
 *
 * - `incomplete`: a valid prefix so far; read more.
 * - `done`: a complete header of `consumed` bytes. `source`/`destination` are undefined when the header names no
 *   TCP endpoint (v1 `UNKNOWN`; v2 `LOCAL`, `AF_UNSPEC`, `AF_UNIX` or an unspecified transport); the connection's
 *   own peer address then stands, as the specification says.
 * - `invalid`: not a PROXY header, or a malformed or oversized one; `reason` is short and safe to log.
 *
 * @example
 * ```ts
 * const r: ProxyHeaderResult = parseProxyHeader(Buffer.from('PROXY UNKNOWN\r\n'));
 * if (r.status === 'done') console.log(r.consumed); // 15
 * ```
 */
export type ProxyHeaderResult =
  | { readonly status: 'incomplete' }
  | {
      readonly status: 'done';
      readonly version: 1 | 2;
      readonly consumed: number;
      readonly source?: ProxyEndpoint;
      readonly destination?: ProxyEndpoint;
    }
  | { readonly status: 'invalid'; readonly reason: string };

/**
 * Options of {@link parseProxyHeader} and {@link readProxyHeader}.
 *
 * @example
 * ```ts
 * const options: ProxyHeaderOptions = { maxHeaderLength: 1024 };
 * ```
 */
export interface ProxyHeaderOptions {
  /**
   * Largest v2 header accepted, in bytes, including the 16-byte preamble.
   * @defaultValue {@link DEFAULT_MAX_PROXY_HEADER_LENGTH}
   * @remarks 232 bytes hold every v2 address block (UNIX is the largest, 16 + 216) but no TLVs; AWS NLB, GCP
   * and HAProxy's SSL TLVs add tens to hundreds of bytes. v2 allows 16 + 65535, which is more than a header
   * ever needs to be buffered per connection. v1 is always limited to 107 bytes by its specification.
   */
  readonly maxHeaderLength?: number;
}

/**
 * Default {@link ProxyHeaderOptions.maxHeaderLength}: 232 bytes of addresses plus room for TLVs.
 *
 * @example
 * ```ts
 * console.log(DEFAULT_MAX_PROXY_HEADER_LENGTH); // 1024
 * ```
 */
export const DEFAULT_MAX_PROXY_HEADER_LENGTH = 1024;

/** v1 header limit, CRLF included (specification section 2.1). */
const V1_MAX_LENGTH = 107;
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V2_PREAMBLE = 16;
const V2_MAX_LENGTH = V2_PREAMBLE + 0xffff;
const CMD_LOCAL = 0x0;
const CMD_PROXY = 0x1;
const AF_INET = 0x1;
const AF_INET6 = 0x2;
const AF_UNIX = 0x3;
const TRANSPORT_STREAM = 0x1;
const TRANSPORT_DGRAM = 0x2;
/** Bytes of the v2 address block per family: two addresses and, except UNIX, two ports. */
const ADDRESS_BLOCK = [0, 12, 36, 216] as const;
/** Smallest allowed maxHeaderLength: room for the largest address block (UNIX), so no valid family is refused. */
const V2_MIN_LENGTH = V2_PREAMBLE + ADDRESS_BLOCK[AF_UNIX];
const CR = 0x0d;
const LF = 0x0a;
const PORT = /^(?:0|[1-9][0-9]{0,4})$/;

const INCOMPLETE: ProxyHeaderResult = Object.freeze({ status: 'incomplete' });

function invalid(reason: string): ProxyHeaderResult {
  return { status: 'invalid', reason };
}

/** True when `buf` is a prefix of `expected` or starts with all of it. */
function matchesStart(buf: Buffer, expected: Buffer): boolean {
  const n = Math.min(buf.length, expected.length);
  return buf.compare(expected, 0, n, 0, n) === 0;
}

function parseV1Port(text: string): number {
  if (!PORT.test(text)) return -1;
  const port = Number(text);
  return port <= 0xffff ? port : -1;
}

function parseV1(buf: Buffer): ProxyHeaderResult {
  // CRLF must end by byte 107, so the CR is at index 105 at the latest.
  const lastCr = V1_MAX_LENGTH - 2;
  const end = Math.min(buf.length, lastCr + 1);
  let cr = -1;
  for (let i = V1_PREFIX.length; i < end; i++) {
    const c = buf[i];
    if (c === CR) { cr = i; break; }
    // Printable US-ASCII only: a v1 line is text, and refusing early spares waiting for 107 bytes of garbage.
    if (c < 0x20 || c > 0x7e) return invalid('v1 header contains a control or non-ASCII byte');
  }
  if (cr < 0) return buf.length > lastCr ? invalid('v1 header longer than 107 bytes') : INCOMPLETE;
  if (cr + 1 >= buf.length) return INCOMPLETE;
  if (buf[cr + 1] !== LF) return invalid('v1 header must end with CRLF');
  const consumed = cr + 2;
  const fields = buf.toString('latin1', V1_PREFIX.length, cr).split(' ');
  // UNKNOWN: the receiver ignores everything up to CRLF (specification section 2.1).
  if (fields[0] === 'UNKNOWN') return { status: 'done', version: 1, consumed };
  if (fields[0] !== 'TCP4' && fields[0] !== 'TCP6') return invalid('v1 protocol must be TCP4, TCP6 or UNKNOWN');
  if (fields.length !== 5) return invalid('v1 header must have 4 fields after the protocol, single-space separated');
  const family = fields[0] === 'TCP4' ? 4 : 6;
  const src = parseIp(fields[1]);
  const dst = parseIp(fields[2]);
  if (src?.family !== family || dst?.family !== family || fields[1].includes('%') || fields[2].includes('%')) {
    return invalid(`v1 addresses must be IPv${family}`);
  }
  const srcPort = parseV1Port(fields[3]);
  const dstPort = parseV1Port(fields[4]);
  if (srcPort < 0 || dstPort < 0) return invalid('v1 ports must be decimal 0-65535 without leading zeros');
  return {
    status: 'done',
    version: 1,
    consumed,
    source: { address: formatIp(src.bytes), port: srcPort },
    destination: { address: formatIp(dst.bytes), port: dstPort },
  };
}

function endpointV4(buf: Buffer, at: number, portAt: number): ProxyEndpoint {
  return { address: `${buf[at]}.${buf[at + 1]}.${buf[at + 2]}.${buf[at + 3]}`, port: buf.readUInt16BE(portAt) };
}

function endpointV6(buf: Buffer, at: number, portAt: number): ProxyEndpoint {
  return { address: formatIp(new Uint8Array(buf.subarray(at, at + 16))), port: buf.readUInt16BE(portAt) };
}

function parseV2(buf: Buffer, maxLength: number): ProxyHeaderResult {
  if (buf.length < V2_PREAMBLE) return INCOMPLETE;
  const version = buf[12] >> 4;
  const command = buf[12] & 0x0f;
  const family = buf[13] >> 4;
  const transport = buf[13] & 0x0f;
  if (version !== 2) return invalid('v2 version must be 2');
  if (command !== CMD_LOCAL && command !== CMD_PROXY) return invalid('v2 command must be LOCAL or PROXY');
  if (family > AF_UNIX) return invalid('v2 address family must be UNSPEC, INET, INET6 or UNIX');
  if (transport > TRANSPORT_DGRAM) return invalid('v2 transport must be UNSPEC, STREAM or DGRAM');
  const consumed = V2_PREAMBLE + buf.readUInt16BE(14);
  // Decided on the preamble alone, so an oversized header is refused before its body is waited for.
  if (consumed > maxLength) return invalid(`v2 header longer than ${maxLength} bytes`);
  if (command === CMD_PROXY && consumed - V2_PREAMBLE < ADDRESS_BLOCK[family]) {
    return invalid('v2 length too short for its address family');
  }
  if (buf.length < consumed) return INCOMPLETE;
  // LOCAL is the balancer's own health check: its addresses (and any TLVs) mean nothing.
  if (command === CMD_LOCAL) return { status: 'done', version: 2, consumed };
  if (transport === TRANSPORT_DGRAM) return invalid('v2 DGRAM transport on a stream connection');
  if (transport !== TRANSPORT_STREAM || (family !== AF_INET && family !== AF_INET6)) {
    // No TCP endpoint to report; a UNIX path would be no use as a client address. TLVs after it are skipped.
    return { status: 'done', version: 2, consumed };
  }
  if (family === AF_INET) {
    return { status: 'done', version: 2, consumed, source: endpointV4(buf, 16, 24), destination: endpointV4(buf, 20, 26) };
  }
  return { status: 'done', version: 2, consumed, source: endpointV6(buf, 16, 48), destination: endpointV6(buf, 32, 50) };
}

function resolveMaxLength(options: ProxyHeaderOptions | undefined, caller: string): number {
  const max = options?.maxHeaderLength ?? DEFAULT_MAX_PROXY_HEADER_LENGTH;
  if (!Number.isInteger(max) || max < V2_MIN_LENGTH || max > V2_MAX_LENGTH) {
    throw new InvalidOptionError(
      `${caller}: maxHeaderLength must be an integer from ${V2_MIN_LENGTH} to ${V2_MAX_LENGTH}, got ${String(max)}`,
    );
  }
  return max;
}

/**
 * Parses a PROXY protocol v1 or v2 header from the first bytes of a connection. Never throws on input bytes.
 *
 * @remarks Call again with the grown buffer while the result is `incomplete`. Bytes after `consumed` belong to
 * the relayed stream. v2 TLVs are skipped unread (their length is covered by `consumed`).
 *
 * @throws {@link InvalidOptionError} when `options.maxHeaderLength` is not an integer from 232 to 65551.
 *
 * @example
 * ```ts
 * const r = parseProxyHeader(Buffer.from('PROXY TCP4 203.0.113.7 10.0.0.1 51234 443\r\nGET / HTTP/1.1\r\n'));
 * if (r.status === 'done') console.log(r.source, r.consumed); // { address: '203.0.113.7', port: 51234 } 43
 * ```
 */
export function parseProxyHeader(buf: Buffer, options?: ProxyHeaderOptions): ProxyHeaderResult {
  const maxLength = resolveMaxLength(options, 'parseProxyHeader');
  if (buf.length === 0) return INCOMPLETE;
  if (buf[0] === V1_PREFIX[0]) {
    if (!matchesStart(buf, V1_PREFIX)) return invalid('no PROXY protocol header');
    return buf.length <= V1_PREFIX.length ? INCOMPLETE : parseV1(buf);
  }
  if (!matchesStart(buf, V2_SIGNATURE)) return invalid('no PROXY protocol header');
  return parseV2(buf, maxLength);
}

/**
 * Options of {@link readProxyHeader}.
 *
 * @example
 * ```ts
 * const options: ReadProxyHeaderOptions = { timeout: 5000 };
 * ```
 */
export interface ReadProxyHeaderOptions extends ProxyHeaderOptions {
  /**
   * How long the whole header may take to arrive, in ms.
   * @remarks A balancer sends the header at once; a peer that dribbles it is holding a socket open (slowloris).
   */
  readonly timeout: number;
}

/**
 * The outcome of {@link readProxyHeader}: like {@link ProxyHeaderResult} but never `incomplete`.
 *
 * @example
 * ```ts
 * function clientOf(r: ReadProxyHeaderResult, peer: string): string {
 *   return r.status === 'done' && r.source !== undefined ? r.source.address : peer;
 * }
 * ```
 */
export type ReadProxyHeaderResult = Exclude<ProxyHeaderResult, { status: 'incomplete' }>;

/**
 * Reads a PROXY protocol header from the start of `socket`, then puts the bytes after it back (`unshift`) so the
 * next reader (e.g. `httpServer.emit('connection', socket)`) sees the stream as if no header had been there.
 *
 * @remarks
 * - Resolves, never rejects: `invalid` on a malformed header, a timeout, or the socket ending or failing first.
 *   On `invalid` the bytes read are unshifted too, so the caller may still answer; usually it destroys the socket.
 * - Buffers at most one header (107 bytes for v1, `maxHeaderLength` for v2) beyond the chunk that completes it.
 * - Every listener and the timer it adds are removed before the promise settles. Attach your own `'error'`
 *   listener before calling: the one added here is gone afterwards.
 * - Reads in paused mode (`'readable'`), so the socket is left neither flowing nor explicitly paused, and a
 *   later `'data'` listener receives the unshifted bytes first. Call it before anything else reads the socket:
 *   an http.Server starts parsing in its own `'connection'` listener, so the header must be read from a
 *   `net.Server` in front, which then hands the socket on with `httpServer.emit('connection', socket)`.
 *
 * @throws {@link InvalidOptionError} synchronously for a bad `timeout` or `maxHeaderLength`.
 *
 * @example
 * ```ts
 * import { createServer as createNetServer } from 'node:net';
 * import { createServer as createHttpServer } from 'node:http';
 * const http = createHttpServer((req, res) => res.end('hello'));
 * createNetServer(async (socket) => {
 *   socket.on('error', () => socket.destroy());
 *   const header = await readProxyHeader(socket, { timeout: 5000 });
 *   if (header.status !== 'done') return void socket.destroy();
 *   http.emit('connection', socket); // header.source is the real client
 * }).listen(8080);
 * ```
 */
export function readProxyHeader(socket: Socket, options: ReadProxyHeaderOptions): Promise<ReadProxyHeaderResult> {
  const timeout = options?.timeout;
  if (typeof timeout !== 'number' || !(timeout > 0) || timeout > 2 ** 31 - 1) {
    throw new InvalidOptionError(`readProxyHeader: timeout must be a number of milliseconds from 1 to 2147483647, got ${String(timeout)}`);
  }
  const parseOptions: ProxyHeaderOptions = { maxHeaderLength: resolveMaxLength(options, 'readProxyHeader') };
  if (socket.destroyed || socket.readableEnded) {
    return Promise.resolve({ status: 'invalid', reason: 'connection closed before the PROXY protocol header was complete' });
  }
  return new Promise((resolve) => {
    let buffered: Buffer = Buffer.alloc(0);
    const finish = (result: ReadProxyHeaderResult, rest: Buffer): void => {
      clearTimeout(timer);
      socket.removeListener('readable', socketOnReadable);
      socket.removeListener('end', socketOnEnd);
      socket.removeListener('close', socketOnEnd);
      socket.removeListener('error', socketOnError);
      if (rest.length > 0 && !socket.destroyed) socket.unshift(rest);
      resolve(result);
    };
    function socketOnReadable(): void {
      for (;;) {
        // One chunk at a time, and no read() after the header: a read() returning null at EOF would emit 'end'
        // and make the unshift below illegal.
        const chunk = socket.read() as Buffer | null;
        if (chunk === null) return;
        buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
        const result = parseProxyHeader(buffered, parseOptions);
        if (result.status === 'done') return finish(result, buffered.subarray(result.consumed));
        if (result.status === 'invalid') return finish(result, buffered);
      }
    }
    function socketOnEnd(): void {
      finish({ status: 'invalid', reason: 'connection closed before the PROXY protocol header was complete' }, Buffer.alloc(0));
    }
    function socketOnError(): void {
      finish({ status: 'invalid', reason: 'connection failed before the PROXY protocol header was complete' }, Buffer.alloc(0));
    }
    const timer = setTimeout(() => {
      finish({ status: 'invalid', reason: 'timed out waiting for the PROXY protocol header' }, buffered);
    }, timeout);
    timer.unref();
    socket.on('readable', socketOnReadable);
    socket.on('end', socketOnEnd);
    socket.on('close', socketOnEnd);
    socket.on('error', socketOnError);
  });
}
