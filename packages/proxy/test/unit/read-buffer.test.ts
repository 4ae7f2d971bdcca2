import { BackendReader, ReadBuffer } from '../../src/read-buffer';

describe('ReadBuffer (the reusable read buffer of a backend socket)', () => {
  it('starts small and keeps reusing the same buffer while nothing holds on to it', () => {
    const rb = new ReadBuffer();
    const first = rb.current;
    expect(first.length).toBe(512);
    expect(rb.next(64, false)).toBe(first);
    expect(rb.next(511, false)).toBe(first);
  });

  it('moves to a 64 KiB buffer after a read that filled the small one, and keeps it for large reads', () => {
    const rb = new ReadBuffer();
    const small = rb.current;
    const large = rb.next(small.length, false);
    expect(large.length).toBe(64 * 1024);
    expect(rb.next(65536, false)).toBe(large);
    expect(rb.next(5000, false)).toBe(large);
  });

  it('goes back to the small buffer after a small read, so a quiet connection holds 512 bytes', () => {
    const rb = new ReadBuffer();
    const small = rb.current;
    rb.next(small.length, false);
    expect(rb.next(100, false)).toBe(small);
  });

  it('never hands out a buffer that a pending write still references', () => {
    const rb = new ReadBuffer();
    const small = rb.current;
    const afterLentSmall = rb.next(10, true);
    expect(afterLentSmall).not.toBe(small);
    expect(afterLentSmall.length).toBe(512);
    // A full small read that was lent: the next read goes to a new large buffer, and the small one is new too.
    const large = rb.next(512, true);
    expect(large.length).toBe(64 * 1024);
    const large2 = rb.next(65536, true);
    expect(large2).not.toBe(large);
    expect(large2.length).toBe(64 * 1024);
    // A small read into a lent large buffer: back to the (unlent) small one.
    const back = rb.next(10, true);
    expect(back).not.toBe(large2);
    expect(back.length).toBe(512);
    expect(back).not.toBe(small);
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

  it("after relayTo() (called while the 101 is read), hands reads in place, in a buffer of the socket's own", () => {
    // The chunk is valid during the call only (the buffer is reused): note its text and where it lives.
    const seen: { text: string; buffer: ArrayBufferLike; offset: number }[] = [];
    const relay = { backendRead: (c: Buffer) => seen.push({ text: c.toString(), buffer: c.buffer, offset: c.byteOffset }) };
    // As the tunnel does: the read that carries the 101 switches the reader to the splice.
    const reader: BackendReader = new BackendReader({ writableLength: 0 }, { backendRead: () => reader.relayTo(relay) });
    const other = new BackendReader({ writableLength: 0 }, { backendRead: () => undefined });
    const shared = other.onread.buffer();
    const read = simulate(reader);
    const head = read(Buffer.from('head'));
    expect(head).toBe(shared);
    const a = read(Buffer.from('frame-1'));
    const b = read(Buffer.from('frame-2'));
    expect(seen.map((c) => c.text)).toEqual(['frame-1', 'frame-2']);
    // In place and reused: both reads went into the same buffer, which is not the shared handshake buffer.
    expect(b).toBe(a);
    expect(a).not.toBe(shared);
    expect(seen[0]!.buffer).toBe(a.buffer);
    expect(seen[0]!.offset).toBe(a.byteOffset);
  });

  it('copies a read that still lands in the shared buffer after relayTo() was called outside a read', () => {
    const seen: Buffer[] = [];
    const reader = new BackendReader({ writableLength: 0 }, { backendRead: () => undefined });
    const read = simulate(reader);
    read(Buffer.from('head'));
    reader.relayTo({ backendRead: (c) => seen.push(c) });
    // The socket was already given the shared buffer for this read: its bytes are copied, never lent.
    const target = read(Buffer.from('frame-1'));
    target.fill(0);
    expect(seen[0]!.toString()).toBe('frame-1');
  });

  it('moves to a new buffer after a read whose bytes a pending write still holds', () => {
    const client = { writableLength: 0 };
    const seen: Buffer[] = [];
    const reader = new BackendReader(client, { backendRead: () => undefined });
    const read = simulate(reader);
    read(Buffer.from('head'));
    reader.relayTo({ backendRead: (c) => seen.push(c) });
    client.writableLength = 10; // the write of this read did not complete
    const a = read(Buffer.from('pending!'));
    client.writableLength = 0;
    const b = read(Buffer.from('next'));
    expect(b).not.toBe(a);
    expect(seen[0]!.toString()).toBe('pending!');
  });
});
