import { join } from 'node:path';
import type { Socket } from 'node:net';

/**
 * How a natively relayed connection ended.
 * - `closed`: both sides finished (a FIN each way), or the client finished a close the proxy started.
 * - `client-error`: the client's socket failed (reset, broken pipe); `errno` says which.
 * - `backend-error`: the backend went away (error, or a FIN without a close frame) where no 1011 close frame could be placed.
 * - `destroyed`: {@link NativeRelay.destroy}, or a close request without frame tracking.
 * - `unplaceable`: a limit or protocol violation inside a frame header split across reads: no close frame could be placed.
 * @internal
 */
export type NativeRelayEndHow = 'closed' | 'client-error' | 'backend-error' | 'destroyed' | 'unplaceable';

/**
 * Why the relay itself started ending a connection (`none` when the peers did).
 * @internal
 */
export type NativeRelayCause =
  | 'none'
  | 'requested'
  | 'too-big-client'
  | 'too-big-backend'
  | 'violation-client'
  | 'violation-backend'
  | 'backend-lost';

const HOWS: readonly NativeRelayEndHow[] = ['closed', 'client-error', 'backend-error', 'destroyed', 'unplaceable'];
const CAUSES: readonly NativeRelayCause[] = [
  'none',
  'requested',
  'too-big-client',
  'too-big-backend',
  'violation-client',
  'violation-backend',
  'backend-lost',
];

/**
 * The report of one ended connection.
 * @internal
 */
export interface NativeRelayEnd {
  readonly how: NativeRelayEndHow;
  readonly cause: NativeRelayCause;
  /** The errno of a socket error (0 when none), e.g. 104 for ECONNRESET. */
  readonly errno: number;
  /** Bytes read from the client, including frames the relay did not pass on after its own close. */
  readonly bytesIn: number;
  /** Bytes read from the backend. */
  readonly bytesOut: number;
}

/**
 * What the owner of a natively relayed connection hears. Policy (timers, errors, events) stays in JS:
 * the relay reports, the owner decides and may call {@link NativeRelay.destroy}.
 * @internal
 */
export interface NativeRelayHandler {
  /** `side` sent its FIN first; the FIN was passed on once that side's bytes were out. Time the half-close here. */
  relayHalfClosed?(side: 'client' | 'backend'): void;
  /** The relay placed a close frame of its own (`code`: 1009, 1002 or 1011). Time the parting grace period here. */
  relayClosing?(cause: NativeRelayCause, code: number): void;
  /** Once, when both sockets are closed. */
  relayEnded(end: NativeRelayEnd): void;
}

/**
 * How one connection is relayed, and the bytes read before the hand-over.
 * @internal
 */
export interface NativeAdoptOptions {
  /** Follow frame boundaries (needed for close and ping frames of the proxy's own). Limits turn it on. */
  readonly frameTracking: boolean;
  /** Largest frame payload, in bytes (Infinity: no limit); more ends the connection with 1009. */
  readonly maxFramePayload: number;
  /** Largest message, in bytes (Infinity: no limit); more ends the connection with 1009. */
  readonly maxMessageSize: number;
  /** Raw bytes sent to the client before anything else (the 101 head); never parsed as frames. */
  readonly headToClient?: Buffer;
  /** Frames the backend sent before the hand-over (after its 101 head). */
  readonly toClient?: Buffer;
  /** Frames the client sent before the hand-over. */
  readonly toBackend?: Buffer;
  /**
   * Relay with splice(2) through a pipe per direction (bytes never enter user space). Only when nothing
   * needs tracking (no frame tracking, no limits); ignored otherwise. Costs 4 more fds per connection.
   */
  readonly splice?: boolean;
}

/** The addon's class (native/src/addon.cc). */
interface AddonRelay {
  readonly counters: Float64Array;
  readonly size: number;
  adopt(
    clientFd: number,
    backendFd: number,
    tracking: boolean,
    maxFramePayload: number,
    maxMessageSize: number,
    headToClient: Buffer | null,
    toClient: Buffer | null,
    toBackend: Buffer | null,
    splice: boolean,
  ): number;
  requestClose(id: number, code: number, reason: string): void;
  ping(id: number): void;
  destroy(id: number): void;
  close(): void;
}
type AddonEvent = (kind: number, id: number, a: number, b: number, c: number, bytesIn: number, bytesOut: number) => void;
interface Addon {
  Relay: new (capacity: number, onEvent: AddonEvent) => AddonRelay;
  trackFrames(bytes: Buffer, masked: boolean, maxFramePayload: number, maxMessageSize: number, chunk: number): [number, number, number, number];
}

const EVENT_END = 0;
const EVENT_HALF_CLOSED = 1;
const EVENT_CLOSING = 2;

/**
 * The built addon's path: build/ next to src/ and dist/. `SWITCHBOARD_NATIVE_RELAY` points elsewhere
 * (native/sanitize.sh loads an ASan/UBSan build that way).
 */
export const NATIVE_RELAY_PATH = process.env.SWITCHBOARD_NATIVE_RELAY ?? join(__dirname, '..', '..', 'build', 'Release', 'switchboard_relay.node');

function load(): { addon: Addon | undefined; error: string | undefined } {
  if (process.platform !== 'linux') return { addon: undefined, error: `not supported on ${process.platform}` };
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    return { addon: require(NATIVE_RELAY_PATH) as Addon, error: undefined };
  } catch (err) {
    const message = err instanceof Error ? err.message.split('\n')[0] : String(err);
    return { addon: undefined, error: `native relay not loaded: ${message}` };
  }
}

const loaded = load();

/**
 * Why the native relay is not available (one line for a diagnostic), or `undefined` when it is.
 * @internal
 */
export const nativeRelayLoadError: string | undefined = loaded.error;

/**
 * The C++ frame tracker's verdict on `bytes` read `chunk` bytes at a time: `[frames, messages, closeCode
 * (0: none), violationCode (0: none)]`. Lets a spec hold the port to ws-frame-tracker.ts; no relay involved.
 * @throws Error when the addon is not available.
 * @internal
 */
export function nativeTrackFrames(bytes: Buffer, masked: boolean, maxFramePayload: number, maxMessageSize: number, chunk: number): [number, number, number, number] {
  if (loaded.addon === undefined) throw new Error(loaded.error);
  const limit = (n: number): number => (Number.isFinite(n) ? n : -1);
  return loaded.addon.trackFrames(bytes, masked, limit(maxFramePayload), limit(maxMessageSize), chunk);
}

/** A socket as Node keeps it: its libuv handle knows the file descriptor. */
interface HandleOf {
  _handle?: { fd?: number; readStop?: () => number; readStart?: () => number } | null;
}

/**
 * Why `socket` cannot be handed over to the relay, or `undefined` when it can.
 * @internal
 */
export function handOverRefusal(socket: Socket): string | undefined {
  if ((socket as Socket & { encrypted?: boolean }).encrypted === true) return 'TLS socket: its fd carries ciphertext';
  if (socket.destroyed || !socket.writable) return 'socket closed or ending';
  if (socket.connecting) return 'socket still connecting';
  if (socket.writableLength > 0) return 'bytes still queued in the JS stream';
  if (socket.listenerCount('data') > 0) return "'data' listeners still attached";
  const handle = (socket as Socket & HandleOf)._handle;
  if (handle == null || typeof handle.fd !== 'number' || handle.fd < 0 || typeof handle.readStop !== 'function') {
    return 'no file descriptor';
  }
  return undefined;
}

/** Takes what the JS stream already read from the kernel. */
function drain(socket: Socket): Buffer | null {
  const chunks: Buffer[] = [];
  while (socket.readableLength > 0) {
    const chunk: unknown = socket.read();
    if (chunk === null) break;
    chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  }
  return chunks.length === 0 ? null : chunks.length === 1 ? chunks[0] : Buffer.concat(chunks);
}

/** Codes an endpoint may put on the wire (RFC 6455 section 7.4.1), as encodeCloseFrame() checks them. */
function isSendable(code: number): boolean {
  return Number.isInteger(code) && ((code >= 1000 && code <= 1014 && (code < 1004 || code > 1006)) || (code >= 3000 && code <= 4999));
}

/**
 * The native data plane: one relay thread (edge-triggered epoll) carrying many WebSocket connections
 * after their 101, frame headers tracked in C++ (native/src). JS keeps the policy: it reads the byte
 * counters live, times idle, half-close and grace periods, and asks for close frames, pings or an end.
 *
 * @remarks
 * A connection is handed over by {@link NativeRelay.adopt}: what the JS streams already read is taken, the
 * handles stop reading, the addon dup()s both fds, and the JS sockets are destroyed (never `end()`ed: a
 * shutdown would act on the socket the relay now owns). TLS sockets and sockets with queued writes are refused.
 * @example
 * ```ts
 * const relay = new NativeRelay();
 * const id = relay.adopt(client, backend, { frameTracking: true, maxFramePayload: Infinity, maxMessageSize: Infinity }, {
 *   relayEnded: (end) => console.log(end.how, end.bytesIn, end.bytesOut),
 * });
 * if (id !== false) relay.requestClose(id, 1001, 'shutting down');
 * ```
 * @internal
 */
export class NativeRelay {
  readonly #native: AddonRelay;
  readonly #counters: Float64Array;
  /** Owner of each live id. */
  readonly #handlers: (NativeRelayHandler | undefined)[] = [];
  #closed = false;

  /**
   * @param capacity - most connections at once (fixed: one counter slot each).
   * @throws Error when the addon is not available ({@link nativeRelayLoadError} says why).
   */
  constructor(capacity = 16384) {
    if (loaded.addon === undefined) throw new Error(loaded.error);
    this.#native = new loaded.addon.Relay(capacity, (kind, id, a, b, c, bytesIn, bytesOut) =>
      this.#event(kind, id, a, b, c, bytesIn, bytesOut),
    );
    this.#counters = this.#native.counters;
  }

  /** `true` when the addon loaded. */
  static get available(): boolean {
    return loaded.addon !== undefined;
  }

  /** Connections not yet reported ended. */
  get size(): number {
    return this.#native.size;
  }

  /**
   * Hands `client` and `backend` over to the relay and destroys the JS sockets; returns the connection id,
   * or `false` (sockets untouched) when either cannot be handed over ({@link handOverRefusal} says why).
   * Detach every listener of the sockets first: they are destroyed here, which emits 'close', and taking
   * their buffered bytes may emit 'end'. `handler` should not close over the sockets (an object literal
   * made where they are in scope does): it lives as long as the connection and would keep them in memory.
   */
  adopt(client: Socket, backend: Socket, options: NativeAdoptOptions, handler: NativeRelayHandler): number | false {
    if (this.#closed || handOverRefusal(client) !== undefined || handOverRefusal(backend) !== undefined) return false;
    const clientHandle = (client as Socket & HandleOf)._handle!;
    const backendHandle = (backend as Socket & HandleOf)._handle!;
    const fromClient = drain(client);
    const fromBackend = drain(backend);
    // Stop reading before the dup: from here every byte stays in the kernel for the relay.
    clientHandle.readStop!();
    backendHandle.readStop!();
    const toClient =
      fromBackend === null ? (options.toClient ?? null) : options.toClient === undefined ? fromBackend : Buffer.concat([options.toClient, fromBackend]);
    const toBackend =
      fromClient === null ? (options.toBackend ?? null) : options.toBackend === undefined ? fromClient : Buffer.concat([options.toBackend, fromClient]);
    let id: number;
    try {
      id = this.#native.adopt(
        clientHandle.fd!,
        backendHandle.fd!,
        options.frameTracking,
        Number.isFinite(options.maxFramePayload) ? options.maxFramePayload : -1,
        Number.isFinite(options.maxMessageSize) ? options.maxMessageSize : -1,
        options.headToClient ?? null,
        toClient,
        toBackend,
        options.splice === true,
      );
    } catch {
      // Out of fds or slots: the JS path keeps the sockets, with what they had read.
      if (fromClient !== null) client.unshift(fromClient);
      if (fromBackend !== null) backend.unshift(fromBackend);
      clientHandle.readStart?.();
      backendHandle.readStart?.();
      return false;
    }
    this.#handlers[id] = handler;
    client.destroy();
    backend.destroy();
    return id;
  }

  /** Bytes read from the client so far, live (no round trip to the relay thread). */
  bytesIn(id: number): number {
    return this.#counters[2 * id];
  }

  /** Bytes read from the backend so far, live. */
  bytesOut(id: number): number {
    return this.#counters[2 * id + 1];
  }

  /**
   * A close frame with `code` and `reason` to each peer at the next frame boundary of its direction
   * (none toward a peer whose stream already carried a close). The end follows when the client has
   * closed; time a grace period and call {@link NativeRelay.destroy} if it does not.
   * @throws RangeError when `code` may not be sent in a close frame.
   */
  requestClose(id: number, code: number, reason: string): void {
    if (!isSendable(code)) throw new RangeError(`close code ${code} may not be sent in a close frame.`);
    if (this.#handlers[id] !== undefined) this.#native.requestClose(id, code, reason);
  }

  /** An empty ping each way at the next frame boundary (frame tracking only). */
  ping(id: number): void {
    if (this.#handlers[id] !== undefined) this.#native.ping(id);
  }

  /** Closes both sockets now; the end is reported as `destroyed` (unless it ended first). */
  destroy(id: number): void {
    if (this.#handlers[id] !== undefined) this.#native.destroy(id);
  }

  /** Stops the relay thread; connections still open are closed without a report. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#native.close();
    this.#handlers.length = 0;
  }

  #event(kind: number, id: number, a: number, b: number, c: number, bytesIn: number, bytesOut: number): void {
    const handler = this.#handlers[id];
    if (handler === undefined) return;
    if (kind === EVENT_END) {
      this.#handlers[id] = undefined;
      handler.relayEnded({ how: HOWS[a] ?? 'destroyed', cause: CAUSES[b] ?? 'none', errno: c, bytesIn, bytesOut });
    } else if (kind === EVENT_HALF_CLOSED) {
      handler.relayHalfClosed?.(a === 0 ? 'client' : 'backend');
    } else if (kind === EVENT_CLOSING) {
      handler.relayClosing?.(CAUSES[a] ?? 'none', b);
    }
  }
}
