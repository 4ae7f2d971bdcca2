import { BackendReader, ReadBuffer } from '../../../src/websocket/read-buffer';

describe('ReadBuffer (which buffer a backend socket reads into next)', () => {
  it('starts on the shared buffer, and stays there while reads are small: a quiet connection holds no buffer', () => {
    const rb = new ReadBuffer();
    const other = new ReadBuffer();
    expect(rb.shared).toBe(true);
    expect(rb.current).toBe(other.current);
    expect(rb.next(64, false)).toBe(other.current);
    expect(rb.next(1024, false)).toBe(other.current);
    expect(rb.shared).toBe(true);
  });

  it('gives a socket a 64 KiB buffer of its own after a large read, and keeps it while reads stay large', () => {
    const rb = new ReadBuffer();
    const own = rb.next(1025, false);
    expect(rb.shared).toBe(false);
    expect(own.length).toBe(64 * 1024);
    expect(rb.next(65536, false)).toBe(own);
    expect(rb.next(5000, false)).toBe(own);
  });

  it('goes back to the shared buffer after a small read', () => {
    const rb = new ReadBuffer();
    const shared = rb.current;
    rb.next(65536, false);
    expect(rb.next(100, false)).toBe(shared);
    expect(rb.shared).toBe(true);
  });

  it('never hands out an own buffer that a pending write still references', () => {
    const rb = new ReadBuffer();
    const own = rb.next(65536, false);
    const next = rb.next(65536, true);
    expect(next).not.toBe(own);
    expect(next.length).toBe(64 * 1024);
    // A small read into a lent own buffer: back to the shared buffer, which is never lent.
    expect(rb.next(10, true)).toBe(new ReadBuffer().current);
  });
});

describe('BackendReader (routes a backend socket onread reads)', () => {
  /** Simulates Node's onread loop: the socket reads into whatever buffer() handed out last. */
  function simulate(reader: BackendReader) {
    let buf = reader.onread.buffer();
    return (bytes: Buffer): Buffer => {
      const target = buf;
      bytes.copy(target, 0);
      reader.onread.callback(bytes.length, target);
      buf = reader.onread.buffer();
      return target;
    };
  }

  it('copies handshake reads out of the shared buffer, so the handshake may keep them', () => {
    const kept: Buffer[] = [];
    const reader = new BackendReader({ writableLength: 0 }, { backendRead: (c) => kept.push(c) });
    const read = simulate(reader);
    const first = read(Buffer.from('HTTP/1.1 101'));
    const second = read(Buffer.from(' Switching'));
    // Both reads went into the same shared buffer, yet what was kept is intact.
    expect(second).toBe(first);
    expect(Buffer.concat(kept).toString()).toBe('HTTP/1.1 101 Switching');
  });

  it('after relayTo() (called while the 101 is read), copies small reads and hands large ones in place in a buffer of its own', () => {
    // The chunk is valid during the call only (the buffer may be reused): note its text and where it lives.
    const seen: { text: string; buffer: ArrayBufferLike; offset: number }[] = [];
    const relay = { backendRead: (c: Buffer) => seen.push({ text: c.toString('latin1', 0, 7), buffer: c.buffer, offset: c.byteOffset }) };
    // As the tunnel does: the read that carries the 101 switches the reader to the splice.
    const reader: BackendReader = new BackendReader({ writableLength: 0 }, { backendRead: () => reader.relayTo(relay) });
    const shared = new ReadBuffer().current;
    const read = simulate(reader);
    expect(read(Buffer.from('head'))).toBe(shared);
    const big = (tag: string): Buffer => Buffer.concat([Buffer.from(tag), Buffer.alloc(4000, 0x61)]);
    // Small: read into the shared buffer, handed on as a copy.
    expect(read(Buffer.from('small-1'))).toBe(shared);
    expect(seen[0]!.buffer === shared.buffer && seen[0]!.offset === shared.byteOffset).toBe(false);
    // Large: the first still lands in the shared buffer (copied); the next ones in an own buffer, in place, reused.
    expect(read(big('large-1'))).toBe(shared);
    const a = read(big('large-2'));
    const b = read(big('large-3'));
    expect(a).not.toBe(shared);
    expect(b).toBe(a);
    expect(seen.map((c) => c.text)).toEqual(['small-1', 'large-1', 'large-2', 'large-3']);
    expect(seen[2]!.buffer).toBe(a.buffer);
    expect(seen[2]!.offset).toBe(a.byteOffset);
    // Quiet again: back to the shared buffer.
    read(Buffer.from('small-2'));
    expect(read(Buffer.from('small-3'))).toBe(shared);
  });

  it('copies a read that lands in the shared buffer even when relayTo() was called outside a read', () => {
    const seen: Buffer[] = [];
    const reader = new BackendReader({ writableLength: 0 }, { backendRead: () => undefined });
    const read = simulate(reader);
    read(Buffer.from('head'));
    reader.relayTo({ backendRead: (c) => seen.push(c) });
    const target = read(Buffer.from('frame-1'));
    // The socket reads over the shared buffer again: what the sink kept must not change.
    target.fill(0);
    expect(seen.map((c) => c.toString())).toEqual(['frame-1']);
  });

  it('moves to a new buffer after a read whose bytes a pending write still holds', () => {
    const client = { writableLength: 0 };
    const seen: string[] = [];
    const reader: BackendReader = new BackendReader(client, { backendRead: () => reader.relayTo({ backendRead: (c) => seen.push(c.toString('latin1', 0, 8)) }) });
    const read = simulate(reader);
    read(Buffer.from('head'));
    const big = (tag: string): Buffer => Buffer.concat([Buffer.from(tag), Buffer.alloc(4000, 0x61)]);
    read(big('bulk-one'));
    const own = read(big('bulk-two'));
    client.writableLength = 10; // the write of the next read does not complete
    expect(read(big('pending!'))).toBe(own);
    client.writableLength = 0;
    const after = read(big('bulk-end'));
    expect(after).not.toBe(own);
    expect(seen).toEqual(['bulk-one', 'bulk-two', 'pending!', 'bulk-end']);
  });
});
