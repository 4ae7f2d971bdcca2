import type { Socket } from 'node:net';
import { entryContext, type ConnectionEntry } from '../connection-table';
import { BackendResetError, ClientResetError, IdleTimeoutError, MessageTooBigError, WebSocketProtocolError, type SwitchboardError } from '../errors';
import { FrameTracker, encodeCloseFrame, encodePingFrame } from './ws-frame-tracker';

/**
 * Timing settings of a splice (all in ms; 0 disables).
 * @internal
 */
export interface SpliceOptions {
  readonly halfCloseTimeout: number;
  readonly idleTimeout: number;
  readonly idlePing: boolean;
  /** Follow frame boundaries (needed to send close and ping frames of the proxy's own). */
  readonly frameTracking: boolean;
  /** Largest frame payload / message relayed, in bytes (Infinity: no limit). */
  readonly maxFramePayload: number;
  readonly maxMessageSize: number;
}

const EMPTY = Buffer.alloc(0);

/** How long a peer may take to finish a close the proxy started, in ms. */
const PARTING_GRACE = 1000;

/**
 * The splice a socket belongs to. Listeners and timers are module functions that
 * find their splice through it, instead of about a dozen closures per connection
 * (an idle connection's memory is mostly such per-connection objects).
 */
const kSplice = Symbol('switchboard.splice');
type Spliced = Socket & { [kSplice]: Splice };

function clientOnData(this: Spliced, chunk: Buffer): void {
  this[kSplice].clientData(chunk);
}
function backendOnData(this: Spliced, chunk: Buffer): void {
  this[kSplice].backendRead(chunk);
}
function clientOnDrain(this: Spliced): void {
  this[kSplice].backend.resume();
}
function backendOnDrain(this: Spliced): void {
  this[kSplice].client.resume();
}
function clientOnEnd(this: Spliced): void {
  this[kSplice].clientEnd();
}
function backendOnEnd(this: Spliced): void {
  this[kSplice].backendEnd();
}
function clientOnError(this: Spliced, err: NodeJS.ErrnoException): void {
  this[kSplice].clientError(err);
}
function backendOnError(this: Spliced, err: NodeJS.ErrnoException): void {
  this[kSplice].backendError(err);
}
function socketOnClose(this: Spliced): void {
  this[kSplice].socketClosed();
}
function spliceOnIdleCheck(splice: Splice): void {
  splice.idleCheck();
}
function spliceOnTimer(splice: Splice): void {
  splice.timerFired();
}

/**
 * Told once when a splice ends.
 * @internal
 */
export interface SpliceOwner {
  spliceDone(reason: SwitchboardError | undefined): void;
}

/**
 * Joins a client socket and a backend socket after a WebSocket upgrade.
 *
 * @remarks
 * Bytes are relayed as they arrive, with backpressure both ways: a side whose
 * `write()` returns false pauses the other side's reader until `'drain'`. A FIN
 * from one side is passed on as a FIN (half-close); if the other side has not
 * ended too within `halfCloseTimeout`, both are destroyed, so a peer that never
 * answers a FIN holds nothing. Every exit path funnels into one idempotent
 * `teardown()`, which destroys both sockets and reports once.
 *
 * A {@link FrameTracker} per direction follows frame boundaries (headers only,
 * payloads are never copied), so the proxy can speak for itself: a close frame
 * injected between two frames when it shuts down ({@link Splice.requestClose}),
 * or when the backend vanishes without one (1011 to the client instead of a
 * bare TCP reset).
 *
 * Listeners are module functions shared by every splice (no closures per
 * connection or per chunk), and the byte counters live on the table entry, so
 * the hot path allocates nothing.
 * @internal
 */
export class Splice {
  readonly client: Socket;
  readonly backend: Socket;
  readonly #entry: ConnectionEntry;
  readonly #options: SpliceOptions;
  readonly #tracking: boolean;
  readonly #owner: SpliceOwner;
  /** Client -> backend frames (masked). */
  readonly #up: FrameTracker;
  /** Backend -> client frames (unmasked). */
  readonly #down: FrameTracker;
  #clientEnded = false;
  #backendEnded = false;
  #timer: NodeJS.Timeout | undefined;
  /** Idle check: runs once per idleTimeout and compares byte totals, so the hot path pays nothing. */
  #idleTimer: NodeJS.Timeout | undefined;
  #idleBytes = -1;
  #pinged = false;
  #done = false;
  /** Set once the proxy itself is ending the connection (close frames sent or pending). */
  #closing = false;
  #reason: SwitchboardError | undefined;
  /** A close frame waiting for the next boundary in that direction. */
  #pendingToClient: Buffer | undefined;
  #pendingToBackend: Buffer | undefined;
  /** The proxy sent its close that way: nothing more is relayed in that direction. */
  #clientSealed = false;
  #backendSealed = false;

  constructor(
    client: Socket,
    backend: Socket,
    entry: ConnectionEntry,
    options: SpliceOptions,
    owner: SpliceOwner,
  ) {
    this.client = client;
    this.backend = backend;
    this.#entry = entry;
    this.#options = options;
    // Limits need the tracker, whatever frameTracking says.
    this.#tracking = options.frameTracking || Number.isFinite(options.maxFramePayload) || Number.isFinite(options.maxMessageSize);
    const limits = { maxFramePayload: options.maxFramePayload, maxMessageSize: options.maxMessageSize };
    this.#up = new FrameTracker({ masked: true, ...limits });
    this.#down = new FrameTracker({ masked: false, ...limits });
    this.#owner = owner;
    if (options.idleTimeout > 0) this.#idleTimer = setTimeout(spliceOnIdleCheck, options.idleTimeout, this);

    (client as Spliced)[kSplice] = this;
    (backend as Spliced)[kSplice] = this;
    client.on('data', clientOnData);
    client.on('end', clientOnEnd);
    client.on('error', clientOnError);
    client.on('close', socketOnClose);
    client.on('drain', clientOnDrain);
    // A backend socket with its own read buffer never emits 'data': its reads come through backendRead().
    backend.on('data', backendOnData);
    backend.on('end', backendOnEnd);
    backend.on('error', backendOnError);
    backend.on('close', socketOnClose);
    backend.on('drain', backendOnDrain);
    client.setNoDelay(true);
    backend.setNoDelay(true);
  }

  /** Relays bytes read before the splice existed, then starts the flow both ways. */
  start(toClient: Buffer | undefined, toBackend: readonly Buffer[]): void {
    if (toClient !== undefined && toClient.length > 0) this.backendRead(toClient);
    for (const chunk of toBackend) this.clientData(chunk);
    // The HTTP parser left both sockets paused; flowing mode starts the relay.
    this.client.resume();
    this.backend.resume();
  }

  get done(): boolean {
    return this.#done;
  }

  /** Client bytes, relayed to the backend. */
  clientData(chunk: Buffer): void {
    this.#entry.bytesIn += chunk.length;
    if (this.#backendSealed) {
      // The client's answer to our close: once it has come, the client is done.
      this.#up.push(chunk);
      if (this.#up.closeCode !== undefined) this.client.end();
      return;
    }
    if (this.#pendingToBackend !== undefined) {
      this.#flushToBoundary(chunk, this.#up, this.backend, true);
      return;
    }
    if (this.#tracking && !this.#up.push(chunk)) {
      this.#violated(chunk, this.#up, true);
      return;
    }
    if (!this.backend.write(chunk)) this.client.pause();
  }

  /**
   * Backend bytes, relayed to the client. Also called directly for reads into
   * the backend socket's own buffer (read-buffer.ts): the chunk is only valid
   * during this call, so it is written or inspected, never kept.
   */
  backendRead(chunk: Buffer): void {
    this.#entry.bytesOut += chunk.length;
    if (this.#clientSealed) {
      this.#down.push(chunk);
      if (this.#down.closeCode !== undefined) this.backend.end();
      return;
    }
    if (this.#pendingToClient !== undefined) {
      this.#flushToBoundary(chunk, this.#down, this.client, false);
      return;
    }
    if (this.#tracking && !this.#down.push(chunk)) {
      this.#violated(chunk, this.#down, false);
      return;
    }
    if (!this.client.write(chunk)) this.backend.pause();
  }

  /**
   * The tracker of one direction found a violation in `chunk`: a frame or message over the limits (1009) or a
   * frame that breaks RFC 6455 (1002). The complete frames before the offending one are relayed, so that direction
   * stands at a frame boundary; the offending frame and everything after it never are. Its receiver gets the close
   * frame at once, and the sender gets one at the next boundary of its own incoming stream; both directions are
   * sealed. When the offending frame's header began in an earlier chunk (its first bytes are already relayed), no
   * frame can be placed and both sockets are destroyed.
   */
  #violated(chunk: Buffer, tracker: FrameTracker, fromClient: boolean): void {
    // Already ending: whatever the peer sends now is only dropped.
    if (this.#done || this.#closing) return;
    const violation = tracker.violation!;
    const side = fromClient ? 'client' : 'backend';
    const tooBig = violation.code === 1009;
    const err = tooBig
      ? new MessageTooBigError(`${side} sent a frame or message over the limit`, this.#context())
      : new WebSocketProtocolError(`${side} broke the WebSocket framing (${violation.reason})`, this.#context());
    const at = tracker.violationOffset;
    if (at < 0) {
      this.teardown(err);
      return;
    }
    const to = fromClient ? this.backend : this.client;
    if (at > 0) to.write(chunk.subarray(0, at));
    this.#closing = true;
    this.#reason = err;
    const code = err.closeCode;
    const text = tooBig ? 'message too big' : 'protocol error';
    to.write(encodeCloseFrame(code, text, fromClient));
    this.#seal(fromClient);
    if (fromClient) this.#inject(encodeCloseFrame(code, text, false), this.#down, this.client, false);
    else this.#inject(encodeCloseFrame(code, text, true), this.#up, this.backend, true);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(spliceOnTimer, PARTING_GRACE, this);
  }

  /** Relays the rest of the frame in flight, then the pending close frame, and seals that direction. */
  #flushToBoundary(chunk: Buffer, tracker: FrameTracker, to: Socket, toBackend: boolean): void {
    const n = tracker.pushToBoundary(chunk, 0);
    if (n > 0) to.write(n === chunk.length ? chunk : chunk.subarray(0, n));
    if (tracker.violation !== undefined) {
      to.end();
      this.#seal(toBackend);
      return;
    }
    if (!tracker.atBoundary) return;
    const frame = toBackend ? this.#pendingToBackend : this.#pendingToClient;
    if (frame !== undefined) to.write(frame);
    this.#seal(toBackend);
    if (n < chunk.length) {
      // Whatever follows is not relayed; it is only watched for the peer's close reply.
      if (toBackend) this.clientData(chunk.subarray(n));
      else this.backendRead(chunk.subarray(n));
      if (toBackend) this.#entry.bytesIn -= chunk.length - n;
      else this.#entry.bytesOut -= chunk.length - n;
    }
  }

  #seal(toBackend: boolean): void {
    if (toBackend) {
      this.#pendingToBackend = undefined;
      this.#backendSealed = true;
    } else {
      this.#pendingToClient = undefined;
      this.#clientSealed = true;
    }
  }

  /** The client sent a FIN. */
  clientEnd(): void {
    this.#clientEnded = true;
    this.#halfClosed(this.backend);
  }

  /** The backend sent a FIN. */
  backendEnd(): void {
    this.#backendEnded = true;
    // A FIN with no close frame before it: the backend went away mid-conversation.
    // Not when the client's FIN came first: then it is the backend's answer to it.
    if (this.#tracking && this.#down.closeCode === undefined && !this.#closing && !this.#clientEnded) {
      this.#backendLost(new BackendResetError('backend ended the connection without a close frame', this.#context()));
      return;
    }
    this.#halfClosed(this.client);
  }

  #halfClosed(other: Socket): void {
    if (this.#done) return;
    if (this.#clientEnded && this.#backendEnded) {
      this.teardown(undefined);
      return;
    }
    other.end();
    if (this.#options.halfCloseTimeout === 0) this.teardown(undefined);
    else this.#timer ??= setTimeout(spliceOnTimer, this.#options.halfCloseTimeout, this);
  }

  /** Once per idleTimeout: traffic since the last check, else a ping, else an idle close. */
  idleCheck(): void {
    this.#idleTimer = undefined;
    if (this.#done || this.#closing) return;
    const total = this.#entry.bytesIn + this.#entry.bytesOut;
    if (total !== this.#idleBytes) {
      this.#idleBytes = total;
      this.#pinged = false;
    } else if (this.#options.idlePing && this.#tracking && !this.#pinged && this.#up.atBoundary && this.#down.atBoundary) {
      // A ping each way: live peers answer with a pong, which counts as traffic.
      this.#pinged = true;
      this.client.write(encodePingFrame(EMPTY, false));
      this.backend.write(encodePingFrame(EMPTY, true));
    } else {
      const code = 1001;
      this.requestClose(code, 'idle timeout', PARTING_GRACE, new IdleTimeoutError('no traffic in either direction', this.#context()));
      return;
    }
    this.#idleTimer = setTimeout(spliceOnIdleCheck, this.#options.idleTimeout, this);
  }

  /** The half-close or parting grace period is over. */
  timerFired(): void {
    this.#timer = undefined;
    this.teardown(undefined);
  }

  clientError(err: NodeJS.ErrnoException): void {
    this.teardown(new ClientResetError(`client socket error: ${err.code ?? err.message}`, { cause: err, ...this.#context() }));
  }

  backendError(err: NodeJS.ErrnoException): void {
    this.#backendLost(new BackendResetError(`backend socket error: ${err.code ?? err.message}`, { cause: err, ...this.#context() }));
  }

  /** Either socket closed. */
  socketClosed(): void {
    if (this.#done) return;
    if (this.#closing) {
      // The parting close frame is on its way; wait for the client side only.
      if (this.client.destroyed) this.teardown(undefined);
      return;
    }
    if (this.backend.destroyed && !this.#backendEnded) {
      this.#backendLost(new BackendResetError('backend closed the connection', this.#context()));
    } else {
      this.teardown(undefined);
    }
  }

  /**
   * The backend is gone without a close handshake. When the client stream sits
   * at a frame boundary it gets a close frame with the error's close code
   * (1011) before its socket ends; otherwise its socket is destroyed.
   */
  #backendLost(reason: SwitchboardError): void {
    if (this.#done || this.#closing) return;
    const code = reason.closeCode;
    this.backend.destroy();
    if (code === 0 || !this.#tracking || this.#clientSealed || this.#down.closeCode !== undefined || !this.#down.atBoundary || !this.client.writable) {
      this.teardown(reason);
      return;
    }
    this.#closing = true;
    this.#reason = reason;
    this.client.end(encodeCloseFrame(code, '', false));
    this.#clientSealed = true;
    clearTimeout(this.#timer);
    this.#timer = setTimeout(spliceOnTimer, PARTING_GRACE, this);
  }

  /**
   * Asks both peers to close with `code` and `reason`, each at the next frame
   * boundary of its direction, and destroys what is still open after `timeout` ms.
   * A direction whose peer already sent a close frame gets none (a second close is a protocol error).
   */
  requestClose(code: number, reason: string, timeout: number, report: SwitchboardError | undefined): void {
    if (this.#done || this.#closing) return;
    if (!this.#tracking) {
      // Without frame boundaries no close frame can be placed safely.
      this.teardown(report);
      return;
    }
    this.#closing = true;
    this.#reason = report;
    this.#inject(encodeCloseFrame(code, reason, false), this.#down, this.client, false);
    this.#inject(encodeCloseFrame(code, reason, true), this.#up, this.backend, true);
    clearTimeout(this.#timer);
    this.#timer = setTimeout(spliceOnTimer, timeout, this);
  }

  #inject(frame: Buffer, tracker: FrameTracker, to: Socket, toBackend: boolean): void {
    if (tracker.closeCode !== undefined || (toBackend ? this.#up : this.#down).violation !== undefined) {
      this.#seal(toBackend);
      return;
    }
    if (tracker.atBoundary) {
      to.write(frame);
      this.#seal(toBackend);
    } else if (toBackend) {
      this.#pendingToBackend = frame;
    } else {
      this.#pendingToClient = frame;
    }
  }

  #context(): { backendId: string; clientAddress: string; connectionId: number } {
    return entryContext(this.#entry);
  }

  /** Ends the connection now, once: destroys both sockets and reports `reason`. */
  teardown(reason: SwitchboardError | undefined): void {
    if (this.#done) return;
    this.#done = true;
    clearTimeout(this.#timer);
    clearTimeout(this.#idleTimer);
    this.#timer = undefined;
    this.#idleTimer = undefined;
    this.client.destroy();
    this.backend.destroy();
    this.#owner.spliceDone(reason ?? this.#reason);
  }
}
