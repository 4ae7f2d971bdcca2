import type { Socket } from 'node:net';

/**
 * One request of a client connection, waiting for its turn or in flight.
 * @internal
 */
export interface QueuedExchange {
  /** Starts the exchange; it calls {@link ClientConnectionQueue.done} once it is over, whatever the outcome. */
  start(): void;
  /** Ends the exchange now: its client connection is gone. Must end in {@link ClientConnectionQueue.done}. */
  clientGone(): void;
}

/**
 * Pipelined requests queued per connection before the client socket stops being read.
 *
 * @remarks
 * Node's HTTP server parses a whole read (up to 64 KiB, some 2,000 small requests) at once and emits a request for
 * each; nothing can stop that mid-read. Past this many waiting requests the socket is not read again until the
 * queue is short, so one connection holds at most one read's worth of parsed requests beyond this bound.
 */
const MAX_WAITING = 32;

/** Symbol under which a client socket carries its queue; made on its first request. */
const kQueue = Symbol('switchboard.clientQueue');

type QueuedSocket = Socket & { [kQueue]?: ClientConnectionQueue };

/** The libuv handle of a socket, reached to stop reading: `socket.pause()` does not stop Node's HTTP parser. */
interface ReadHandle {
  readStop?: () => number;
  readStart?: () => number;
}

function socketOnClose(this: QueuedSocket): void {
  this[kQueue]?.clientClosed();
}

/**
 * The requests of one client connection, sent to the backend in arrival order, one at a time.
 *
 * @remarks
 * HTTP/1.1 answers must leave in request order, and Node holds every answer queued behind the one being written
 * without ever reporting `close` or `finish` for it if the client leaves. So only one exchange of a connection is
 * in flight (as nginx and HAProxy do): its answer is the one on the socket, its backpressure is real and its end is
 * always seen. The others wait here without a backend request or a connection-table entry, and are dropped when
 * the socket closes; the exchange in flight is then told its client is gone.
 * @internal
 */
export class ClientConnectionQueue {
  readonly #socket: QueuedSocket;
  #active: QueuedExchange | undefined;
  readonly #waiting: QueuedExchange[] = [];
  #head = 0;
  #readStopped = false;
  #closed = false;
  /** True while {@link ClientConnectionQueue.#run} is starting exchanges. */
  #running = false;

  private constructor(socket: QueuedSocket) {
    this.#socket = socket;
    socket.on('close', socketOnClose);
  }

  /** The queue of `socket`, made on first use. */
  static of(socket: Socket): ClientConnectionQueue {
    const s = socket as QueuedSocket;
    return (s[kQueue] ??= new ClientConnectionQueue(s));
  }

  /** Starts `exchange` now if nothing of this connection is in flight, otherwise after those before it. */
  push(exchange: QueuedExchange): void {
    if (this.#closed) {
      exchange.clientGone();
      return;
    }
    this.#waiting.push(exchange);
    if (this.#active === undefined) this.#run();
    else if (this.#waiting.length - this.#head > MAX_WAITING) this.#stopReading();
  }

  /** Called once by the exchange in flight when it is over: the next one starts. */
  done(exchange: QueuedExchange): void {
    if (exchange !== this.#active) return;
    this.#active = undefined;
    if (!this.#running) this.#run();
  }

  /**
   * Starts waiting exchanges until one stays in flight. A loop, not recursion: refused requests end inside their
   * own start(), and a read can hold thousands of them.
   */
  #run(): void {
    this.#running = true;
    try {
      while (this.#active === undefined && !this.#closed) {
        const next = this.#shift();
        if (next === undefined) return;
        this.#active = next;
        next.start();
      }
    } finally {
      this.#running = false;
    }
  }

  /** @internal */
  clientClosed(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#waiting.length = 0;
    this.#head = 0;
    const active = this.#active;
    this.#active = undefined;
    active?.clientGone();
  }

  #shift(): QueuedExchange | undefined {
    if (this.#head >= this.#waiting.length) return undefined;
    const next = this.#waiting[this.#head]!;
    this.#waiting[this.#head++] = undefined as unknown as QueuedExchange;
    if (this.#head === this.#waiting.length) {
      this.#waiting.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#waiting.length) {
      this.#waiting.splice(0, this.#head);
      this.#head = 0;
    }
    if (this.#readStopped && this.#waiting.length - this.#head <= MAX_WAITING / 2) this.#startReading();
    return next;
  }

  #stopReading(): void {
    if (this.#readStopped) return;
    const handle = (this.#socket as Socket & { _handle?: ReadHandle | null })._handle;
    if (typeof handle?.readStop !== 'function') return;
    this.#readStopped = true;
    // The handle's `reading` flag is left set, so nothing in Node restarts the read behind our back.
    handle.readStop();
  }

  #startReading(): void {
    this.#readStopped = false;
    const handle = (this.#socket as Socket & { _handle?: ReadHandle | null })._handle;
    if (!this.#socket.destroyed && typeof handle?.readStart === 'function') handle.readStart();
  }
}
