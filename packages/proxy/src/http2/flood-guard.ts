/**
 * Per-connection counters for the HTTP/2 floods nghttp2 does not stop on its own, or stops too late: rapid reset
 * (streams opened and reset before any answer), PING and SETTINGS floods. Measured on Node 20.20 / nghttp2 1.61
 * with the frames the floods test sends: 20,000 PINGs or SETTINGS frames are all acknowledged without a word, and
 * a rapid reset is cut only after some 1,000 streams (nghttp2's reset rate limit, GOAWAY INTERNAL_ERROR), each of
 * which has reached the proxy as a request by then.
 * @packageDocumentation
 */
import { constants, type Http2Session, type ServerHttp2Stream } from 'node:http2';
import type { ResolvedHttp2Options } from './http2-options';

/** How long a flooding connection's GOAWAY gets to reach the client before the connection is destroyed, in ms. */
const GOAWAY_GRACE = 1000;

/** Stops reading the connection's socket (its libuv handle: the session consumes it natively). */
function stopReading(session: Http2Session): void {
  const handle = (session.socket as { _handle?: { readStop?: () => number } | null } | undefined)?._handle;
  if (typeof handle?.readStop === 'function') handle.readStop();
}

/** Which flood a connection was cut off for. @internal */
export type FloodKind = 'resets' | 'pings' | 'settings';

const kGuard = Symbol('switchboard.h2FloodGuard');

type GuardedSession = Http2Session & { [kGuard]?: SessionFloodGuard };

/**
 * True once a connection has been cut off for a flood. nghttp2 goes on through the rest of the bytes it already
 * read (a 64 KiB read holds thousands of frames), so requests can still arrive on it: they are refused at once,
 * without a backend request.
 * @internal
 */
export function isCutOff(session: Http2Session | undefined): boolean {
  return session !== undefined && (session as GuardedSession)[kGuard]?.tripped === true;
}

type GuardedStream = ServerHttp2Stream & { [kGuard]?: SessionFloodGuard };

/**
 * A stream the client reset before the proxy began its answer counts towards the rapid-reset limit. Streams reset
 * after their headers went out (a cancelled download) and streams the proxy ended itself do not: those have
 * `headersSent`, or close with NO_ERROR.
 */
function streamOnClose(this: GuardedStream): void {
  if (this.rstCode !== constants.NGHTTP2_NO_ERROR && !this.headersSent) this[kGuard]?.count('resets');
}

/**
 * Counts one client connection's resets, PINGs and SETTINGS frames over a fixed window; past a limit it sends GOAWAY
 * ENHANCE_YOUR_CALM, destroys the session (ending every stream on it, and with them their table entries), and
 * reports the flood once.
 * @internal
 */
export class SessionFloodGuard {
  readonly #session: Http2Session;
  readonly #limits: ResolvedHttp2Options;
  readonly #onFlood: (kind: FloodKind, session: Http2Session) => void;
  #windowStart = Date.now();
  #resets = 0;
  #pings = 0;
  #settings = 0;
  #tripped = false;

  constructor(session: Http2Session, limits: ResolvedHttp2Options, onFlood: (kind: FloodKind, session: Http2Session) => void) {
    this.#session = session;
    this.#limits = limits;
    this.#onFlood = onFlood;
    (session as GuardedSession)[kGuard] = this;
    session.on('ping', () => this.count('pings'));
    session.on('remoteSettings', () => this.count('settings'));
    session.on('stream', (stream: GuardedStream) => {
      stream[kGuard] = this;
      stream.once('close', streamOnClose);
    });
  }

  /** @internal */
  get tripped(): boolean {
    return this.#tripped;
  }

  /** @internal */
  count(kind: FloodKind): void {
    if (this.#tripped || this.#session.destroyed) return;
    const now = Date.now();
    if (now - this.#windowStart >= this.#limits.floodInterval) {
      this.#windowStart = now;
      this.#resets = 0;
      this.#pings = 0;
      this.#settings = 0;
    }
    let over: boolean;
    switch (kind) {
      case 'resets':
        over = ++this.#resets > this.#limits.maxResets;
        break;
      case 'pings':
        over = ++this.#pings > this.#limits.maxPings;
        break;
      case 'settings':
        over = ++this.#settings > this.#limits.maxSettings;
        break;
    }
    if (over) this.#trip(kind);
  }

  #trip(kind: FloodKind): void {
    this.#tripped = true;
    const session = this.#session;
    this.#onFlood(kind, session);
    // Out of the frame callback that got here: nghttp2 cannot send from inside its own receive loop.
    setImmediate(() => {
      if (session.destroyed) return;
      session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
      // Nothing more is read from the flooder. Closing at once would lose the GOAWAY: a socket closed with unread
      // bytes in it sends a TCP RST, and the client's kernel drops what it had not read yet, GOAWAY included.
      stopReading(session);
      const timer = setTimeout(() => {
        if (!session.destroyed) session.destroy(undefined, constants.NGHTTP2_ENHANCE_YOUR_CALM);
      }, GOAWAY_GRACE);
      timer.unref();
      session.once('close', () => clearTimeout(timer));
    });
  }
}
