/**
 * The reusable read buffer of one backend socket (Node's `onread` option).
 *
 * @remarks
 * Without `onread`, Node allocates a fresh 64 KiB buffer for every read. At
 * hundreds of MB/s that is external memory churn, and once the heap is past
 * V8's incremental-marking threshold (about 8 MB, so in any real application)
 * it sets off a mark-compact every ~100 ms: measured as the whole of
 * Switchboard's extra CPU per streamed MB (docs/benchmarks.md). With `onread`
 * the socket reads into a buffer we hand it, and keeps that buffer until we
 * hand it another one after each read.
 *
 * The buffer belongs to one socket only. It may be reused once the bytes read
 * into it are no longer referenced: a `write()` of a view of it that did not
 * complete synchronously keeps the view until it is flushed, so such a read
 * "lends" the buffer away and the next read gets a new one. Sharing one buffer
 * between sockets is not possible: a socket keeps reading into the buffer it
 * was last given, even while another socket's pending write still points into it.
 *
 * Sizes: small by default, so an idle connection holds little; after a read
 * that fills it, a large one (bulk transfer), and back to the small one after a
 * small read.
 * @internal
 */
export class ReadBuffer {
  /** The buffer the socket reads into next. */
  current: Buffer;
  #small: Buffer;

  constructor() {
    this.#small = Buffer.allocUnsafe(SMALL);
    this.current = this.#small;
  }


  /**
   * Picks the buffer for the next read, after a read of `nread` bytes into
   * {@link ReadBuffer.current}; `lent` says that bytes of it are still referenced.
   * @example
   * const rb = new ReadBuffer();
   * rb.next(rb.current.length, false); // a full read: the next one gets the large buffer
   */
  next(nread: number, lent: boolean): Buffer {
    const wasSmall = this.current === this.#small;
    if (lent) {
      // The old one stays with the pending write; the garbage collector frees it after.
      if (wasSmall) {
        this.#small = Buffer.allocUnsafe(SMALL);
        this.current = nread === SMALL ? Buffer.allocUnsafeSlow(LARGE) : this.#small;
      } else {
        this.current = nread <= SMALL ? this.#small : Buffer.allocUnsafeSlow(LARGE);
      }
    } else if (wasSmall) {
      if (nread === SMALL) this.current = Buffer.allocUnsafeSlow(LARGE);
    } else if (nread <= SMALL) {
      this.current = this.#small;
    }
    return this.current;
  }
}

/**
 * Bytes of the per-socket buffer of a quiet connection: a typical chat or
 * ping-pong frame fits; taken from Node's shared allocation pool.
 */
const SMALL = 512;
/** Bytes of the buffer of a busy connection: what Node itself reads at most per call. */
const LARGE = 64 * 1024;

/**
 * Every backend socket reads into this one buffer during its handshake. Safe to
 * share because those reads are always copied out at once, so nothing ever
 * refers to it after the read's callback; a socket moves to its own buffer
 * after the read that carried the 101.
 */
const HANDSHAKE_BUFFER = Buffer.allocUnsafeSlow(LARGE);

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
 * and routes its reads: until the 101, read into a buffer shared by all
 * handshakes and copied to the handshake (which keeps bytes across reads);
 * then read into the socket's own buffer and handed in place to the splice.
 * @internal
 */
export class BackendReader {
  /** Made when relaying starts: a connection still in its handshake holds none. */
  #buffer: ReadBuffer | undefined = undefined;
  readonly #client: { readonly writableLength: number };
  #sink: ReadSink;
  /** The `onread` option for `net.connect()`. */
  readonly onread: { buffer: () => Buffer; callback: (nread: number, buf: Buffer) => boolean };

  /**
   * @param client - where the relayed bytes are written: a pending write there means the buffer is lent.
   * @example
   * const reader = new BackendReader(clientSocket, { backendRead: (chunk) => handshake.push(chunk) });
   * const backend = net.connect({ host, port, onread: reader.onread });
   */
  constructor(client: { readonly writableLength: number }, sink: ReadSink) {
    this.#client = client;
    this.#sink = sink;
    this.onread = {
      buffer: () => this.#buffer?.current ?? HANDSHAKE_BUFFER,
      callback: (nread, buf) => this.#read(nread, buf),
    };
  }

  /** From now on, reads go to `sink` in place, without a copy, into a buffer of this socket's own. */
  relayTo(sink: ReadSink): void {
    this.#sink = sink;
    this.#buffer = new ReadBuffer();
  }

  #read(nread: number, buf: Buffer): boolean {
    const chunk = nread === buf.length ? buf : buf.subarray(0, nread);
    if (buf === HANDSHAKE_BUFFER) {
      this.#sink.backendRead(Buffer.from(chunk));
    } else {
      this.#sink.backendRead(chunk);
      this.#buffer!.next(nread, this.#client.writableLength > 0);
    }
    // Pausing is the sink's job: socket.pause() stops the reads.
    return true;
  }
}
