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
 * Bytes of the per-socket buffer of a quiet connection: a WebSocket chat or
 * ping-pong frame fits; taken from Node's shared allocation pool.
 */
const SMALL = 1024;
/** Bytes of the buffer of a busy connection: what Node itself reads at most per call. */
const LARGE = 64 * 1024;
