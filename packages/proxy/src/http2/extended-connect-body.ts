/**
 * Decodes an HTTP/1.1 chunked body into its data, for a refused WebSocket over HTTP/2: the upgrade path relays a
 * backend's refusal byte for byte (chunk sizes included), while an HTTP/2 response carries plain DATA frames. The
 * trailer section is dropped: the HTTP/2 answer to an extended CONNECT ends with its body.
 * @internal
 */

type State = 'size' | 'ext' | 'size-lf' | 'data' | 'data-cr' | 'data-lf' | 'trailer' | 'trailer-lf' | 'done';

/** Longest chunk-size line accepted (hex digits and extensions). */
const MAX_SIZE_LINE = 1024;

/** @internal */
export class ChunkedDecoder {
  #state: State = 'size';
  #size = 0;
  #digits = 0;
  #line = 0;
  /** Bytes in the current trailer line (0 at its start: an empty line ends the body). */
  #trailerLine = 0;
  #failed = false;

  get done(): boolean {
    return this.#state === 'done';
  }

  get failed(): boolean {
    return this.#failed;
  }

  /** The data bytes in `chunk` (slices of it); stops at the body's end. Sets `failed` on a malformed body. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let i = 0;
    while (i < chunk.length && !this.#failed && this.#state !== 'done') {
      if (this.#state === 'data') {
        const take = Math.min(this.#size, chunk.length - i);
        out.push(chunk.subarray(i, i + take));
        i += take;
        this.#size -= take;
        if (this.#size === 0) this.#state = 'data-cr';
        continue;
      }
      this.#step(chunk[i]!);
      i++;
    }
    return out;
  }

  #step(c: number): void {
    if (++this.#line > MAX_SIZE_LINE && (this.#state === 'size' || this.#state === 'ext')) {
      this.#failed = true;
      return;
    }
    switch (this.#state) {
      case 'size': {
        const digit = hexValue(c);
        if (digit >= 0) {
          this.#size = this.#size * 16 + digit;
          if (++this.#digits > 12) this.#failed = true;
        } else if (c === 0x3b /* ; */ && this.#digits > 0) this.#state = 'ext';
        else if (c === 0x0d && this.#digits > 0) this.#state = 'size-lf';
        else this.#failed = true;
        return;
      }
      case 'ext':
        if (c === 0x0d) this.#state = 'size-lf';
        return;
      case 'size-lf':
        if (c !== 0x0a) this.#failed = true;
        else if (this.#size === 0) this.#state = 'trailer';
        else this.#state = 'data';
        return;
      case 'data-cr':
        if (c === 0x0d) this.#state = 'data-lf';
        else this.#failed = true;
        return;
      case 'data-lf':
        if (c !== 0x0a) this.#failed = true;
        else this.#reset();
        return;
      case 'trailer':
        if (c === 0x0d) this.#state = 'trailer-lf';
        else this.#trailerLine++;
        return;
      case 'trailer-lf':
        if (c !== 0x0a) this.#failed = true;
        else if (this.#trailerLine === 0) this.#state = 'done';
        else {
          this.#trailerLine = 0;
          this.#state = 'trailer';
        }
        return;
      default:
        return;
    }
  }

  #reset(): void {
    this.#state = 'size';
    this.#size = 0;
    this.#digits = 0;
    this.#line = 0;
  }
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
