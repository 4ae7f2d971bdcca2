/**
 * Bytes of a busy socket's own buffer: what Node itself reads at most per call.
 */
const LARGE = 64 * 1024;

/**
 * Reads of at most this many bytes are copied out of the shared buffer; a
 * larger one moves the socket to a buffer of its own. A small copy comes from
 * Node's allocation pool, far cheaper than the 64 KiB Node allocates per read
 * without `onread`.
 */
const COPY_LIMIT = 1024;

/**
 * The buffer every quiet backend socket reads into. Safe to share because what
 * is read into it is always copied out during the read's callback, so nothing
 * refers to it once the callback returns.
 */
const SHARED = Buffer.allocUnsafeSlow(LARGE);

/**
 * Which buffer one backend socket reads into next (Node's `onread` option).
 *
 * @remarks
 * Without `onread`, Node allocates a fresh 64 KiB buffer for every read. At
 * hundreds of MB/s that is external memory churn, and once the heap is past
 * V8's incremental-marking threshold (about 8 MB, so in any real application)
 * it sets off a mark-compact every ~100 ms: measured as the whole of
 * Switchboard's extra CPU per streamed MB (docs/benchmarks.md). With `onread`
 * the socket reads into a buffer we hand it, and keeps that buffer until we
 * hand it another one after a read.
 *
 * Two modes. A quiet socket reads into the one {@link SHARED} buffer and its
 * bytes are copied out, so an idle connection holds no buffer at all. A read
 * over {@link COPY_LIMIT} gives the socket a 64 KiB buffer of its own, relayed
 * in place without copies, until a small read sends it back to the shared one.
 *
 * An own buffer may be reused only once nothing refers to the bytes read into
 * it: a `write()` of a view of it that did not complete synchronously keeps the
 * view until it is flushed, so such a read "lends" the buffer away and the next
 * read gets another one. An own buffer cannot be shared with other sockets: a
 * socket keeps reading into the buffer it was last given, even while another
 * socket's pending write still points into it.
 * @internal
 */
export class ReadBuffer {
  /** The buffer the socket reads into next. */
  current: Buffer = SHARED;

  /** True while reads land in the shared buffer: they must be copied before the callback returns. */
  get shared(): boolean {
    return this.current === SHARED;
  }

  /**
   * Picks the buffer for the next read, after a read of `nread` bytes into
   * {@link ReadBuffer.current}; `lent` says that bytes of an own buffer are still referenced.
   * @example
   * const rb = new ReadBuffer();
   * rb.next(64 * 1024, false); // a bulk read: the next one goes to a buffer of the socket's own
   * rb.next(60, false); // quiet again: back to the shared buffer
   */
  next(nread: number, lent: boolean): Buffer {
    if (nread <= COPY_LIMIT) {
      // A lent own buffer stays with its pending write; the garbage collector frees it after.
      this.current = SHARED;
    } else if (this.current === SHARED || lent) {
      this.current = Buffer.allocUnsafeSlow(LARGE);
    }
    return this.current;
  }
}

/**
 * Where a backend socket's reads go.
 * @internal
 */
export interface ReadSink {
  /** One read; `chunk` is valid during this call only unless it was copied. */
  backendRead(chunk: Buffer): void;
}

/**
 * Wires a {@link ReadBuffer} into a backend socket (`net.connect({ onread })`)
 * and routes its reads: until the 101, copied to the handshake (which keeps
 * bytes across reads); then to the splice, in place when they were read into
 * a buffer of the socket's own, copied when they were read into the shared one.
 * @internal
 */
export class BackendReader {
  readonly #buffer = new ReadBuffer();
  readonly #client: { readonly writableLength: number };
  #sink: ReadSink;
  #relaying = false;
  /** The `onread` option for `net.connect()`. */
  readonly onread: { buffer: () => Buffer; callback: (nread: number, buf: Buffer) => boolean };

  /**
   * @param client - where the relayed bytes are written: a pending write there means an own buffer is lent.
   * @example
   * const reader = new BackendReader(clientSocket, { backendRead: (chunk) => handshake.push(chunk) });
   * const backend = net.connect({ host, port, onread: reader.onread });
   */
  constructor(client: { readonly writableLength: number }, sink: ReadSink) {
    this.#client = client;
    this.#sink = sink;
    this.onread = {
      buffer: () => this.#buffer.current,
      callback: (nread, buf) => this.#read(nread, buf),
    };
  }

  /** From now on, reads go to `sink` (the splice). */
  relayTo(sink: ReadSink): void {
    this.#sink = sink;
    this.#relaying = true;
  }

  #read(nread: number, buf: Buffer): boolean {
    const chunk = nread === buf.length ? buf : buf.subarray(0, nread);
    // Decided before the sink runs: the read that carries the 101 switches to relaying inside it.
    const relaying = this.#relaying;
    if (buf !== this.#buffer.current || this.#buffer.shared) {
      // The shared buffer (or one already replaced): nothing may keep referring to it.
      this.#sink.backendRead(Buffer.from(chunk));
      if (relaying) this.#buffer.next(nread, false);
    } else {
      this.#sink.backendRead(chunk);
      this.#buffer.next(nread, this.#client.writableLength > 0);
    }
    // Pausing is the sink's job: socket.pause() stops the reads.
    return true;
  }
}
