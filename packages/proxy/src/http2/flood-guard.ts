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

/** Which flood a connection was cut off for. @internal */
export type FloodKind = 'resets' | 'pings' | 'settings';

const kGuard = Symbol('switchboard.h2FloodGuard');

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
    session.on('ping', () => this.count('pings'));
    session.on('remoteSettings', () => this.count('settings'));
    session.on('stream', (stream: GuardedStream) => {
      stream[kGuard] = this;
      stream.once('close', streamOnClose);
    });
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
    // GOAWAY now, so the client hears why; the session is destroyed once the frame callback that got here returned.
    session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    setImmediate(() => {
      if (!session.destroyed) session.destroy(undefined, constants.NGHTTP2_ENHANCE_YOUR_CALM);
    });
    this.#onFlood(kind, session);
  }
}
